// Algorithms that combine others: NCCL-style multi-channel rings, a 2D torus, hierarchical
// all-reduce, any schedule at flow fidelity, and the double binary tree.
#include "sim/collectives/algorithms.hpp"

#include "sim/collectives/building_blocks.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace ddlsim::coll {

namespace {
/// next[c][r]: rank r's successor in ring c, which visits each node's GPUs from local GPU c.
std::vector<std::vector<Rank>> channel_successors(Rank p, Rank g, Rank channels, double bytes)
{
  check(p, bytes);
  if (g == 0 || p % g != 0)
    throw std::invalid_argument("multi-channel ring: the ranks must fill whole nodes");
  if (channels == 0 || channels > g)
    throw std::invalid_argument("multi-channel ring: between 1 and gpus_per_node channels");
  std::vector<std::vector<Rank>> next(channels, std::vector<Rank>(p));
  for (Rank c = 0; c < channels; ++c) {
    std::vector<Rank> order;
    for (Rank node = 0; node < p / g; ++node)
      for (Rank i = 0; i < g; ++i)
        order.push_back(node * g + (c + i) % g);
    for (Rank k = 0; k < p; ++k)
      next[c][order[k]] = order[(k + 1) % p];
  }
  return next;
}
}  // namespace

Schedule multichannel_ring_allreduce_flows(Rank p, Rank g, Rank channels, double bytes)
{
  const auto next = channel_successors(p, g, channels, bytes);
  Schedule s(p);
  if (p == 1)
    return s;
  const double chunk = bytes / channels / p;
  std::vector<Transfer> t;
  for (Rank c = 0; c < channels; ++c)
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, next[c][r], chunk * 2 * (p - 1), 2 * (p - 1), chunk * (p - 1)});
  s.add_step(std::move(t));
  return s;
}

Schedule multichannel_ring_allreduce(Rank p, Rank g, Rank channels, double bytes)
{
  const auto next = channel_successors(p, g, channels, bytes);
  Schedule s(p);
  if (p == 1)
    return s;
  const double chunk = bytes / channels / p;
  for (Rank k = 0; k < 2 * (p - 1); ++k) {
    std::vector<Transfer> t;
    for (Rank c = 0; c < channels; ++c)
      for (Rank r = 0; r < p; ++r)
        t.push_back({r, next[c][r], chunk, 1, k < p - 1 ? chunk : 0});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule torus2d_allreduce(Rank rows, Rank cols, double bytes)
{
  if (rows == 0 || cols == 0)
    throw std::invalid_argument("a 2D torus needs at least one row and one column");
  check(rows * cols, bytes);
  Schedule s(rows * cols);
  const double shard = bytes / cols;
  add_group_rings(s, rows, cols, shard, true, false);      // reduce-scatter along rows
  for (Rank k = 0; rows > 1 && k < 2 * (rows - 1); ++k) {  // all-reduce of each shard along columns
    std::vector<Transfer> t;
    for (Rank r = 0; r < rows; ++r)
      for (Rank c = 0; c < cols; ++c)
        t.push_back({r * cols + c, ((r + 1) % rows) * cols + c, shard / rows, 1, k < rows - 1 ? shard / rows : 0});
    s.add_step(std::move(t));
  }
  add_group_rings(s, rows, cols, shard, false, false);  // all-gather along rows
  return s;
}

Schedule hierarchical_allreduce(Rank p, Rank gpus_per_node, double bytes)
{
  if (gpus_per_node == 0 || p % gpus_per_node != 0)
    throw std::invalid_argument("hierarchical all-reduce: the ranks must fill whole nodes");
  return torus2d_allreduce(p / gpus_per_node, gpus_per_node, bytes);
}

Schedule hierarchical_allreduce_flows(Rank p, Rank c, double bytes)
{
  if (c == 0 || p % c != 0)
    throw std::invalid_argument("hierarchical all-reduce: the ranks must fill whole nodes");
  check(p, bytes);
  const Rank rows = p / c;
  Schedule s(p);
  const double shard = bytes / c;
  add_group_rings(s, rows, c, shard, true, true);  // intra-node reduce-scatter
  if (rows > 1) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < rows; ++r)
      for (Rank i = 0; i < c; ++i)
        t.push_back({r * c + i, ((r + 1) % rows) * c + i, shard / rows * 2 * (rows - 1), 2 * (rows - 1),
                     shard / rows * (rows - 1)});
    s.add_step(std::move(t));
  }
  add_group_rings(s, rows, c, shard, false, true);  // intra-node all-gather
  return s;
}

