// ddlsim command line. Only main prints errors and chooses exit codes:
// 0 success, 2 bad input (scenario or command line), 1 failure inside the simulation.
#include "calibration/gpu_profile.hpp"
#include "sim/calibrate.hpp"
#include "sim/error.hpp"
#include "sim/predict.hpp"
#include "sim/report.hpp"
#include "sim/run.hpp"
#include "sim/scaling.hpp"
#include "sim/scenario.hpp"
#include "sim/sweep.hpp"
#include "sim/topology_report.hpp"
#include "sim/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char* USAGE = R"(usage: ddlsim run SCENARIO.json [--print-resolved] [--output DIR] [--quiet]
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

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The value after option args[i] (moving i onto it); a UsageError when there is none.
const std::string& option_value(const std::vector<std::string>& args, std::size_t& i)
{
  if (i + 1 == args.size() || args[i + 1].starts_with("--"))
    throw UsageError(args[i] + " needs a value");
  return args[++i];
}

/// An integer option value from `min` to `max`.
int int_option(const std::string& flag, const std::string& v, long min, long max)
{
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > max)
    throw UsageError(fmt::format("{} expects an integer from {} to {}, found '{}'", flag, min, max, v));
  return static_cast<int>(n);
}

/// The value of -j / --jobs: worker processes, 1 to 4096.
int parse_jobs(const std::string& flag, const std::string& value)
{
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 1 || n > 4096)
    throw UsageError(flag + " expects a number of processes from 1 to 4096, found '" + value + "'");
  return static_cast<int>(n);
}

int run_command(const std::vector<std::string>& args)
{
  std::string path, output;
  bool print_resolved = false, quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--print-resolved")
      print_resolved = true;
    else if (a == "--quiet")
      quiet = true;
    else if (a == "--output") {
      if (i + 1 == args.size())
        throw UsageError("--output needs a folder");
      output = args[++i];
    } else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (path.empty())
      path = a;
    else
      throw UsageError("more than one scenario given ('" + path + "', '" + a + "')");
  }
  if (path.empty())
    throw UsageError("no scenario file given");
  const ddlsim::Scenario scenario = ddlsim::load_scenario(path);
  if (print_resolved) {
    std::fputs((ddlsim::to_json(scenario).dump(2) + "\n").c_str(), stdout);
    return 0;
  }
  const ddlsim::RunResult result = ddlsim::simulate(scenario);
  const std::string dir = output.empty() ? scenario.output.dir : output;
  ddlsim::write_outputs(scenario, result, dir);
  if (!quiet) {
    std::fputs(ddlsim::summary_text(scenario, result.report).c_str(), stdout);
    std::fputs(fmt::format("  outputs             {}/report.json{}\n", dir,
                           result.trace.is_null() ? "" : fmt::format(", {}/trace.json", dir))
                   .c_str(),
               stdout);
  }
  return 0;
}

int topo_command(const std::vector<std::string>& args)
{
  std::string path, dot;
  bool as_json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json")
      as_json = true;
    else if (a == "--dot") {
      if (i + 1 == args.size())
        throw UsageError("--dot needs a file name");
      dot = args[++i];
    } else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (path.empty())
      path = a;
    else
      throw UsageError("more than one scenario given");
  }
  if (path.empty())
    throw UsageError("no scenario file given");
  const ddlsim::Scenario scenario = ddlsim::load_scenario(path);
  const nlohmann::json description = ddlsim::describe_topology(scenario, dot);
  std::fputs(as_json ? (description.dump(2) + "\n").c_str() : ddlsim::topology_text(description).c_str(), stdout);
  return 0;
}

