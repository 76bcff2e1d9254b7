#pragma once
// Helpers for the collective tests on clusters: a route's link names, a flow schedule against
// as_flows of its steps, the durations of one algorithm's all-reduces over sizes, and a one-size
// collective scenario run end to end (parse, simulate in a forked child) with its time, algorithm
// and per-tier link bytes.
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim_helpers.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "approx.hpp"

#include <cmath>
#include <tuple>

#include <map>
#include <string>

namespace ddlsim::test {

// Test helpers see the layers they drive without qualification.
using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::runner;

/// The links of the route from host a to host b, each as "NAME up" or "NAME down".
inline std::vector<std::string> link_names(const topo::Topology& t, std::uint32_t a, std::uint32_t b)
{
  std::vector<std::string> names;
  for (const topo::Hop& h : t.route(a, b))
    names.push_back(t.link(h.edge).name + (h.forward ? " up" : " down"));
  return names;
}

/// Checks that a flow schedule built directly equals as_flows of the steps (`merged`): the same
/// steps, pairs and message counts, bytes to 1e-12.
inline void check_same_flows(const coll::Schedule& direct, const coll::Schedule& merged)
{
  REQUIRE(direct.steps() == merged.steps());
  for (std::size_t k = 0; k < merged.steps(); ++k) {
    REQUIRE(direct.step(k).size() == merged.step(k).size());
    for (std::size_t i = 0; i < merged.step(k).size(); ++i) {
      const coll::Transfer &x = direct.step(k)[i], &y = merged.step(k)[i];
      CHECK(std::tie(x.src, x.dst, x.messages) == std::tie(y.src, y.dst, y.messages));
      CHECK(x.bytes == Rel(y.bytes).epsilon(1e-12));
      CHECK(std::abs(x.reduce_bytes - y.reduce_bytes) <= 1e-12 * y.bytes);
    }
  }
}

/// Durations of `algorithm` all-reduces of `sizes` over GPUs 0..p-1 of `cluster` (nodes of
/// `gpus_per_node`), one after another, at `fidelity`.
inline std::vector<double> allreduce_times(const topo::ClusterParams& cluster, coll::Algorithm algorithm, coll::Rank p,
                                           std::uint32_t gpus_per_node, const std::vector<double>& sizes,
                                           coll::ScheduleFidelity fidelity)
{
  const topo::Topology t = topo::make_cluster(cluster);
  const coll::GroupShape g = group_shape(t, p, gpus_per_node);
  std::vector<coll::Schedule> schedules;
  for (double bytes : sizes)
    schedules.push_back(coll::make_schedule(coll::Op::allreduce, algorithm, g, bytes, fidelity));
  return durations(simulate_in_child(cluster, [&](TaskGraph& graph) {
    return add_timed_sequence(graph, schedules, coll::schedule_hosts(algorithm, g));
  }));
}

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
