#pragma once
// Data-parallel training iterations as a task graph: per rank, forward, then backward in gradient
// buckets, each bucket all-reduced over the data-parallel group as soon as it is ready (wfbp) or
// everything after backward (none); BSP: the next forward waits for the rank's last all-reduce.
#include "models/layer.hpp"
#include "sim/collective_plan.hpp"
#include "sim/scenario.hpp"
#include "sim/task_graph.hpp"

#include <vector>

namespace ddlsim {

/// A backward segment: the layers whose gradients fill one bucket, and the bucket.
struct Bucket {
  double backward_seconds;
  double gradient_bytes;  ///< 0 for a trailing segment of parameter-free layers (no all-reduce)
  std::size_t layers;
};

/// Groups `model`'s layers in backward order into buckets that close once they hold at least
/// `bucket_bytes` of gradients (PyTorch DDP / Horovod fusion); bucket_bytes == 0 gives one bucket
/// per layer with parameters. `policy` none gives a single bucket.
std::vector<Bucket> make_buckets(const model::Model& model, const TrainingConfig& training, const GpuConfig& gpu);

/// Seconds of forward compute for one iteration on one GPU.
double forward_seconds(const model::Model& model, const TrainingConfig& training, const GpuConfig& gpu);

struct TrainingPlan {
  TaskGraph graph;
  std::vector<Bucket> buckets;
  double forward_seconds;
  double compute_seconds;  ///< forward + backward, one iteration, one GPU
  double gradient_bytes;
  coll::ScheduleFidelity fidelity;          ///< flow if any bucket's all-reduce ran at flow fidelity
  std::vector<coll::Algorithm> algorithms;  ///< per bucket with gradients (auto picks per size)
  /// [iteration][rank]: the tasks whose ends mark the end of that rank's iteration
  std::vector<std::vector<std::uint32_t>> last_compute, last_comm;
};

TrainingPlan build_training(const Scenario& scenario, const model::Model& model, const coll::GroupShape& group);

}  // namespace ddlsim
