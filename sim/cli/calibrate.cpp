#include "sim/cli/calibrate.hpp"

#include "calibration/gpu_profile.hpp"
#include "calibration/nccl_fit.hpp"
#include "calibration/utc_date.hpp"
#include "models/zoo.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace ddlsim::scenario;

namespace ddlsim::cli {

std::string calibrate_from_nccl_tests(const NcclCalibrationRequest& r)
{
  const auto& ops = calib::nccl_op_names();
  const auto op_it = std::find(ops.begin(), ops.end(), r.op);
  if (op_it == ops.end())
    throw ScenarioError(fmt::format("--op: found '{}'; expected one of: {}", r.op, fmt::join(ops, ", ")));
  const auto op = static_cast<calib::NcclOp>(op_it - ops.begin());
  if (!r.scope.empty() && r.scope != "intra_node" && r.scope != "inter_node")
    throw ScenarioError(fmt::format("--scope: found '{}'; expected intra_node or inter_node", r.scope));
  if (!r.scope.empty() && r.logs.size() > 1)
    throw ScenarioError("--scope names the scope of one log; give one log with it");

  nlohmann::json doc = {{"schema", 1}, {"kind", "network_calibration"}, {"scopes", nlohmann::json::object()}};
  if (std::filesystem::exists(r.output)) {  // keep the scopes these logs do not refit
    const nlohmann::json old = read_json_file(r.output);
    const auto not_calibration = [&](const std::string& path, const std::string& found) {
      return ScenarioError(r.output, path,
                           fmt::format("found {}; the file exists and is not a network calibration: expected a new "
                                       "file or one written by ddlsim calibrate --from-nccl-tests",
                                       found));
    };
    if (!old.is_object())
      throw not_calibration("", describe_json(old));
    if (!old.contains("kind") || old.at("kind") != "network_calibration")
      throw not_calibration("/kind", old.contains("kind") ? describe_json(old.at("kind")) : "no 'kind'");
    if (!old.contains("scopes") || !old.at("scopes").is_object())
      throw not_calibration("/scopes", old.contains("scopes") ? describe_json(old.at("scopes")) : "no 'scopes'");
    doc["scopes"] = old.at("scopes");
  }
  std::set<std::string> fitted;
  std::string summary;
  for (const std::string& file : r.logs) {
    const calib::NcclLog log = calib::parse_nccl_tests(read_text_file(file), file);
    const int ranks = r.ranks > 0 ? r.ranks : log.ranks;
    if (ranks == 0)
      throw ScenarioError(fmt::format("{}: no \"#  Rank\" lines to count the ranks from; expected --ranks N", file));
    std::string scope = r.scope;
    if (scope.empty()) {
      if (log.hosts == 0)
        throw ScenarioError(fmt::format("{}: no \"#  Rank ... on HOST\" lines to tell the scope from; expected --scope "
                                        "intra_node or inter_node",
                                        file));
      scope = log.hosts == 1 ? "intra_node" : "inter_node";
    }
    if (!fitted.insert(scope).second)
      throw ScenarioError(fmt::format("{}: a second {} log; expected one log per scope", file, scope));
    const calib::AlphaBetaFit fit = calib::fit_alpha_beta(log, op, ranks, r.in_place);
    const int steps = calib::ring_steps(op, ranks);
    const double step_latency = fit.alpha_seconds / steps;
    doc["scopes"][scope] = {{"bandwidth", format_quantity(fit.bus_bandwidth_bytes_per_s, Dimension::bytes_per_s)},
                            {"latency", format_quantity(step_latency / 2, Dimension::seconds)},
                            {"fit",
                             {{"log", file},
                              {"op", r.op},
                              {"ranks", ranks},
                              {"hosts", log.hosts},
                              {"column", r.in_place ? "in-place" : "out-of-place"},
                              {"points", fit.points},
                              {"alpha", format_quantity(fit.alpha_seconds, Dimension::seconds)},
                              {"bus_bandwidth", format_quantity(fit.bus_bandwidth_bytes_per_s, Dimension::bytes_per_s)},
                              {"ring_steps", steps},
                              {"max_relative_residual", fit.max_relative_residual}}}};
    summary += fmt::format(
        "{} ({}, {} ranks on {} hosts, {} {} points): alpha {:.3f} us, bus bandwidth {:.2f} GB/s, worst point {:.1f} "
        "% off the fit\n  -> link latency {:.3f} us (alpha / {} ring steps / 2 links a step), bandwidth {:.2f} GB/s\n",
        scope, file, ranks, log.hosts, fit.points, r.op, fit.alpha_seconds * 1e6, fit.bus_bandwidth_bytes_per_s / 1e9,
        100 * fit.max_relative_residual, step_latency / 2 * 1e6, steps, fit.bus_bandwidth_bytes_per_s / 1e9);
  }
  doc["source"] =
      "fitted from nccl-tests output: t(S) = alpha + S busfactor / bandwidth, least squares on relative error";
  doc["date"] = utc_date();
  doc["command"] = r.command;
  write_file_atomically(r.output, doc.dump(2) + "\n");
  return summary + fmt::format("wrote {}\n", r.output);
}

std::string calibrate_from_iteration(const IterationRecord& r)
{
  const std::string path = profile_option(r.profile, "--gpu");
  if (!model::find_model(r.model, 0))
    throw ScenarioError(
        fmt::format("--model: unknown model '{}'; expected one of: {}", r.model, join_names(model::model_names())));
  const GpuProfile before = load_profile(path);  // a malformed profile is reported before it is touched
  if (before.peak(r.precision) <= 0)
    throw ScenarioError(fmt::format("--precision: profile {} has no {} peak", path, r.precision));
  nlohmann::json doc = read_json_file(path);
  nlohmann::json entry = {{"model", r.model},
                          {"batch", r.batch},
                          {"precision", r.precision},
                          {"time", format_quantity(r.seconds, Dimension::seconds)},
                          {"source", r.source}};
  nlohmann::json& list = doc["iterations"];
  if (!list.is_array())
    list = nlohmann::json::array();
  const auto same = std::find_if(list.begin(), list.end(), [&](const nlohmann::json& e) {
    return e.value("model", "") == r.model && e.value("batch", 0) == r.batch && e.value("precision", "") == r.precision;
  });
  if (same != list.end())
    *same = entry;
  else
    list.push_back(entry);
  write_file_atomically(path, doc.dump(2) + "\n");
  load_profile(path);
  return fmt::format("{}: {} batch {} {} measured at {:.3f} ms ({:.1f} samples/s); scenarios with this profile, "
                     "model, batch and precision now scale their layer times to it\n",
                     path, r.model, r.batch, r.precision, r.seconds * 1e3, r.batch / r.seconds);
}

std::string gpu_benchmark_program()
{
  return DDLSIM_GPU_BENCHMARK;
}

}  // namespace ddlsim::cli
