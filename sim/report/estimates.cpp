#include "sim/report/training_sections.hpp"

#include "sim/workload/failures.hpp"
#include "sim/workload/memory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace ddlsim::report {

using namespace ddlsim::scenario;
using namespace ddlsim::workload;
using nlohmann::json;

json memory_json(const Scenario& s, const std::vector<std::array<double, 5>>& stages, double codec_bytes,
                 std::vector<double> units)
{
  const TrainingConfig& t = s.training;
  std::sort(units.begin(), units.end(), std::greater<>());
  units.resize(2, 0.0);
  json best;
  double most = -1;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const auto [full_weights, activations, in_flight, recomputed, experts] = stages[i];
    const ZeroShares shares = zero_shares(t, full_weights, experts);
    const double weights = shares.parameters + units[0] + units[1];  // units: stage 3 only
    const double gradients = shares.gradients + units[0];
    const double optimizer = shares.optimizer_states;
    const double kept = activations * in_flight + recomputed;
    const double total = weights + gradients + optimizer + kept + codec_bytes;
    if (total > most) {
      most = total;
      best = {{"stage", i},
              {"bytes_per_gpu",
               {{"parameters", weights},
                {"gradients", gradients},
                {"optimizer_states", optimizer},
                {"activations", kept},
                {"codec_state", codec_bytes},
                {"total", total}}}};
    }
  }
  best["optimizer"] = "adam";
  best["recompute"] = to_string(t.recompute);
  best["note"] =
      fmt::format("an estimate: weights and gradients in the training precision, Adam's state (ZeRO-sharded; stage 3: "
                  "weight and gradient shards plus two gathered units), what backward needs of forward (every "
                  "layer's output and attention's {}, less what recomputation re-creates), codec "
                  "residuals; no workspace or fragmentation",
                  s.gpu.flash_attention ? "row log-sum-exps (flash)" : "probabilities");
  const double capacity = s.profile ? s.profile->memory_bytes : 0;
  best["capacity_bytes"] = capacity > 0 ? json(capacity) : json(nullptr);
  best["fits"] = capacity > 0 ? json(most <= capacity) : json(nullptr);
  return best;
}

json failures_json(const Scenario& s, const model::Model& model, double iteration_seconds, double samples_per_s)
{
  const TrainingConfig& t = s.training;
  const double state_bytes =
      double(model.total_params()) * (bytes_per_element(t.precision) + adam_bytes_per_parameter(t.precision));
  const FailureEstimate e = estimate_failures(t.failures, s.cluster.gpus(), state_bytes, iteration_seconds);
  return {{"gpu_mtbf_s", t.failures.gpu_mtbf_seconds},
          {"job_mtbf_s", e.job_mtbf_seconds},
          {"failures_per_day", e.failures_per_day},
          {"checkpoint_bytes", e.state_bytes},
          {"checkpoint_s", e.checkpoint_seconds},
          {"restart_s", e.restart_seconds},
          {"interval_s", e.interval_seconds},
          {"interval_iterations", e.interval_iterations},
          {"interval_source", e.optimal ? "optimal" : "scenario"},
          {"young_interval_s", e.young_interval_seconds},
          {"efficiency", e.efficiency},
          {"effective_samples_per_s", samples_per_s * e.efficiency},
          {"note", "expected fraction of wall time that trains, with exponentially distributed failures of the "
                   "job's GPUs, checkpoints between iterations and a restart from the last one after each failure "
                   "(Daly, 2006)"}};
}

}  // namespace ddlsim::report
