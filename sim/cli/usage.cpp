#include "sim/cli/usage.hpp"

namespace ddlsim::cli {

const char* const usage_text = R"(usage: ddlsim run SCENARIO.json [--print-resolved] [--output DIR] [--quiet]
       ddlsim topo SCENARIO.json [--json] [--dot FILE]
       ddlsim sweep SWEEP.json [-j N] [--resume] [--shard I/N] [--output DIR] [--quiet] [--table ROW,COL]
       ddlsim sweep merge OUT_DIR SHARD_DIR...
       ddlsim scale SCENARIO.json [--gpus LIST] [--methods LIST] [--csv FILE] [-j N]
       ddlsim calibrate [--output PROFILE.json] [--quick]
       ddlsim calibrate --from-nccl-tests LOG... --output NET.json [--op OP] [--ranks N] [--scope S] [--in-place]
       ddlsim calibrate --from-iteration --gpu PROFILE --model M --batch N --time T [--precision P] [--source TEXT]
       ddlsim predict MODEL --gpu PROFILE [--batch N] [--precision P] [--sequence S] [--fusion F] [--attention A] [--json]

  run               simulate the scenario; write report.json, summary.txt (and results.csv for
                    collective workloads, trace.json when output.trace is true) into the
                    scenario's output.dir, and print the summary
  --print-resolved  print the scenario with every default filled in (JSON), then exit
  --output DIR      write the outputs into DIR instead of output.dir
  --quiet           do not print the summary

  topo              describe the scenario's cluster: hosts, switches and links per tier,
                    per-GPU injection bandwidth, bisection bandwidth, diameter in links
  --json            print that description as JSON
  --dot FILE        write the topology as Graphviz to FILE

  sweep             run every point of a sweep (a scenario plus "sweep": {"path": [values]},
                    a grid, or a zip with "mode": "zip") in worker processes; each finished
                    point is appended to DIR/results.jsonl and DIR/results.csv (default DIR:
                    the scenario's output.dir); a failed point is a row with its message
  -j N              worker processes at once (default: the number of cores)
  --resume          continue a sweep whose DIR already holds results: skip the points done
  --table ROW,COL   then print training throughput as a table: a row per value of the swept
                    path ROW, a column per value of COL (e.g. the GRACE codec table)
  --shard I/N       run only the points whose index modulo N is I (0 <= I < N), e.g. one task
                    of a Slurm job array; `sweep merge` combines the shards' folders
  --quiet           no progress on stderr

  scale             the scaling table of a training scenario: throughput and scaling
                    efficiency at 1, 2, 4, ... GPUs up to its cluster's, for each method
  --gpus LIST       GPU counts, e.g. 4,8,16,32 (whole nodes, or one partial node)
  --methods LIST    of bsp-allreduce, wfbp-allreduce, mg-wfbp, bsp-ps, wfbp-ps,
                    bytescheduler-ps, fusion-allreduce (default: the first six)
  --csv FILE        also write the table as CSV

  calibrate         run the CUDA microbenchmarks (calibration/cuda) on this machine's GPU and
                    write a measured profile (--output, default calibration/profiles/NAME.json);
                    --quick takes fewer sizes and repetitions
  --from-nccl-tests fit latency and bus bandwidth to nccl-tests logs (one per scope: one host is
                    intra_node, several inter_node) into a network calibration that scenarios
                    use as a link ("link": "NET.json"); --op all_reduce (default), all_gather,
                    reduce_scatter, broadcast, reduce, alltoall, sendrecv; --ranks and --scope
                    when the log has no rank lines; --in-place fits the in-place column
  --from-iteration  record a single-GPU iteration measured for a model in a profile: scenarios
                    with that profile, model, batch and precision scale their layer times to it

  predict           a single-GPU training iteration (forward + backward) of a zoo model predicted
                    from a GPU profile: matrix products at the profile's GEMM throughput for
                    their shapes, other layers at its memory bandwidth, plus kernel launches;
                    printed next to the GEMM-only and memory-only bounds
  --gpu PROFILE     a shipped profile name or a profile file (.json)
  --batch N         samples (default 32); --precision fp32|tf32|fp16|bf16 (default fp32)
  --sequence S      tokens per sample for transformers (default: the model's)
  --fusion F        none (default): every ReLU, GELU and add its own pass over memory;
                    elementwise: each in the epilogue of the layer before it
  --attention A     materialized (default): scores written and read by their own kernels;
                    flash: one fused kernel each way that recomputes them in backward
  --json            print the prediction as JSON

exit status: 0 success, 2 bad input, 1 simulation failure (sweep: some point failed),
             130 a sweep stopped by SIGINT/SIGTERM (resume it with --resume)
)";

}  // namespace ddlsim::cli