int sweep_command(const std::vector<std::string>& args)
{
  if (!args.empty() && args[0] == "merge") {
    if (args.size() < 3)
      throw UsageError("sweep merge needs an output folder and at least one shard folder");
    const std::size_t rows = ddlsim::merge_sweeps({args.begin() + 2, args.end()}, args[1]);
    std::printf("merged %zu points into %s/results.jsonl and %s/results.csv\n", rows, args[1].c_str(), args[1].c_str());
    return 0;
  }
  std::string path;
  std::pair<std::string, std::string> table;
  ddlsim::SweepOptions options;
  options.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto value_of = [&](std::size_t& i, const std::string& option) {
    if (i + 1 == args.size())
      throw UsageError(option + " needs a value");
    return args[++i];
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--resume")
      options.resume = true;
    else if (a == "--quiet")
      options.progress = false;
    else if (a == "--output")
      options.out_dir = value_of(i, a);
    else if (a == "--table") {
      const std::string v = value_of(i, a);
      const auto comma = v.find(',');
      if (comma == std::string::npos || comma == 0 || comma + 1 == v.size())
        throw UsageError("--table expects two swept paths ROW,COL, found '" + v + "'");
      table = {v.substr(0, comma), v.substr(comma + 1)};
    } else if (a == "-j" || a == "--jobs")
      options.jobs = parse_jobs(a, value_of(i, a));
    else if (a == "--shard") {
      const std::string v = value_of(i, a);
      int index = -1, count = -1;
      char tail = 0;
      if (std::sscanf(v.c_str(), "%d/%d%c", &index, &count, &tail) != 2 || count < 1 || index < 0 || index >= count)
        throw UsageError("--shard expects I/N with 0 <= I < N, found '" + v + "'");
      options.shard_index = index;
      options.shard_count = count;
    } else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (path.empty())
      path = a;
    else
      throw UsageError("more than one sweep file given");
  }
  if (path.empty())
    throw UsageError("no sweep file given");
  const ddlsim::Sweep sweep = ddlsim::load_sweep(path);
  for (const std::string& p : {table.first, table.second})
    if (!p.empty() && std::find(sweep.paths.begin(), sweep.paths.end(), p) == sweep.paths.end())
      throw UsageError("--table names '" + p + "', which " + path + " does not sweep");
  if (options.out_dir.empty())
    options.out_dir = sweep.default_out_dir();
  const ddlsim::SweepSummary s = ddlsim::run_sweep(sweep, options);
  std::printf("sweep %s: %zu points%s: %zu ok, %zu failed now, %zu done before; results in %s/results.csv\n",
              path.c_str(), s.points,
              options.shard_count > 1 ? fmt::format(" in shard {}/{}", options.shard_index, options.shard_count).c_str()
                                      : "",
              s.succeeded, s.failed, s.skipped, options.out_dir.c_str());
  if (s.interrupted) {
    std::fprintf(stderr, "ddlsim: sweep interrupted; run it again with --resume to finish it\n");
    return 130;
  }
  if (!table.first.empty())
    std::printf("\n%s", ddlsim::sweep_table(sweep, options.out_dir, table.first, table.second).c_str());
  return s.failed > 0 ? 1 : 0;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text)
{
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start)
      out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int scale_command(const std::vector<std::string>& args)
{
  std::string path, csv;
  std::vector<int> gpus;
  std::vector<std::string> methods = ddlsim::default_scaling_methods();
  int jobs = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      return option_value(args, i);
    };
    if (a == "--gpus") {
      for (const std::string& g : split_list(value())) {
        char* end = nullptr;
        const long n = std::strtol(g.c_str(), &end, 10);
        if (*end != '\0' || n < 1 || n > 1048576)
          throw UsageError("--gpus expects GPU counts from 1 to 1048576 separated by commas, found '" + g + "'");
        gpus.push_back(static_cast<int>(n));
      }
    } else if (a == "--methods") {
      methods = split_list(value());
    } else if (a == "--csv") {
      csv = value();
    } else if (a == "-j" || a == "--jobs") {
      jobs = parse_jobs(a, value());
    } else if (!a.empty() && a[0] == '-') {
      throw UsageError("unknown option '" + a + "'");
    } else if (path.empty()) {
      path = a;
    } else {
      throw UsageError("more than one scenario given");
    }
  }
  if (path.empty())
    throw UsageError("no scenario file given");
  const ddlsim::Scenario scenario = ddlsim::load_scenario(path);
  if (scenario.kind != ddlsim::WorkloadKind::training)
    throw UsageError("scale needs a training scenario; '" + path + "' is a collective benchmark");
  if (gpus.empty())
    gpus = ddlsim::default_gpu_counts(scenario.cluster.gpus(), scenario.cluster.gpus_per_node);
  const std::vector<ddlsim::ScalingRow> rows = ddlsim::scaling_table(path, gpus, methods, jobs);
  const std::string title =
      fmt::format("{}: {}, batch {} per GPU, {} x {} GPUs, {} network", scenario.name, scenario.model,
                  scenario.training.batch_per_gpu, scenario.cluster.nodes, scenario.cluster.gpus_per_node,
                  scenario.cluster.network.link.preset.empty() ? "inline" : scenario.cluster.network.link.preset);
  std::fputs(ddlsim::scaling_text(rows, title).c_str(), stdout);
  if (!csv.empty()) {
    std::ofstream out(csv);
    out << ddlsim::scaling_csv(rows);
    if (!out)
      throw std::runtime_error("cannot write " + csv);
  }
  for (const ddlsim::ScalingRow& r : rows)
    if (!r.error.empty())
      return 1;
  return 0;
}

int predict_command(const std::vector<std::string>& args)
{
  ddlsim::PredictRequest r;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      return option_value(args, i);
    };
    if (a == "--gpu")
      r.profile = value();
    else if (a == "--batch")
      r.batch = int_option(a, value(), 1, 1 << 20);
    else if (a == "--sequence")
      r.sequence = int_option(a, value(), 1, 1 << 20);
    else if (a == "--precision")
      r.precision = value();
    else if (a == "--fusion")
      r.fusion = value();
    else if (a == "--attention")
      r.attention = value();
    else if (a == "--json")
      json = true;
    else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (r.model.empty())
      r.model = a;
    else
      throw UsageError("more than one model given");
  }
  if (r.model.empty())
    throw UsageError("no model given");
  if (r.profile.empty())
    throw UsageError("predict needs --gpu PROFILE");
  const nlohmann::json p = ddlsim::predict(r);
  std::fputs(json ? (p.dump(2) + "\n").c_str() : ddlsim::predict_text(p).c_str(), stdout);
  return 0;
}

