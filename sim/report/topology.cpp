#include "sim/report/topology.hpp"

#include "sim/scenario/error.hpp"
#include "topologies/metrics.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>

using namespace ddlsim::scenario;

namespace ddlsim::report {

nlohmann::json describe_topology(const Scenario& s, const std::string& dot_path)
{
  const auto start = std::chrono::steady_clock::now();
  const topo::Topology t = topo::make_cluster(cluster_params(s));
  const double build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const topo::TopologyMetrics m = topo::measure(t);
  nlohmann::json tiers = nlohmann::json::object();
  for (const auto& [tier, count] : m.links_per_tier)
    tiers[topo::to_string(tier)] = count;
  if (!dot_path.empty()) {
    std::ofstream out(dot_path);
    topo::write_dot(t, out);
    if (!out)
      throw SimulationError("cannot write " + dot_path);
  }
  nlohmann::json d = {{"scenario", s.name},
                      {"topology", topo::to_string(s.cluster.network.topology)},
                      {"nodes", s.cluster.nodes},
                      {"gpus", m.gpus},
                      {"switches", m.switches},
                      {"links", m.links},
                      {"links_per_tier", tiers},
                      {"injection_bytes_per_s_per_gpu", m.injection_bytes_per_s},
                      {"bisection_bytes_per_s", m.bisection_bytes_per_s},
                      {"diameter_links", m.diameter_links},
                      {"diameter_exact", m.diameter_exact},
                      {"diameter_sources", m.diameter_sources},
                      {"build_seconds", build_seconds}};
  if (t.switch_aggregator_count() > 0)  // switches that sum (SHARP): how many, in how many trees, how fast
    d["summing_switches"] = {{"count", t.switch_aggregator_count()},
                             {"aggregation_trees", t.aggregation_trees()},
                             {"reduce_bytes_per_s", t.aggregator_reduce_bytes_per_s(0)}};
  return d;
}

std::string topology_text(const nlohmann::json& d)
{
  std::string tiers;
  for (const auto& [tier, count] : d.at("links_per_tier").items())
    tiers += fmt::format("{}{} {}", tiers.empty() ? "" : ", ", count.get<std::size_t>(), tier);
  std::string out = fmt::format("topology        {} ({})\n", d.at("topology").get<std::string>(),
                                d.at("scenario").get<std::string>());
  out += fmt::format("GPUs            {} in {} nodes\n", d.at("gpus").get<std::size_t>(), d.at("nodes").get<int>());
  out += fmt::format("switches        {}\n", d.at("switches").get<std::size_t>());
  out += fmt::format("links           {} full-duplex: {}\n", d.at("links").get<std::size_t>(), tiers);
  out += fmt::format("injection       {:.2f} GB/s per GPU (NIC bandwidth / GPUs, each direction)\n",
                     d.at("injection_bytes_per_s_per_gpu").get<double>() / 1e9);
  out += fmt::format("bisection       {:.2f} GB/s each direction (max flow between GPU ranks' halves)\n",
                     d.at("bisection_bytes_per_s").get<double>() / 1e9);
  out += fmt::format("diameter        {} links ({})\n", d.at("diameter_links").get<std::size_t>(),
                     d.at("diameter_exact").get<bool>()
                         ? std::string("exact, every GPU pair's route")
                         : fmt::format("routes from {} sources", d.at("diameter_sources").get<std::size_t>()));
  if (d.contains("summing_switches")) {
    const nlohmann::json& a = d.at("summing_switches");
    const auto trees = a.at("aggregation_trees").get<std::uint32_t>();
    const auto count = a.at("count").get<std::size_t>();
    out += fmt::format("summing         {} switch{} in {} aggregation tree{}, {:.2f} GB/s each{}", count,
                       count == 1 ? "" : "es", trees, trees == 1 ? "" : "s",
                       a.at("reduce_bytes_per_s").get<double>() / 1e9, "\n");
  }
  return out;
}

}  // namespace ddlsim::report
