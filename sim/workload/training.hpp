#pragma once
// Data-parallel training iterations as a task graph. Per rank: forward, then backward in gradient
// buckets; each bucket's gradients are synchronised over the data-parallel group as the
// architecture does it (all-reduce, parameter-server push/pull, gossip with neighbours), when the
// scheduling policy releases them; the synchronization scheme says what the next iteration waits for.
#include "models/layer.hpp"
#include "sim/engine/task_graph.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/collective_plan.hpp"

#include <functional>
#include <vector>

namespace ddlsim::workload {

/// Forward and backward seconds of one layer for batch_per_gpu samples on one GPU.
struct LayerCost {
  double forward_seconds;
  double backward_seconds;
};

/// Per-layer compute from the GPU model: the roofline of `profile` when gpu.roofline
/// (calib::predict_iteration), else the placeholder (calib::layer_seconds). When the scenario (or
/// the profile) gives a measured single-GPU iteration, every layer's times are scaled by
/// measured / modelled so they add up to it.
std::vector<LayerCost> layer_costs(const model::Model& model, const scenario::TrainingConfig& training,
                                   const scenario::GpuConfig& gpu, const GpuProfile* profile = nullptr);

/// Activation recomputation (layer_costs applies it last, so a measured single-GPU iteration is
/// taken as one without it): each recomputed layer's backward also runs its forward again.
/// selective: attention layers with products (scores, softmax, weighted sum); full: every layer
/// before the model's last block (Model::block_starts).
void add_recomputation(const model::Model& model, scenario::Recompute recompute, std::vector<LayerCost>& costs);

/// Elements per sample that layers [first, end) of `model` hold for backward: `kept` by every
/// micro-batch in flight, and `peak`, once, while backward re-runs what was recomputed.
/// - none: every layer's Layer::kept_elements_per_sample;
/// - selective: attention keeps its output, not its probabilities; peak: the largest attention's;
/// - full: a recomputed block keeps its input (what a cut before it carries: the layer before it's
///   elements_across_cut; nothing for the model's first), the last block all it keeps; peak: the
///   largest recomputed block's kept elements, re-created during its backward.
struct KeptActivations {
  double kept = 0;
  double peak = 0;
};
KeptActivations kept_activations(const model::Model& model, std::size_t first, std::size_t end,
                                 scenario::Recompute recompute);

/// A backward segment: consecutive layers whose gradients are synchronised together, and their
/// forward counterpart (the same layers, run in the other direction).
struct Bucket {
  double forward_seconds;
  double backward_seconds;
  double gradient_bytes;  ///< 0 for a trailing segment of parameter-free layers (nothing to send)
  std::size_t layers;
  std::size_t first_layer;           ///< forward index of its first layer
  double release_delay_seconds = 0;  ///< fusion with a cycle time: from ready to the next tick
};

/// Predicted seconds to synchronise `bytes` of gradients (mg_wfbp's and priority's cost model).
using CommCostFn = std::function<double(double bytes)>;

/// The buckets of `policy`, in backward order:
/// - none: one bucket of every gradient;
/// - wfbp, priority: one per layer with parameters (with the parameter-free layers that follow it
///   in forward order, which backward meets first);
/// - fusion: consecutive layers until a bucket holds at least bucket_bytes (0: wfbp); with a cycle
///   time c (Horovod), gradients ready in the same cycle (c, 2c, ... after backward starts) go
///   together at the tick, in buckets of at least bucket_bytes when that is set;
/// - mg_wfbp: the merge of consecutive layers that minimises the end of the last synchronisation
///   under `cost` (Shi et al., INFOCOM 2019), found exactly by dynamic programming over where
///   merged groups start: end(j) = min_i max(ready(j), end(i)) + cost(bytes(i+1..j)); it
///   throws std::invalid_argument without a `cost`.
std::vector<Bucket> make_buckets(const model::Model& model, const std::vector<LayerCost>& costs,
                                 const scenario::TrainingConfig& training, const CommCostFn& cost = {});

/// One gradient slice to synchronise: which bucket, how many bytes.
struct Slice {
  std::size_t bucket;
  double bytes;
};

/// priority (ByteScheduler): buckets cut into slices of at most `partition` bytes; the order in
/// which `window` senders take them when each takes the ready slice of the layer nearest the input
/// (the next forward needs it first), timed with `cost`. Decided once from the unperturbed compute.
std::vector<Slice> priority_order(const std::vector<Bucket>& buckets, double partition, int window,
                                  const CommCostFn& cost);

/// Predicted end of the last synchronisation after backward starts, for buckets communicated one
/// after another on one stream in backward order: what mg_wfbp minimises.
double predicted_comm_end(const std::vector<Bucket>& buckets, const CommCostFn& cost);

/// Hosts that take part beyond the data-parallel GPUs.
struct TrainingHosts {
  std::vector<std::uint32_t> servers;  ///< ps: host of each server (a GPU rank, or a CPU host)
};

/// What compression costs one worker in one synchronising iteration: the codec seconds are rank
/// 0's tasks of the first (with its straggler factor and jitter, if any).
struct CompressionStats {
  double wire_bytes = 0;          ///< payload bytes a worker contributes (PowerSGD: P and Q)
  double encode_seconds = 0;      ///< GPU seconds of encoding (PowerSGD: both passes; ring: every hop)
  double decode_seconds = 0;      ///< GPU seconds of decoding (all-gather: p payloads a bucket)
  double extra_memory_bytes = 0;  ///< residuals and codec state kept on the GPU
};

struct TrainingPlan {
  engine::TaskGraph graph;
  std::vector<Bucket> buckets;
  std::size_t slices = 0;  ///< priority: slices per iteration; otherwise one per bucket with gradients
  double forward_seconds;  ///< one iteration, one GPU, without stragglers or jitter
  double compute_seconds;  ///< forward + backward, one iteration, one GPU
  double gradient_bytes;
  coll::ScheduleFidelity fidelity;          ///< flow if any all-reduce ran at flow fidelity
  std::vector<coll::Algorithm> algorithms;  ///< all-reduce: per bucket with gradients (auto picks per size)
  CompressionStats compression;             ///< zero without a codec
  /// [iteration][rank]: tasks whose ends mark the end of that rank's iteration (the latest one does)
  std::vector<std::vector<std::vector<std::uint32_t>>> iteration_end;
  /// ps with ssp/asp: [iteration][rank] the rank's last push and last pull of the iteration
  std::vector<std::vector<std::uint32_t>> last_push, last_pull;
};

/// `group` describes the data-parallel group (for all-reduce algorithms and the cost model of
/// mg_wfbp and priority); `hosts` where parameter servers run.
TrainingPlan build_training(const scenario::Scenario& scenario, const model::Model& model,
                            const coll::GroupShape& group, const TrainingHosts& hosts);

/// The factor on GPU rank r's compute times in iteration `it`: its straggler slowdown, times
/// 1 + u with u uniform in [-jitter, jitter] drawn from (seed, r, it).
double compute_factor(const scenario::Scenario& scenario, std::uint32_t rank, int iteration);

/// Neighbours that rank r sends its model to in gossip over p ranks, sorted, without r.
std::vector<std::uint32_t> gossip_neighbours(scenario::GossipGraph graph, std::uint32_t p, std::uint32_t r);

}  // namespace ddlsim::workload
