#pragma once
// Helpers for tests that run a one-size collective scenario end to end (parse, simulate in a
// forked child) and read its time, algorithm and per-tier link bytes from the report.
#include "sim/child_process.hpp"
#include "sim/run.hpp"
#include "sim/scenario.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace ddlsim::test {

/// `base` (a scenario's JSON text) with `network` merged into cluster.network and `workload` into
/// workload; either may be {} (which nlohmann turns into null: nothing merged).
inline nlohmann::json merged_scenario(const char* base, const nlohmann::json& network, const nlohmann::json& workload)
{
  nlohmann::json j = nlohmann::json::parse(base);
  if (network.is_object())
    j["cluster"]["network"].update(network);
  if (workload.is_object())
    j["workload"].update(workload);
  return j;
}

struct CollectiveOutcome {
  double seconds = 0;  ///< the first size's simulated time
  std::string algorithm;
  std::map<std::string, double> tier_bytes;  ///< bytes carried per link tier ("nic", "leaf_spine", ...)
};

/// Runs the scenario `scenario` (read as `file`) and returns its first size's result.
inline CollectiveOutcome run_collective_scenario(const nlohmann::json& scenario, const std::string& file)
{
  const Scenario s = parse_scenario(scenario, file);
  const nlohmann::json report = run_in_child([&] { return simulate(s).report; });
  CollectiveOutcome o{
      report["results"][0]["time_us"].get<double>() * 1e-6, report["results"][0]["algorithm"].get<std::string>(), {}};
  for (const auto& tier : report["links"]["per_tier"])
    o.tier_bytes[tier["tier"].get<std::string>()] = tier["bytes"].get<double>();
  return o;
}

}  // namespace ddlsim::test
