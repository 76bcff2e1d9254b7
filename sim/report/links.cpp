#include "sim/report/links.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

namespace ddlsim::report {

LinkReport link_report(const topo::Topology& topology, const Timeline& tl)
{
  using nlohmann::json;
  LinkReport out;
  out.csv = "link,from,to,tier,bandwidth_Bps,bytes,busy_s,busy_fraction,utilization\n";
  const double span = tl.makespan_seconds;
  struct TierTotals {
    std::size_t directions = 0, used = 0;
    double bytes = 0, utilization_sum = 0, utilization_max = 0, busy_max = 0;
  };
  std::map<std::string, TierTotals> tiers;
  std::vector<std::size_t> order;
  const std::size_t directions = tl.link_bytes.size();
  for (std::size_t d = 0; d < directions; ++d) {
    const auto id = static_cast<std::uint32_t>(d / 2);
    const topo::EdgeProps& link = topology.link(id);
    auto [a, b] = topology.link_ends(id);
    if (d % 2)
      std::swap(a, b);
    const double bytes = tl.link_bytes[d];
    const double busy = tl.link_busy_seconds[d];
    const double busy_fraction = span > 0 ? busy / span : 0;
    const double utilization = span > 0 ? bytes / (link.bandwidth_bytes_per_s * span) : 0;
    out.csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", link.name, a, b, topo::to_string(link.tier),
                           link.bandwidth_bytes_per_s, bytes, busy, busy_fraction, utilization);
    TierTotals& t = tiers[topo::to_string(link.tier)];
    ++t.directions;
    t.used += bytes > 0;
    t.bytes += bytes;
    t.utilization_sum += utilization;
    t.utilization_max = std::max(t.utilization_max, utilization);
    t.busy_max = std::max(t.busy_max, busy_fraction);
    order.push_back(d);
  }
  json per_tier = json::array();
  for (const auto& [name, t] : tiers)
    per_tier.push_back({{"tier", name},
                        {"link_directions", t.directions},
                        {"used", t.used},
                        {"bytes", t.bytes},
                        {"utilization_mean", t.utilization_sum / double(t.directions)},
                        {"utilization_max", t.utilization_max},
                        {"busy_fraction_max", t.busy_max}});
  // The five busiest directions by bytes over capacity; ties by index, so the list is deterministic.
  auto util = [&](std::size_t d) {
    return tl.link_bytes[d] / topology.link(static_cast<std::uint32_t>(d / 2)).bandwidth_bytes_per_s;
  };
  const std::size_t top = std::min<std::size_t>(5, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](std::size_t x, std::size_t y) { return util(x) != util(y) ? util(x) > util(y) : x < y; });
  json busiest = json::array();
  for (std::size_t i = 0; i < top && tl.link_bytes[order[i]] > 0; ++i) {
    const std::size_t d = order[i];
    const auto id = static_cast<std::uint32_t>(d / 2);
    auto [a, b] = topology.link_ends(id);
    if (d % 2)
      std::swap(a, b);
    busiest.push_back({{"link", topology.link(id).name},
                       {"from", a},
                       {"to", b},
                       {"tier", topo::to_string(topology.link(id).tier)},
                       {"bytes", tl.link_bytes[d]},
                       {"utilization", span > 0 ? util(d) / span : 0},
                       {"busy_fraction", span > 0 ? tl.link_busy_seconds[d] / span : 0}});
  }
  out.summary = {{"per_tier", per_tier}, {"busiest", busiest}};
  return out;
}

}  // namespace ddlsim::report
