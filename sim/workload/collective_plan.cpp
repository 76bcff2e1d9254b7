#include "sim/workload/collective_plan.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_map>

using namespace ddlsim::scenario;

namespace ddlsim::workload {

namespace {
// Above this many step-level messages per collective (times the groups that run it at once),
// `auto` uses flow fidelity: a step-level ring at p = 181 already has 65,160 messages, and
// SimGrid 3.32 handles ~1e5 per CPU second.
constexpr double AUTO_FLOW_MESSAGES = 65536;
}  // namespace

coll::ScheduleFidelity choose_fidelity(Fidelity requested, double messages, double concurrent)
{
  switch (requested) {
  case Fidelity::step: return coll::ScheduleFidelity::step;
  case Fidelity::flow: return coll::ScheduleFidelity::flow;
  case Fidelity::auto_: break;
  }
  return messages * concurrent > AUTO_FLOW_MESSAGES ? coll::ScheduleFidelity::flow : coll::ScheduleFidelity::step;
}

coll::AggregationTree aggregation_tree(const topo::Topology& t, const std::vector<std::uint32_t>& gpus,
                                       std::uint32_t tree_index)
{
  constexpr std::uint32_t NONE = topo::Topology::NO_HOST;
  const auto ranks = static_cast<std::uint32_t>(gpus.size());
  const auto parent_of = [&](std::uint32_t host) {
    return t.aggregation_parent(host, tree_index);
  };
  // The switches above the group's GPUs and how many of the group's branches each joins.
  std::map<std::uint32_t, std::uint32_t> children;  // switch host -> children in the group's tree
  for (std::uint32_t gpu : gpus) {
    std::uint32_t u = parent_of(gpu);
    if (u == NONE)
      throw std::invalid_argument("in_network: GPU " + std::to_string(gpu) + " has no switch that sums above it");
    while (u != NONE) {
      const bool fresh = children[u]++ == 0;
      if (!fresh)
        break;  // the rest of the way up is counted already
      u = parent_of(u);
    }
  }
  // A switch with one child only passes data through: its child sends to the switch above it.
  auto effective = [&](std::uint32_t host) {
    std::uint32_t u = parent_of(host);
    while (u != NONE && children.at(u) == 1)
      u = parent_of(u);
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
  for (std::uint32_t gpu : gpus)
    for (std::uint32_t u = effective(gpu), h = 1; u != NONE; u = effective(u), ++h) {
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
    const std::uint32_t host = r < ranks ? gpus[r] : kept[r - ranks];
    const std::uint32_t up = effective(host);
    if (up == NONE)
      continue;
    tree.parent[r] = rank_of.at(up);
    ++fanin[tree.parent[r]];
    tree.hop_latency_s = std::max(tree.hop_latency_s, t.route_latency_seconds(host, up));
    tree.hop_bandwidth = std::min(tree.hop_bandwidth, t.route_bandwidth_bytes_per_s(host, up));
  }
  for (std::uint32_t host : kept)
    tree.height.push_back(height.at(host));
  tree.levels = tree.height.back();
  tree.fanin.assign(tree.levels, 0);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    coll::Rank& most = tree.fanin[tree.height[i] - 1];
    most = std::max(most, fanin[ranks + i]);
  }
  return tree;
}

coll::AggregationTree aggregation_tree(const topo::Topology& t, std::uint32_t ranks)
{
  std::vector<std::uint32_t> gpus(ranks);
  std::iota(gpus.begin(), gpus.end(), 0U);
  return aggregation_tree(t, gpus, 0);
}

namespace {
/// collnet's trees: node-local index l's over the group's GPUs l, c + l, 2c + l, ..., in the
/// topology's tree l mod its trees; and per level the most pieces a switch sums in a step from all
/// of them.
void collnet_trees(const topo::Topology& t, coll::GroupShape& g)
{
  const std::uint32_t c = g.gpus_per_node, nodes = g.ranks / c;
  if (nodes < 2)
    return;
  const std::uint32_t trees = std::max<std::uint32_t>(1, t.aggregation_trees());
  std::map<std::uint32_t, coll::Rank> load;  // switch host -> children over all trees
  for (std::uint32_t l = 0; l < c; ++l) {
    std::vector<std::uint32_t> gpus(nodes);
    for (std::uint32_t n = 0; n < nodes; ++n)
      gpus[n] = g.gpu(n * c + l);
    coll::AggregationTree tree = aggregation_tree(t, gpus, l % trees);
    for (std::size_t r = 0; r + 1 < tree.parent.size(); ++r)
      ++load[tree.hosts[tree.parent[r] - nodes]];
    g.collnet.push_back(std::move(tree));
  }
  // Trees whose child-parent routes cross one link direction share its bandwidth (fewer trees than
  // GPUs in a node, or a NIC per node): each tree's hop_bandwidth becomes its routes' narrowest
  // share, so the cost that `auto` weighs sees it (at every level, an upper bound).
  std::unordered_map<std::size_t, std::uint32_t> crossing;  // link direction -> child-parent routes
  std::vector<topo::Hop> route;
  const auto child_host = [&](std::uint32_t l, std::size_t r) {
    return r < nodes ? g.gpu(static_cast<coll::Rank>(r * c + l)) : g.collnet[l].hosts[r - nodes];
  };
  const auto parent_host = [&](std::uint32_t l, std::size_t r) {
    return g.collnet[l].hosts[g.collnet[l].parent[r] - nodes];
  };
  for (std::uint32_t l = 0; l < c; ++l)
    for (std::size_t r = 0; r + 1 < g.collnet[l].parent.size(); ++r) {
      route.clear();
      t.route(child_host(l, r), parent_host(l, r), route);
      for (const topo::Hop& h : route)
        ++crossing[2 * std::size_t{h.edge} + (h.forward ? 0 : 1)];
    }
  for (std::uint32_t l = 0; l < c; ++l) {
    coll::AggregationTree& tree = g.collnet[l];
    for (std::size_t r = 0; r + 1 < tree.parent.size(); ++r) {
      route.clear();
      t.route(child_host(l, r), parent_host(l, r), route);
      for (const topo::Hop& h : route)
        tree.hop_bandwidth =
            std::min(tree.hop_bandwidth,
                     t.link(h.edge).bandwidth_bytes_per_s / crossing.at(2 * std::size_t{h.edge} + (h.forward ? 0 : 1)));
    }
  }
  for (std::uint32_t l = 0; l < c; ++l) {
    const coll::AggregationTree& tree = g.collnet[l];
    if (g.collnet_load.size() < tree.levels)
      g.collnet_load.resize(tree.levels, 0);
    for (std::size_t i = 0; i < tree.hosts.size(); ++i) {
      coll::Rank& most = g.collnet_load[tree.height[i] - 1];
      most = std::max(most, load.at(tree.hosts[i]));
    }
  }
}
}  // namespace

coll::GroupShape group_shape(const topo::Topology& t, std::uint32_t ranks, std::uint32_t gpus_per_node,
                             std::uint32_t first, std::uint32_t stride)
{
  coll::GroupShape g{ranks, gpus_per_node, 0, 1, 0, 1};
  g.first_gpu = first;
  g.gpu_stride = stride;
  if (t.switch_aggregator_count() > 0 && ranks > 1) {  // switches that sum
    std::vector<std::uint32_t> gpus(ranks);
    for (std::uint32_t r = 0; r < ranks; ++r)
      gpus[r] = g.gpu(r);
    g.in_network = aggregation_tree(t, gpus, 0);
    g.aggregator_reduce_bytes_per_s = t.aggregator_reduce_bytes_per_s(0);
    if (g.collnet_ready())
      collnet_trees(t, g);
  }
  if (t.server_count() > 0) {  // parameter servers on CPU hosts of their own
    g.ps_servers = static_cast<coll::Rank>(t.server_count());
    g.ps_server_host = t.server_host(0);
  }
  if (ranks < 2)
    return g;
  const std::uint32_t inside = gpus_per_node > 1 ? 1 : 0;
  const std::uint32_t outside = ranks > gpus_per_node ? gpus_per_node : 1;
  g.alpha_inter_s = t.route_latency_seconds(first, g.gpu(outside));
  g.bandwidth_inter = t.route_bandwidth_bytes_per_s(first, g.gpu(outside));
  g.alpha_intra_s = inside ? t.route_latency_seconds(first, g.gpu(inside)) : g.alpha_inter_s;
  g.bandwidth_intra = inside ? t.route_bandwidth_bytes_per_s(first, g.gpu(inside)) : g.bandwidth_inter;
  return g;
}

PlannedCollective plan_collective(coll::Op op, coll::Algorithm requested, Fidelity fidelity,
                                  const coll::GroupShape& group, double bytes, double concurrent)
{
  const coll::Algorithm algorithm =
      requested == coll::Algorithm::auto_ ? coll::choose_algorithm(op, group, bytes) : requested;
  const coll::ScheduleFidelity f = choose_fidelity(fidelity, coll::step_messages(op, algorithm, group), concurrent);
  return {coll::make_schedule(op, algorithm, group, bytes, f), coll::schedule_hosts(algorithm, group), algorithm, f};
}

}  // namespace ddlsim::workload
