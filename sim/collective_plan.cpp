#include "sim/collective_plan.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

namespace ddlsim {

namespace {
// Above this many step-level messages per collective, `auto` uses flow fidelity: a step-level
// ring at p = 181 already has 65,160 messages, and SimGrid 3.32 handles ~1e5 per CPU second.
constexpr double AUTO_FLOW_MESSAGES = 65536;
}  // namespace

coll::ScheduleFidelity choose_fidelity(Fidelity requested, double messages)
{
  switch (requested) {
  case Fidelity::step: return coll::ScheduleFidelity::step;
  case Fidelity::flow: return coll::ScheduleFidelity::flow;
  case Fidelity::auto_: break;
  }
  return messages > AUTO_FLOW_MESSAGES ? coll::ScheduleFidelity::flow : coll::ScheduleFidelity::step;
}

coll::AggregationTree aggregation_tree(const topo::Topology& t, std::uint32_t ranks)
{
  constexpr std::uint32_t NONE = topo::Topology::NO_HOST;
  // The switches above the group's GPUs and how many of the group's branches each joins.
  std::map<std::uint32_t, std::uint32_t> children;  // switch host -> children in the group's tree
  for (std::uint32_t r = 0; r < ranks; ++r) {
    std::uint32_t u = t.aggregation_parent(r);
    if (u == NONE)
      throw std::invalid_argument("in_network: GPU " + std::to_string(r) + " has no switch that sums above it");
    while (u != NONE) {
      const bool fresh = children[u]++ == 0;
      if (!fresh)
        break;  // the rest of the way up is counted already
      u = t.aggregation_parent(u);
    }
  }
  // A switch with one child only passes data through: its child sends to the switch above it.
  auto effective = [&](std::uint32_t host) {
    std::uint32_t u = t.aggregation_parent(host);
    while (u != NONE && children.at(u) == 1)
      u = t.aggregation_parent(u);
    return u;
  };
  std::vector<std::uint32_t> kept;
  for (const auto& [host, n] : children)
    if (n > 1)
      kept.push_back(host);
  if (kept.empty())
    throw std::invalid_argument("in_network: a group of one GPU has nothing to sum");
  // Height of each kept switch, then order: lower first, so parents follow children; the root last.
  std::map<std::uint32_t, coll::Rank> height;
  for (std::uint32_t r = 0; r < ranks; ++r)
    for (std::uint32_t u = effective(r), h = 1; u != NONE; u = effective(u), ++h) {
      coll::Rank& known = height[u];
      if (known >= h)
        break;
      known = h;
    }
  std::sort(kept.begin(), kept.end(),
            [&](std::uint32_t a, std::uint32_t b) { return std::pair(height.at(a), a) < std::pair(height.at(b), b); });
  coll::AggregationTree tree;
  tree.hosts = kept;
  std::map<std::uint32_t, coll::Rank> rank_of;
  for (std::size_t i = 0; i < kept.size(); ++i)
    rank_of[kept[i]] = static_cast<coll::Rank>(ranks + i);
  const auto n = static_cast<std::uint32_t>(ranks + kept.size());
  tree.parent.assign(n, coll::NO_PARENT);
  tree.hop_bandwidth = std::numeric_limits<double>::infinity();
  std::vector<coll::Rank> fanin(n, 0);
  for (std::uint32_t r = 0; r < n; ++r) {
    const std::uint32_t host = r < ranks ? r : kept[r - ranks];
    const std::uint32_t up = effective(host);
    if (up == NONE)
      continue;
    tree.parent[r] = rank_of.at(up);
    ++fanin[tree.parent[r]];
    tree.hop_latency_s = std::max(tree.hop_latency_s, t.route_latency_seconds(host, up));
    tree.hop_bandwidth = std::min(tree.hop_bandwidth, t.route_bandwidth_bytes_per_s(host, up));
  }
  tree.levels = height.at(kept.back());
  tree.fanin.assign(tree.levels, 0);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    coll::Rank& most = tree.fanin[height.at(kept[i]) - 1];
    most = std::max(most, fanin[ranks + i]);
  }
  return tree;
}

coll::GroupShape group_shape(const topo::Topology& t, std::uint32_t ranks, std::uint32_t gpus_per_node)
{
  coll::GroupShape g{ranks, gpus_per_node, 0, 1, 0, 1};
  if (t.switch_aggregator_count() > 0 && ranks > 1) {  // switches that sum
    g.in_network = aggregation_tree(t, ranks);
    g.aggregator_reduce_bytes_per_s = t.aggregator_reduce_bytes_per_s(0);
  }
  if (t.server_count() > 0) {  // parameter servers on CPU hosts of their own
    g.ps_servers = static_cast<coll::Rank>(t.server_count());
    g.ps_server_host = t.server_host(0);
  }
  if (ranks < 2)
    return g;
  const std::uint32_t inside = gpus_per_node > 1 ? 1 : 0;
  const std::uint32_t outside = ranks > gpus_per_node ? gpus_per_node : 1;
  g.alpha_inter_s = t.route_latency_seconds(0, outside);
  g.bandwidth_inter = t.route_bandwidth_bytes_per_s(0, outside);
  g.alpha_intra_s = inside ? t.route_latency_seconds(0, inside) : g.alpha_inter_s;
  g.bandwidth_intra = inside ? t.route_bandwidth_bytes_per_s(0, inside) : g.bandwidth_inter;
  return g;
}

PlannedCollective plan_collective(coll::Op op, coll::Algorithm requested, Fidelity fidelity,
                                  const coll::GroupShape& group, double bytes)
{
  const coll::Algorithm algorithm =
      requested == coll::Algorithm::auto_ ? coll::choose_algorithm(op, group, bytes) : requested;
  const coll::ScheduleFidelity f = choose_fidelity(fidelity, coll::step_messages(op, algorithm, group));
  return {coll::make_schedule(op, algorithm, group, bytes, f), coll::schedule_hosts(algorithm, group), algorithm, f};
}

}  // namespace ddlsim