Schedule as_flows(const Schedule& steps)
{
  Schedule flows(steps.ranks());
  auto pairs = [&](std::size_t k) {
    std::vector<std::pair<Rank, Rank>> v;
    for (const Transfer& t : steps.step(k))
      v.emplace_back(t.src, t.dst);
    std::sort(v.begin(), v.end());
    return v;
  };
  std::size_t k = 0;
  while (k < steps.steps()) {
    const auto run_pairs = pairs(k);
    std::size_t end = k + 1;
    while (end < steps.steps() && pairs(end) == run_pairs)
      ++end;
    std::map<std::pair<Rank, Rank>, Transfer> merged;
    for (std::size_t j = k; j < end; ++j) {
      std::map<std::pair<Rank, Rank>, std::uint32_t> messages_this_step;  // copies of a pair run at once
      for (const Transfer& t : steps.step(j)) {
        auto [it, fresh] = merged.try_emplace({t.src, t.dst}, Transfer{t.src, t.dst, 0, 0, 0});
        it->second.bytes += t.bytes;
        it->second.reduce_bytes += t.reduce_bytes;
        auto& m = messages_this_step[{t.src, t.dst}];
        m = std::max(m, t.messages);
      }
      for (const auto& [pair, m] : messages_this_step)
        merged[pair].messages += m;
    }
    std::vector<Transfer> out;
    for (const auto& [pair, t] : merged)
      out.push_back(t);
    flows.add_step(std::move(out));
    k = end;
  }
  return flows;
}

namespace {

/// Lowest set bit of x > 0, as an exponent.
Rank lowest_bit(Rank x)
{
  Rank l = 0;
  while (!(x >> l & 1U))
    ++l;
  return l;
}

/// The in-order binary tree of positions 1..p: children of position x, and its root.
void inorder_tree(Rank p, std::vector<std::vector<Rank>>& children_of_position, Rank& root_position)
{
  children_of_position.assign(p + 1, {});
  root_position = floor_pow2(p);
  for (Rank x = 1; x <= p; ++x) {
    const Rank l = lowest_bit(x);
    if (l == 0)
      continue;
    children_of_position[x].push_back(x - (Rank(1) << (l - 1)));
    for (Rank j = l; j-- > 0;)  // the right child, or the first position below it that exists
      if (x + (Rank(1) << j) <= p) {
        children_of_position[x].push_back(x + (Rank(1) << j));
        break;
      }
  }
}

}  // namespace

DoubleTree double_binary_tree(Rank p)
{
  check(p, 0);
  std::vector<std::vector<Rank>> kids;
  Rank root_position = 0;
  inorder_tree(p, kids, root_position);
  DoubleTree t;
  for (int tree = 0; tree < 2; ++tree) {
    // position of rank r, and rank at position x
    const auto position = [&](Rank r) -> Rank {
      if (tree == 0)
        return r + 1;
      return p % 2 == 0 ? p - r : (r + 1) % p + 1;
    };
    std::vector<Rank> rank_at(p + 1);
    for (Rank r = 0; r < p; ++r)
      rank_at[position(r)] = r;
    t.parent[tree].assign(p, p);
    t.children[tree].assign(p, {});
    for (Rank x = 1; x <= p; ++x)
      for (Rank c : kids[x]) {
        t.children[tree][rank_at[x]].push_back(rank_at[c]);
        t.parent[tree][rank_at[c]] = rank_at[x];
      }
    t.root[tree] = rank_at[root_position];
    // Heights bottom-up (children have smaller lowest bits), depths top-down.
    t.height[tree].assign(p, 0);
    std::vector<Rank> order(p);
    for (Rank r = 0; r < p; ++r)
      order[r] = r;
    std::sort(order.begin(), order.end(),
              [&](Rank a, Rank b) { return lowest_bit(position(a)) < lowest_bit(position(b)); });
    for (Rank r : order)
      for (Rank c : t.children[tree][r])
        t.height[tree][r] = std::max(t.height[tree][r], t.height[tree][c] + 1);
    t.depth[tree].assign(p, 0);
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      for (Rank c : t.children[tree][*it])
        t.depth[tree][c] = t.depth[tree][*it] + 1;
  }
  return t;
}

Schedule double_tree_allreduce(Rank p, double bytes, Rank chunks)
{
  check(p, bytes);
  if (chunks == 0)
    throw std::invalid_argument("a pipelined tree needs at least one chunk");
  Schedule s(p);
  if (p == 1)
    return s;
  const DoubleTree t = double_binary_tree(p);
  const double c = bytes / (2.0 * chunks);
  const Rank h = std::max(t.height[0][t.root[0]], t.height[1][t.root[1]]);
  const Rank steps = h + chunks - 1;
  for (Rank k = 0; k < steps; ++k) {  // reduce: piece k - height up
    std::vector<Transfer> step;
    for (int tree = 0; tree < 2; ++tree)
      for (Rank r = 0; r < p; ++r)
        if (t.parent[tree][r] != p && k >= t.height[tree][r] && k - t.height[tree][r] < chunks)
          step.push_back({r, t.parent[tree][r], c, 1, c});
    s.add_step(std::move(step));
  }
  for (Rank k = 0; k < steps; ++k) {  // broadcast: piece k - depth down
    std::vector<Transfer> step;
    for (int tree = 0; tree < 2; ++tree)
      for (Rank r = 0; r < p; ++r)
        if (k >= t.depth[tree][r] && k - t.depth[tree][r] < chunks)
          for (Rank child : t.children[tree][r])
            step.push_back({r, child, c, 1});
    s.add_step(std::move(step));
  }
  return s;
}

}  // namespace ddlsim::coll
