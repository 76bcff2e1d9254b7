#pragma once
// Helpers for tests that simulate: each simulation runs in a forked child (one SimGrid engine per
// process), on a star platform built here.
#include "sim/engine/child_process.hpp"
#include "sim/engine/executor.hpp"
#include "sim/engine/platform.hpp"
#include "sim/engine/task_graph.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/scenario.hpp"
#include "topologies/star.hpp"

#include <functional>
#include <string>
#include <vector>

namespace ddlsim::test {

// Test helpers see the layers they drive without qualification.
using namespace ddlsim::scenario;
using namespace ddlsim::engine;

/// A training scenario of `model` on `nodes` nodes of 4 GPUs joined by an NVSwitch (100 GB/s, 1 us a
/// link: a GPU-to-GPU route is 2 us, no two ring hops share a link direction), a 10 GB/s, 1 us NIC
/// per node; compute at 100 TFLOPS and efficiency 1; 2 samples per GPU in fp16, 3 iterations at
/// step fidelity, policy none (the data-parallel synchronisation starts after backward).
inline nlohmann::json nvswitch_training(const nlohmann::json& model, int nodes, const nlohmann::json& parallelism)
{
  return {{"schema", 1},
          {"name", "nvswitch"},
          {"model", model},
          {"gpu", {{"peak", "100TFLOPS"}, {"efficiency", 1}}},
          {"cluster",
           {{"nodes", nodes},
            {"gpus_per_node", 4},
            {"intra_node", {{"fabric", "nvswitch"}, {"bandwidth", "100GBps"}, {"latency", "1us"}}},
            {"network", {{"link", {{"bandwidth", "10GBps"}, {"latency", "1us"}}}}}}},
          {"workload",
           {{"kind", "training"},
            {"batch_per_gpu", 2},
            {"precision", "fp16"},
            {"iterations", 3},
            {"fidelity", "step"},
            {"scheduling", {{"policy", "none"}}},
            {"parallelism", parallelism}}}};
}

/// `gpus` GPUs, one per node, each with its own NIC (bandwidth, latency per link) to one switch:
/// contention-free for any permutation, route latency 2 * latency, bottleneck = bandwidth.
inline topo::StarParams flat_star(int gpus, double bandwidth_bytes_per_s, double latency_seconds)
{
  return {gpus, 1, topo::IntraFabric::nvswitch, {0, 0}, {bandwidth_bytes_per_s, latency_seconds}, true};
}

/// Builds the topology and engine in a child, runs the graph that `build` makes, and returns the
/// end times of the tasks that `build` lists.
inline std::vector<double> simulate_in_child(const std::function<topo::Topology()>& make_topology,
                                             const std::function<std::vector<std::uint32_t>(TaskGraph&)>& build,
                                             Sharing sharing = Sharing::max_min, double reduce_seconds_per_byte = 0)
{
  const nlohmann::json out = run_in_child([&]() -> nlohmann::json {
    const topo::Topology topology = make_topology();
    create_engine(sharing);
    const Platform platform(topology, sharing);
    TaskGraph graph;
    const std::vector<std::uint32_t> watch = build(graph);
    const Timeline tl = execute(graph, platform, {reduce_seconds_per_byte});
    nlohmann::json ends = nlohmann::json::array();
    for (std::uint32_t t : watch)
      ends.push_back(tl.end_seconds[t]);
    return ends;
  });
  return out.get<std::vector<double>>();
}

inline std::vector<double> simulate_in_child(const topo::StarParams& star,
                                             const std::function<std::vector<std::uint32_t>(TaskGraph&)>& build,
                                             Sharing sharing = Sharing::max_min, double reduce_seconds_per_byte = 0)
{
  return simulate_in_child([&] { return topo::make_star(star); }, build, sharing, reduce_seconds_per_byte);
}

inline std::vector<double> simulate_in_child(const topo::ClusterParams& cluster,
                                             const std::function<std::vector<std::uint32_t>(TaskGraph&)>& build,
                                             Sharing sharing = Sharing::max_min, double reduce_seconds_per_byte = 0)
{
  return simulate_in_child([&] { return topo::make_cluster(cluster); }, build, sharing, reduce_seconds_per_byte);
}

/// Adds `schedules` one after another, each started by a barrier after the previous; returns the
/// barrier tasks (n + 1 of them), so durations are differences of consecutive barrier ends.
/// Schedule rank r runs on host hosts[r], or host r (GPU r, then aggregating switches) if no hosts are given.
inline std::vector<std::uint32_t> add_timed_sequence(TaskGraph& g, const std::vector<coll::Schedule>& schedules,
                                                     const std::vector<std::uint32_t>& hosts = {})
{
  std::vector<std::uint32_t> barriers{g.add_join("start")};
  for (const coll::Schedule& s : schedules) {
    std::vector<std::uint32_t> ranks(s.ranks());
    for (std::uint32_t r = 0; r < s.ranks(); ++r)
      ranks[r] = hosts.empty() ? r : hosts.at(r);
    const std::uint32_t c = g.add_collective(s, ranks, "collective");
    const std::uint32_t barrier = g.add_join("barrier");
    for (std::uint32_t t : g.collective(c).tasks) {
      g.add_dependency(barriers.back(), t);
      g.add_dependency(t, barrier);
    }
    barriers.push_back(barrier);
  }
  return barriers;
}

/// The loader's message for `scenario` read as `file`, or "no error".
inline std::string scenario_error(const nlohmann::json& scenario, const std::string& file)
{
  try {
    parse_scenario(scenario, file);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "no error";
}

inline std::vector<double> durations(const std::vector<double>& barrier_ends)
{
  std::vector<double> d;
  for (std::size_t i = 1; i < barrier_ends.size(); ++i)
    d.push_back(barrier_ends[i] - barrier_ends[i - 1]);
  return d;
}

}  // namespace ddlsim::test
