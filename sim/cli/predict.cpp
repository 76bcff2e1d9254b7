#include "sim/cli/predict.hpp"

#include "calibration/compute_model.hpp"
#include "calibration/gpu_profile.hpp"
#include "models/zoo.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

using namespace ddlsim::scenario;

namespace ddlsim::cli {

nlohmann::json predict(const PredictRequest& r)
{
  const std::string path = profile_option(r.profile, "--gpu");
  const GpuProfile gpu = load_profile(path);
  std::optional<model::Model> m;
  try {
    m = model::find_model(r.model, r.sequence);
  } catch (const std::invalid_argument& e) {
    throw ScenarioError(fmt::format("--sequence: {}", e.what()));
  }
  if (!m)
    throw ScenarioError(
        fmt::format("unknown model '{}'; expected one of: {}", r.model, join_names(model::model_names())));
  // tf32: fp32 data whose products run on the tensor cores (PyTorch's default for cuDNN convolutions).
  if (r.precision != "fp32" && r.precision != "tf32" && r.precision != "fp16" && r.precision != "bf16")
    throw ScenarioError(fmt::format("--precision: found '{}'; expected fp32, tf32, fp16 or bf16", r.precision));
  if (gpu.peak(r.precision) <= 0)
    throw ScenarioError(fmt::format("GPU profile {} has no {} peak", gpu.file, r.precision));
  const auto& fusions = calib::fusion_names();
  const auto f = std::find(fusions.begin(), fusions.end(), r.fusion);
  if (f == fusions.end())
    throw ScenarioError(fmt::format("--fusion: found '{}'; expected one of: {}", r.fusion, fmt::join(fusions, ", ")));
  const auto fusion = static_cast<calib::Fusion>(f - fusions.begin());
  const auto& attentions = calib::attention_names();
  const auto a = std::find(attentions.begin(), attentions.end(), r.attention);
  if (a == attentions.end())
    throw ScenarioError(
        fmt::format("--attention: found '{}'; expected {}", r.attention, fmt::join(attentions, " or ")));
  if (a - attentions.begin() == 1)
    m = model::flash_attention(*m);
  const calib::IterationPrediction p = calib::predict_iteration(*m, r.batch, gpu, r.precision, fusion);
  std::map<std::string, std::pair<double, int>> kinds;  // seconds, layers
  for (std::size_t i = 0; i < m->layers.size(); ++i) {
    auto& k = kinds[model::to_string(m->layers[i].kind)];
    k.first += p.layers[i].forward_seconds + p.layers[i].backward_seconds;
    ++k.second;
  }
  nlohmann::json by_kind = nlohmann::json::object();
  for (const auto& [kind, v] : kinds)
    by_kind[kind] = {{"seconds", v.first}, {"layers", v.second}};
  const int sequence = r.sequence > 0 ? r.sequence : model::default_sequence(r.model);
  nlohmann::json out = {{"model", r.model},
                        {"sequence", sequence},
                        {"batch", r.batch},
                        {"precision", r.precision},
                        {"fusion", r.fusion},
                        {"attention", r.attention},
                        {"profile",
                         {{"name", gpu.name},
                          {"gpu", gpu.gpu},
                          {"file", std::filesystem::absolute(path).lexically_normal().string()},
                          {"measured", gpu.measured},
                          {"derived_from", gpu.derived_from},
                          {"provenance", gpu.provenance()},
                          {"measured_gemm", gpu.gemm.count(r.precision) > 0},
                          {"gemm_efficiency", gpu.gemm_efficiency}}},
                        {"iteration_s", p.seconds},
                        {"forward_s", p.forward_seconds},
                        {"backward_s", p.backward_seconds},
                        {"gemm_bound_s", p.gemm_bound_seconds},
                        {"memory_bound_s", p.memory_bound_seconds},
                        {"launch_s", p.launch_seconds},
                        {"kernels", p.kernels},
                        {"flops", p.flops},
                        {"bytes", p.bytes},
                        {"samples_per_s", r.batch / p.seconds},
                        {"by_kind", by_kind},
                        {"measured_iteration_s", nullptr}};
  if (const MeasuredIteration* it = gpu.iteration(r.model, r.batch, r.precision))
    out["measured_iteration_s"] = it->seconds;
  return out;
}

std::string predict_text(const nlohmann::json& p)
{
  const auto ms = [](double s) {
    return fmt::format("{:10.3f} ms", s * 1e3);
  };
  const nlohmann::json& prof = p["profile"];
  const double it = p["iteration_s"].get<double>();
  std::string s = fmt::format(
      "{} batch {} {}{}{} on {} (profile {}, {})\n", p["model"].get<std::string>(), p["batch"].get<int>(),
      p["precision"].get<std::string>(),
      p["sequence"].get<int>() > 0 ? fmt::format(", sequence {}", p["sequence"].get<int>()) : "",
      std::string(p["fusion"] == "elementwise" ? ", elementwise layers fused" : "") +
          (p["attention"] == "flash" ? ", flash attention" : ""),
      prof["gpu"].get<std::string>(), prof["name"].get<std::string>(), prof["provenance"].get<std::string>());
  s += fmt::format("  predicted iteration {}  ({:.1f} samples/s; forward {}, backward {})\n", ms(it),
                   p["samples_per_s"].get<double>(), ms(p["forward_s"].get<double>()),
                   ms(p["backward_s"].get<double>()));
  s +=
      fmt::format("  GEMM-only bound     {}  (the matrix products alone, at {})\n", ms(p["gemm_bound_s"].get<double>()),
                  prof["measured_gemm"].get<bool>()
                      ? "the measured throughput of their shapes"
                      : fmt::format("{:g} x the {} peak (no GEMM measurements in the profile)",
                                    prof["gemm_efficiency"].get<double>(), p["precision"].get<std::string>()));
  s += fmt::format("  memory-only bound   {}  ({:.3g} GB of device-memory traffic at the copy bandwidth)\n",
                   ms(p["memory_bound_s"].get<double>()), p["bytes"].get<double>() / 1e9);
  s += fmt::format("  launch overhead     {}  ({} kernels; {:.3g} TFLOP in all)\n", ms(p["launch_s"].get<double>()),
                   p["kernels"].get<int>(), p["flops"].get<double>() / 1e12);
  if (!p["measured_iteration_s"].is_null())
    s += fmt::format("  measured iteration  {}  (prediction / measured = {:.3f})\n",
                     ms(p["measured_iteration_s"].get<double>()), it / p["measured_iteration_s"].get<double>());
  s += "  by layer kind:\n";
  for (const auto& [k, v] : p["by_kind"].items())
    s += fmt::format("    {:<10} {}  {:5.1f} %  ({} layers)\n", k, ms(v["seconds"].get<double>()),
                     100 * v["seconds"].get<double>() / it, v["layers"].get<int>());
  return s;
}

}  // namespace ddlsim::cli
