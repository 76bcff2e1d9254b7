#include "sim/report/summary.hpp"

#include "sim/report/text.hpp"

#include <fmt/format.h>

namespace ddlsim::report {

using nlohmann::json;
using scenario::Scenario;

namespace {

std::string cluster_line(const Scenario& s)
{
  const scenario::ClusterConfig& c = s.cluster;
  std::string intra;
  if (c.intra.bandwidth_bytes_per_s > 0 && c.gpus_per_node > 1)
    intra = fmt::format(", {} {} per GPU", topo::to_string(c.fabric), rate_text(c.intra.bandwidth_bytes_per_s));
  const std::string link = c.network.link.preset.empty() ? "inline link" : c.network.link.preset;
  std::string slow;
  for (const auto& [name, factor] : c.slow_links)
    slow += fmt::format("{}{} at {:g} of its bandwidth", slow.empty() ? "; slow links: " : ", ", name, factor);
  for (std::size_t i = 0; i < c.network.failed_links.size(); ++i)
    slow += fmt::format("{}{}", i == 0 ? "; failed links: " : ", ", c.network.failed_links[i]);
  return fmt::format("{} nodes x {} GPUs = {} GPUs{}, {} to a {} switch ({}, {} latency), {} sharing{}", c.nodes,
                     c.gpus_per_node, c.gpus(), intra,
                     c.nic_placement() == topo::NicPlacement::per_gpu           ? "a NIC per GPU"
                     : c.nic_placement() == topo::NicPlacement::per_pcie_switch ? "a NIC per PCIe switch"
                                                                                : "a NIC per node",
                     topo::to_string(c.network.topology), link + ": " + rate_text(c.network.link.bandwidth_bytes_per_s),
                     seconds_text(c.network.link.latency_seconds), to_string(c.network.sharing), slow);
}

/// The collective line and the nccl-tests-style table of a collective benchmark.
std::string collective_lines(const json& r)
{
  const auto& c = r.at("collective");
  const bool v =
      c.contains("alltoall_weights") && c.at("alltoall_weights").is_string() && c.at("alltoall_weights") != "uniform";
  std::string out =
      fmt::format("  collective          {} {} over {} ranks, {}, {} fidelity{}\n",
                  c.at("algorithm").get<std::string>(), c.at("op").get<std::string>(), c.at("ranks").get<int>(),
                  c.at("precision").get<std::string>(), c.at("fidelity").get<std::string>(),
                  v ? fmt::format(", all-to-allv weights: {} (size: the mean a rank sends)",
                                  c.at("alltoall_weights").get<std::string>())
                    : "");
  out += fmt::format("\n  {:>14} {:>14} {:>14} {:>12} {:>12}  {}\n", "size (B)", "count (elems)", "time (us)",
                     "algbw (GB/s)", "busbw (GB/s)", "algorithm");
  for (const auto& row : r.at("results"))
    out +=
        fmt::format("  {:>14.0f} {:>14.0f} {:>14.2f} {:>12.2f} {:>12.2f}  {}\n", row.at("size_bytes").get<double>(),
                    row.at("count").get<double>(), row.at("time_us").get<double>(), row.at("algbw_GBps").get<double>(),
                    row.at("busbw_GBps").get<double>(), row.at("algorithm").get<std::string>());
  return out + "\n";
}

}  // namespace

std::string summary_text(const Scenario& s, const json& r)
{
  std::string out = fmt::format("ddlsim: {} ({})\n", s.name, s.file);
  out += fmt::format("  cluster             {}\n", cluster_line(s));
  out += r.at("kind") == "training" ? training_summary_lines(s, r) : collective_lines(r);
  const auto& sim = r.at("simulation");
  out += fmt::format("  simulated with      {} transfers and {} timers in {:.3f} s of wall time\n",
                     sim.at("transfers").get<long long>(), sim.at("timers").get<long long>(),
                     r.at("wall_clock").at("simulator_seconds").get<double>());
  return out;
}

}  // namespace ddlsim::report
