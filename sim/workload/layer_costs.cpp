// A layer's forward and backward seconds on one GPU, activation recomputation, and what backward
// keeps of forward.
#include "sim/workload/training.hpp"

#include "calibration/compute_model.hpp"

#include <algorithm>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

namespace ddlsim::workload {

std::vector<LayerCost> layer_costs(const model::Model& model, const TrainingConfig& t, const GpuConfig& gpu,
                                   const GpuProfile* profile)
{
  std::vector<LayerCost> costs;
  double total = 0;
  if (gpu.roofline) {
    if (!profile)
      throw std::invalid_argument("the roofline compute model needs the scenario's GPU profile");
    const calib::IterationPrediction p =
        calib::predict_iteration(model, t.batch_per_gpu, *profile, to_string(t.precision), gpu.fusion);
    for (const calib::LayerRoofline& l : p.layers)
      costs.push_back({l.forward_seconds, l.backward_seconds});
    total = p.seconds;
  } else {
    const calib::PlaceholderGpu placeholder{gpu.peak_flops_per_s, gpu.efficiency};
    for (const model::Layer& l : model.layers) {
      const calib::LayerSeconds s = calib::layer_seconds(l, t.batch_per_gpu, placeholder);
      costs.push_back({s.forward_seconds, s.backward_seconds});
      total += s.forward_seconds + s.backward_seconds;
    }
  }
  if (t.compute.iteration_seconds > 0 && total > 0) {
    const double scale = t.compute.iteration_seconds / total;
    for (LayerCost& c : costs) {
      c.forward_seconds *= scale;
      c.backward_seconds *= scale;
    }
  }
  add_recomputation(model, t.recompute, costs);
  return costs;
}

namespace {

bool has_products(const model::Layer& l)
{
  return l.kind == model::LayerKind::attention && !l.gemms.empty();
}

}  // namespace

void add_recomputation(const model::Model& model, Recompute recompute, std::vector<LayerCost>& costs)
{
  if (recompute == Recompute::none)
    return;
  const std::size_t last_block = model.block_starts().back();
  for (std::size_t l = 0; l < costs.size(); ++l)
    if (recompute == Recompute::full ? l < last_block : has_products(model.layers[l]))
      costs[l].backward_seconds += costs[l].forward_seconds;
}

KeptActivations kept_activations(const model::Model& model, std::size_t first, std::size_t end, Recompute recompute)
{
  KeptActivations out;
  if (recompute != Recompute::full) {
    for (std::size_t l = first; l < end; ++l) {
      const model::Layer& layer = model.layers[l];
      const bool drop = recompute == Recompute::selective && has_products(layer);
      out.kept += drop ? layer.activation_elements_per_sample : layer.kept_elements_per_sample();
      if (drop)
        out.peak = std::max(out.peak, layer.kept_elements_per_sample() - layer.activation_elements_per_sample);
    }
    return out;
  }
  std::vector<std::size_t> starts = model.block_starts();
  const std::size_t last_block = starts.back();
  starts.push_back(model.layers.size());
  for (std::size_t b = 0; b + 1 < starts.size(); ++b) {
    const std::size_t from = std::max(starts[b], first), to = std::min(starts[b + 1], end);
    if (from >= to)
      continue;
    double block = 0;
    for (std::size_t l = from; l < to; ++l)
      block += model.layers[l].kept_elements_per_sample();
    if (starts[b] >= last_block) {
      out.kept += block;
    } else {
      out.kept += from > 0 ? model.layers[from - 1].elements_across_cut() : 0.0;
      out.peak = std::max(out.peak, block);
    }
  }
  return out;
}

}  // namespace ddlsim::workload