int calibrate_command(const std::vector<std::string>& args)
{
  std::string mode, output;
  ddlsim::NcclCalibrationRequest nccl;
  ddlsim::IterationRecord it;
  bool quick = false;
  std::string time;
  std::vector<std::string> command{"ddlsim", "calibrate"};
  command.insert(command.end(), args.begin(), args.end());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      return option_value(args, i);
    };
    if (a == "--from-nccl-tests" || a == "--from-iteration") {
      if (!mode.empty())
        throw UsageError("give one of --from-nccl-tests and --from-iteration");
      mode = a;
      if (a == "--from-nccl-tests")
        while (i + 1 < args.size() && !args[i + 1].starts_with("--"))
          nccl.logs.push_back(args[++i]);
    } else if (a == "--output")
      output = value();
    else if (a == "--quick")
      quick = true;
    else if (a == "--op")
      nccl.op = value();
    else if (a == "--ranks")
      nccl.ranks = int_option(a, value(), 2, 1048576);
    else if (a == "--scope")
      nccl.scope = value();
    else if (a == "--in-place")
      nccl.in_place = true;
    else if (a == "--gpu")
      it.profile = value();
    else if (a == "--model")
      it.model = value();
    else if (a == "--batch")
      it.batch = int_option(a, value(), 1, 1 << 20);
    else if (a == "--time")
      time = value();
    else if (a == "--precision")
      it.precision = value();
    else if (a == "--source")
      it.source = value();
    else
      throw UsageError("unknown option '" + a + "'");
  }
  if (mode == "--from-nccl-tests") {
    if (nccl.logs.empty())
      throw UsageError("--from-nccl-tests needs at least one log file");
    if (output.empty())
      throw UsageError("--from-nccl-tests needs --output NET.json");
    nccl.output = output;
    nccl.command = fmt::format("{}", fmt::join(command, " "));
    std::fputs(ddlsim::calibrate_from_nccl_tests(nccl).c_str(), stdout);
    return 0;
  }
  if (mode == "--from-iteration") {
    if (it.profile.empty() || it.model.empty() || it.batch == 0 || time.empty())
      throw UsageError("--from-iteration needs --gpu PROFILE, --model M, --batch N and --time T");
    const auto seconds = ddlsim::parse_quantity(time, ddlsim::Dimension::seconds);
    if (!seconds || *seconds <= 0)
      throw UsageError("--time expects a positive duration such as '182ms', found '" + time + "'");
    it.seconds = *seconds;
    if (it.source.empty())
      it.source = fmt::format("measured by the user, recorded by `{}`", fmt::join(command, " "));
    std::fputs(ddlsim::calibrate_from_iteration(it).c_str(), stdout);
    return 0;
  }
  const std::string program = ddlsim::gpu_benchmark_program();
  if (program.empty())
    throw UsageError("this ddlsim was built without CUDA (no nvcc at configure time), so it has no GPU "
                     "microbenchmarks; build it where the CUDA Toolkit is installed (scripts/setup.sh finds "
                     "/usr/local/cuda), or use --from-nccl-tests / --from-iteration");
  std::vector<std::string> argv{program};
  if (!output.empty())
    argv.insert(argv.end(), {"--output", output});
  else
    argv.insert(argv.end(), {"--profile-dir", ddlsim::profile_dir()});
  if (quick)
    argv.push_back("--quick");
  argv.insert(argv.end(), {"--command", fmt::format("{}", fmt::join(command, " "))});
  std::vector<char*> cargs;
  for (std::string& s : argv)
    cargs.push_back(s.data());
  cargs.push_back(nullptr);
  std::fflush(stdout);
  execv(program.c_str(), cargs.data());
  throw std::runtime_error("cannot run " + program);
}

int main(int argc, char** argv)
{
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::fputs(USAGE, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "run")
      return run_command({args.begin() + 1, args.end()});
    if (args[0] == "topo")
      return topo_command({args.begin() + 1, args.end()});
    if (args[0] == "sweep")
      return sweep_command({args.begin() + 1, args.end()});
    if (args[0] == "scale")
      return scale_command({args.begin() + 1, args.end()});
    if (args[0] == "calibrate")
      return calibrate_command({args.begin() + 1, args.end()});
    if (args[0] == "predict")
      return predict_command({args.begin() + 1, args.end()});
    throw UsageError("unknown command '" + args[0] + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "ddlsim: %s\n%s", e.what(), USAGE);
    return 2;
  } catch (const ddlsim::ScenarioError& e) {
    std::fprintf(stderr, "ddlsim: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fputs("ddlsim: simulation failed: out of memory. A run's memory grows with its GPUs and switches and "
               "with GPUs x iterations x collectives per iteration; fewer iterations, larger gradient buckets or "
               "\"fidelity\": \"flow\" need less\n",
               stderr);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ddlsim: simulation failed: %s\n", e.what());
    return 1;
  }
}
