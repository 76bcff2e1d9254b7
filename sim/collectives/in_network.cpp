// Switches that sum: in-network aggregation trees (SHARP-like) and CollNet, rings inside groups
// around a summing tree.
#include "sim/collectives/algorithms.hpp"

#include "sim/collectives/building_blocks.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ddlsim::coll {

namespace {
void check_in_network(Rank p, double bytes, Rank chunks)
{
  check(p, bytes);
  if (chunks == 0)
    throw std::invalid_argument("an in-network all-reduce needs at least one chunk");
}

/// Heights (GPUs 0) and depths (the root 0) of an aggregation tree, which it checks.
struct TreeLevels {
  std::vector<Rank> height, depth;
};

TreeLevels tree_levels(Rank p, const std::vector<Rank>& parent)
{
  const auto n = static_cast<Rank>(parent.size());
  if (n <= p)
    throw std::invalid_argument("an in-network all-reduce needs a switch that sums");
  std::vector<Rank> children(n, 0);
  for (Rank r = 0; r + 1 < n; ++r) {
    if (parent[r] < p || parent[r] <= r || parent[r] >= n)
      throw std::invalid_argument("aggregation tree: rank " + std::to_string(r) + " sends up to rank " +
                                  std::to_string(parent[r]) + "; expected a switch listed after it");
    ++children[parent[r]];
  }
  if (parent[n - 1] != NO_PARENT)
    throw std::invalid_argument("aggregation tree: the last rank is the root and has no parent");
  for (Rank u = p; u < n; ++u)
    if (children[u] == 0)
      throw std::invalid_argument("aggregation tree: switch rank " + std::to_string(u) + " sums nothing");
  TreeLevels L{std::vector<Rank>(n, 0), std::vector<Rank>(n, 0)};
  for (Rank r = 0; r + 1 < n; ++r)
    L.height[parent[r]] = std::max(L.height[parent[r]], L.height[r] + 1);
  for (Rank r = n - 1; r-- > 0;)
    L.depth[r] = L.depth[parent[r]] + 1;
  return L;
}

std::vector<Rank> one_switch(Rank p)
{
  std::vector<Rank> parent(p + 1, p);
  parent[p] = NO_PARENT;
  return parent;
}
}  // namespace

Schedule in_network_allreduce(Rank p, const std::vector<Rank>& parent, double bytes, Rank chunks)
{
  check_in_network(p, bytes, chunks);
  const TreeLevels L = tree_levels(p, parent);
  const auto n = static_cast<Rank>(parent.size());
  const Rank H = L.height[n - 1];
  const double piece = bytes / chunks;
  std::vector<std::vector<Transfer>> steps(chunks + 2 * H - 1);
  for (Rank r = 0; r + 1 < n; ++r) {
    const Rank u = parent[r];
    for (Rank k = 0; k < chunks; ++k) {
      steps[k + L.height[u] - 1].push_back({r, u, piece, 1, piece});
      steps[k + H + L.depth[u]].push_back({u, r, piece, 1, 0});
    }
  }
  Schedule s(n);
  for (auto& t : steps)
    s.add_step(std::move(t));
  return s;
}

Schedule in_network_allreduce_flows(Rank p, const std::vector<Rank>& parent, double bytes, Rank chunks)
{
  check_in_network(p, bytes, chunks);
  const TreeLevels L = tree_levels(p, parent);
  const auto n = static_cast<Rank>(parent.size());
  const Rank H = L.height[n - 1];
  const double piece = bytes / chunks;
  // Pair r -> u is busy in steps [h(u) - 1, h(u) - 1 + chunks), u -> r in [H + d(u), H + d(u) + chunks):
  // the pairs busy change only at those bounds.
  std::vector<Rank> bounds;
  for (Rank r = 0; r + 1 < n; ++r)
    for (Rank first : {L.height[parent[r]] - 1, H + L.depth[parent[r]]}) {
      bounds.push_back(first);
      bounds.push_back(first + chunks);
    }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  Schedule s(n);
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    const Rank from = bounds[i], steps = bounds[i + 1] - from;
    const double b = piece * steps;
    std::vector<Transfer> t;
    for (Rank r = 0; r + 1 < n; ++r) {
      const Rank u = parent[r], up = L.height[u] - 1, down = H + L.depth[u];
      if (up <= from && from < up + chunks)
        t.push_back({r, u, b, steps, b});
      if (down <= from && from < down + chunks)
        t.push_back({u, r, b, steps, 0});
    }
    if (!t.empty())
      s.add_step(std::move(t));
  }
  return s;
}

Schedule in_network_allreduce(Rank p, double bytes, Rank chunks)
{
  return in_network_allreduce(p, one_switch(p), bytes, chunks);
}

Schedule in_network_allreduce_flows(Rank p, double bytes, Rank chunks)
{
  return in_network_allreduce_flows(p, one_switch(p), bytes, chunks);
}

namespace {

Schedule collnet(Rank p, Rank c, const std::vector<std::vector<Rank>>& parents, double bytes, Rank chunks, bool flows)
{
  if (c == 0 || p % c != 0)
    throw std::invalid_argument("collnet all-reduce: the ranks must fill whole nodes");
  check(p, bytes);
  const Rank nodes = p / c;
  if (parents.size() != (nodes > 1 ? c : 0))
    throw std::invalid_argument("collnet all-reduce: expected an aggregation tree for each of the " +
                                std::to_string(c) + " GPUs of a node (none for one node); found " +
                                std::to_string(parents.size()));
  Rank total = p;
  std::vector<Rank> offset;
  for (const std::vector<Rank>& tree : parents) {
    if (tree.size() <= nodes)
      throw std::invalid_argument("collnet all-reduce: an aggregation tree without a switch that sums");
    offset.push_back(total);
    total += static_cast<Rank>(tree.size()) - nodes;
  }
  Schedule s(total);
  const double shard = bytes / c;
  add_group_rings(s, nodes, c, shard, true, flows);  // intra-node reduce-scatter
  std::vector<std::vector<Transfer>> steps;
  for (Rank l = 0; l < parents.size(); ++l) {
    const Schedule sub = flows ? in_network_allreduce_flows(nodes, parents[l], shard, chunks)
                               : in_network_allreduce(nodes, parents[l], shard, chunks);
    const auto global = [&](Rank x) {
      return x < nodes ? x * c + l : offset[l] + (x - nodes);
    };
    if (steps.size() < sub.steps())
      steps.resize(sub.steps());
    for (std::size_t k = 0; k < sub.steps(); ++k)
      for (const Transfer& t : sub.step(k))
        steps[k].push_back({global(t.src), global(t.dst), t.bytes, t.messages, t.reduce_bytes});
  }
  for (auto& t : steps)
    s.add_step(std::move(t));
  add_group_rings(s, nodes, c, shard, false, flows);  // intra-node all-gather
  return s;
}
}  // namespace

Schedule collnet_allreduce(Rank p, Rank c, const std::vector<std::vector<Rank>>& parents, double bytes, Rank chunks)
{
  return collnet(p, c, parents, bytes, chunks, false);
}

Schedule collnet_allreduce_flows(Rank p, Rank c, const std::vector<std::vector<Rank>>& parents, double bytes,
                                 Rank chunks)
{
  return collnet(p, c, parents, bytes, chunks, true);
}

}  // namespace ddlsim::coll
