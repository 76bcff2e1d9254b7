// One simulation of one scenario: the topology, the SimGrid engine and platform, then the
// workload's run (training_run.cpp, or a collective benchmark here) and report.json.
#include "sim/runner/simulate.hpp"

#include "sim/report/links.hpp"
#include "sim/report/trace.hpp"
#include "sim/runner/steps.hpp"
#include "sim/workload/collective_plan.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace ddlsim::runner {

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::report;
using nlohmann::json;

namespace {

/// nccl-tests' columns per size: time between the barriers around it, algorithm and bus bandwidth.
json result_rows(const CollectiveConfig& c, std::uint32_t p, const Timeline& tl,
                 const std::vector<std::uint32_t>& barriers, const std::vector<PlannedCollective>& plans)
{
  json rows = json::array();
  const double element = bytes_per_element(c.precision);
  const double bus_factor = coll::busbw_factor(c.op, p);
  for (std::size_t i = 0; i < c.sizes_bytes.size(); ++i) {
    const double bytes = c.sizes_bytes[i];
    const double seconds = tl.end_seconds[barriers[i + 1]] - tl.end_seconds[barriers[i]];
    const double algbw = seconds > 0 ? bytes / seconds : 0;
    rows.push_back({{"size_bytes", bytes},
                    {"count", std::floor(bytes / element)},
                    {"time_us", seconds * 1e6},
                    {"algbw_GBps", algbw / 1e9},
                    {"busbw_GBps", algbw * bus_factor / 1e9},
                    {"algorithm", coll::to_string(plans[i].algorithm)},
                    {"fidelity", plans[i].fidelity == coll::ScheduleFidelity::step ? "step" : "flow"}});
  }
  return rows;
}

}  // namespace

json cluster_summary(const Scenario& s, const topo::Topology& topology)
{
  const ClusterConfig& c = s.cluster;
  return {{"gpus", c.gpus()},
          {"nodes", c.nodes},
          {"gpus_per_node", c.gpus_per_node},
          {"nics_per_node", c.nics_per_node},
          {"topology", topo::to_string(c.network.topology)},
          {"network_link", c.network.link.preset.empty() ? "inline" : c.network.link.preset},
          {"network_bandwidth_bytes_per_s", c.network.link.bandwidth_bytes_per_s},
          {"network_latency_s", c.network.link.latency_seconds},
          {"sharing", to_string(c.network.sharing)},
          {"links", topology.link_count()},
          {"slow_links", slow_links_json(c)}};
}

ExecOptions exec_options(const Scenario& s)
{
  ExecOptions o;
  o.reduce_seconds_per_byte = s.gpu.reduce_seconds_per_byte();
  o.record_transfers = s.output.trace;
  return o;
}

RunResult finish(const Scenario& s, const topo::Topology& topology, const Timeline& tl, const TaskGraph& graph,
                 json report)
{
  LinkReport links = link_report(topology, tl);
  report["links"] = std::move(links.summary);
  RunResult result{std::move(report), nullptr, std::move(links.csv)};
  if (s.output.trace)
    result.trace = chrome_trace(graph, tl, s.cluster.gpus_per_node, s.output.trace_ranks);
  return result;
}

RunResult simulate_collective(const Scenario& s, const topo::Topology& topology, const Platform& platform)
{
  const CollectiveConfig& c = s.collective;
  const auto p = static_cast<std::uint32_t>(s.cluster.gpus());
  coll::GroupShape shape = group_shape(topology, p, static_cast<std::uint32_t>(s.cluster.gpus_per_node));
  shape.channels = static_cast<coll::Rank>(c.channels);

  // One collective per size, separated by barriers so each is timed from a common start.
  TaskGraph g;
  std::vector<std::uint32_t> barriers{g.add_join("start")};
  std::vector<PlannedCollective> plans;
  if (c.algorithm == coll::Algorithm::ps && c.placement == PsPlacement::colocated)
    shape.ps_servers = static_cast<coll::Rank>(c.servers);
  if (!c.alltoall_weights.empty() || c.alltoall_zipf >= 0)  // an all-to-allv
    shape.alltoall_shares = std::make_shared<const std::vector<double>>(
        coll::alltoall_shares(p, c.alltoall_zipf >= 0 ? coll::zipf_weights(p, c.alltoall_zipf) : c.alltoall_weights));
  for (double bytes : c.sizes_bytes) {
    plans.push_back(plan_collective(c.op, c.algorithm, c.fidelity, shape, bytes));
    const std::uint32_t col =
        g.add_collective(std::move(plans.back().schedule), plans.back().hosts, coll::to_string(c.op));
    const std::uint32_t barrier = g.add_join("barrier");
    for (std::uint32_t task : g.collective(col).tasks) {
      g.add_dependency(barriers.back(), task);
      g.add_dependency(task, barrier);
    }
    barriers.push_back(barrier);
  }
  const Timeline tl = execute(g, platform, exec_options(s));

  const json rows = result_rows(c, p, tl, barriers, plans);
  json report = {
      {"schema", 1},
      {"scenario", s.name},
      {"kind", "collective"},
      {"cluster", cluster_summary(s, topology)},
      {"collective",
       {{"op", coll::to_string(c.op)},
        {"algorithm", coll::to_string(c.algorithm)},
        {"ranks", p},
        {"precision", to_string(c.precision)},
        {"fidelity", plans.empty() || plans.back().fidelity == coll::ScheduleFidelity::step ? "step" : "flow"},
        {"fidelity_requested", to_string(c.fidelity)},
        {"servers", c.algorithm == coll::Algorithm::ps ? json(c.servers) : json(nullptr)},
        {"placement", c.algorithm == coll::Algorithm::ps ? json(to_string(c.placement)) : json(nullptr)},
        {"alltoall_weights", c.op != coll::Op::alltoall    ? json(nullptr)
                             : c.alltoall_zipf >= 0        ? json(fmt::format("zipf {}", c.alltoall_zipf))
                             : !c.alltoall_weights.empty() ? json("matrix")
                                                           : json("uniform")}}},
      {"results", rows},
      {"reduction",
       {{"charged", s.gpu.reduce_seconds_per_byte() > 0}, {"seconds_per_byte", s.gpu.reduce_seconds_per_byte()}}},
      {"simulation",
       {{"transfers", tl.transfers},
        {"timers", tl.timers},
        {"tasks", g.tasks().size()},
        {"simulated_seconds", tl.makespan_seconds}}}};
  return finish(s, topology, tl, g, std::move(report));
}

RunResult simulate(const Scenario& s)
{
  const auto wall_start = std::chrono::steady_clock::now();
  const topo::Topology topology = topo::make_cluster(cluster_params(s));
  create_engine(s.cluster.network.sharing);
  const Platform platform(topology, s.cluster.network.sharing);
  RunResult result = s.kind == WorkloadKind::training ? simulate_training(s, topology, platform)
                                                      : simulate_collective(s, topology, platform);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.report["wall_clock"] = {{"simulator_seconds", wall}};
  return result;
}

}  // namespace ddlsim::runner
