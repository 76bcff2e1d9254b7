#include "sim/training.hpp"

#include "calibration/compute_model.hpp"

#include <numeric>
#include <string>

namespace ddlsim {

namespace {
calib::PlaceholderGpu placeholder(const GpuConfig& gpu)
{
  return {gpu.peak_flops_per_s, gpu.efficiency};
}
}  // namespace

double forward_seconds(const model::Model& model, const TrainingConfig& t, const GpuConfig& gpu)
{
  double seconds = 0;
  for (const model::Layer& l : model.layers)
    seconds += calib::layer_seconds(l, t.batch_per_gpu, placeholder(gpu)).forward_seconds;
  return seconds;
}

std::vector<Bucket> make_buckets(const model::Model& model, const TrainingConfig& t, const GpuConfig& gpu)
{
  const double element_bytes = bytes_per_element(t.precision);
  std::vector<Bucket> buckets;
  Bucket current{0, 0, 0};
  for (auto it = model.layers.rbegin(); it != model.layers.rend(); ++it) {
    current.backward_seconds += calib::layer_seconds(*it, t.batch_per_gpu, placeholder(gpu)).backward_seconds;
    current.gradient_bytes += double(it->params) * element_bytes;
    ++current.layers;
    // wfbp: every layer with gradients closes its own bucket; fusion: once the bucket is full.
    const bool closes =
        it->params > 0 && ((t.policy == SchedulingPolicy::wfbp) ||
                           (t.policy == SchedulingPolicy::fusion && current.gradient_bytes >= t.bucket_bytes));
    if (closes) {
      buckets.push_back(current);
      current = {0, 0, 0};
    }
  }
  if (current.layers > 0)
    buckets.push_back(current);
  return buckets;
}

TrainingPlan build_training(const Scenario& s, const model::Model& model, const coll::GroupShape& shape)
{
  const TrainingConfig& t = s.training;
  const auto p = static_cast<std::uint32_t>(t.data_parallel);
  TrainingPlan plan;
  plan.buckets = make_buckets(model, t, s.gpu);
  plan.forward_seconds = forward_seconds(model, t, s.gpu);
  plan.compute_seconds = plan.forward_seconds;
  plan.gradient_bytes = 0;
  for (const Bucket& b : plan.buckets) {
    plan.compute_seconds += b.backward_seconds;
    plan.gradient_bytes += b.gradient_bytes;
  }
  plan.fidelity = coll::ScheduleFidelity::step;

  TaskGraph& g = plan.graph;
  std::vector<std::uint32_t> prev_compute(p), prev_comm(p);
  bool has_prev_comm = false;
  for (int it = 0; it < t.iterations; ++it) {
    const std::string iter = "iteration " + std::to_string(it);
    std::vector<std::uint32_t> compute(p);
    for (std::uint32_t r = 0; r < p; ++r) {
      compute[r] = g.add_delay(r, Stream::compute, plan.forward_seconds, "forward");
      if (it > 0) {
        g.add_dependency(prev_compute[r], compute[r]);
        if (has_prev_comm)
          g.add_dependency(prev_comm[r], compute[r]);  // BSP: the update needs every reduced gradient
      }
    }
    std::vector<std::uint32_t> comm(p);
    bool has_comm = false;
    for (std::size_t b = 0; b < plan.buckets.size(); ++b) {
      const Bucket& bucket = plan.buckets[b];
      const std::string label = "backward bucket " + std::to_string(b);
      for (std::uint32_t r = 0; r < p; ++r) {
        const std::uint32_t seg = g.add_delay(r, Stream::compute, bucket.backward_seconds, label);
        g.add_dependency(compute[r], seg);
        compute[r] = seg;
      }
      if (bucket.gradient_bytes <= 0 || p == 1)
        continue;
      PlannedCollective planned =
          plan_collective(coll::Op::allreduce, t.algorithm, t.fidelity, shape, bucket.gradient_bytes);
      if (it == 0) {
        plan.algorithms.push_back(planned.algorithm);
        if (planned.fidelity == coll::ScheduleFidelity::flow)
          plan.fidelity = planned.fidelity;
      }
      const std::uint32_t c =
          g.add_collective(std::move(planned.schedule), planned.hosts, "allreduce bucket " + std::to_string(b));
      for (std::uint32_t r = 0; r < p; ++r) {
        const std::uint32_t part = g.collective(c).tasks[r];
        g.add_dependency(compute[r], part);
        if (has_comm)
          g.add_dependency(comm[r], part);  // one communication stream per rank: collectives in order
        comm[r] = part;
      }
      has_comm = true;
    }
    plan.last_compute.push_back(compute);
    plan.last_comm.push_back(has_comm ? comm : std::vector<std::uint32_t>{});
    prev_compute = compute;
    prev_comm = comm;
    has_prev_comm = has_comm;
  }
  return plan;
}

}  // namespace ddlsim
