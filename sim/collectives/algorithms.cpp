#include "sim/collectives/algorithms.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace ddlsim::coll {

namespace {

void check(Rank p, double bytes)
{
  if (p == 0)
    throw std::invalid_argument("a collective needs at least one rank");
  if (!(bytes >= 0))
    throw std::invalid_argument("a collective cannot move a negative size");
}

Rank floor_pow2(Rank p)
{
  Rank q = 1;
  while (q * 2 <= p)
    q *= 2;
  return q;
}

Rank ceil_log2(Rank p)
{
  Rank k = 0;
  while ((Rank(1) << k) < p)
    ++k;
  return k;
}

/// The ranks that take part in the power-of-two core: the odd ones of the first 2r, then the rest.
/// core[i] is the real rank of core position i.
std::vector<Rank> core_ranks(Rank p, Rank q)
{
  const Rank extra = p - q;
  std::vector<Rank> core;
  for (Rank r = 0; r < p; ++r)
    if (r >= 2 * extra || r % 2 == 1)
      core.push_back(r);
  return core;
}

/// Builds an all-reduce on p ranks around a power-of-two core `body`, which adds its steps given
/// the core's real ranks.
template <class Body> Schedule with_extra_ranks(Rank p, double bytes, Body body)
{
  Schedule s(p);
  if (p == 1)
    return s;
  const Rank q = floor_pow2(p), extra = p - q;
  if (extra > 0) {
    std::vector<Transfer> in;
    for (Rank r = 0; r < 2 * extra; r += 2)
      in.push_back({r, r + 1, bytes, 1, bytes});
    s.add_step(std::move(in));
  }
  body(s, core_ranks(p, q));
  if (extra > 0) {
    std::vector<Transfer> out;
    for (Rank r = 0; r < 2 * extra; r += 2)
      out.push_back({r + 1, r, bytes, 1});
    s.add_step(std::move(out));
  }
  return s;
}

}  // namespace

namespace {
Schedule ring_pass(Rank p, double bytes, bool reduce)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = 0; p > 1 && k < p - 1; ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + 1) % p, bytes / p, 1, reduce ? bytes / p : 0});
    s.add_step(std::move(t));
  }
  return s;
}

}  // namespace

Schedule ring_reduce_scatter(Rank p, double bytes)
{
  return ring_pass(p, bytes, true);
}
Schedule ring_allgather(Rank p, double bytes)
{
  return ring_pass(p, bytes, false);
}

Schedule ring_pass_flows(Rank p, double bytes, bool reduce)
{
  check(p, bytes);
  Schedule s(p);
  if (p == 1)
    return s;
  std::vector<Transfer> t;
  for (Rank r = 0; r < p; ++r)
    t.push_back({r, (r + 1) % p, bytes / p * (p - 1), p - 1, reduce ? bytes / p * (p - 1) : 0});
  s.add_step(std::move(t));
  return s;
}

Schedule binomial_broadcast(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = 0; k < ceil_log2(p); ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < (Rank(1) << k) && r + (Rank(1) << k) < p; ++r)
      t.push_back({r, r + (Rank(1) << k), bytes, 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule binomial_reduce(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = ceil_log2(p); k-- > 0;) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < (Rank(1) << k) && r + (Rank(1) << k) < p; ++r)
      t.push_back({r + (Rank(1) << k), r, bytes, 1, bytes});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule recursive_doubling_allreduce(Rank p, double bytes)
{
  check(p, bytes);
  return with_extra_ranks(p, bytes, [bytes](Schedule& s, const std::vector<Rank>& core) {
    const auto q = static_cast<Rank>(core.size());
    for (Rank mask = 1; mask < q; mask *= 2) {
      std::vector<Transfer> t;
      for (Rank i = 0; i < q; ++i)
        t.push_back({core[i], core[i ^ mask], bytes, 1, bytes});
      s.add_step(std::move(t));
    }
  });
}

Schedule halving_doubling_allreduce(Rank p, double bytes)
{
  check(p, bytes);
  return with_extra_ranks(p, bytes, [bytes](Schedule& s, const std::vector<Rank>& core) {
    const auto q = static_cast<Rank>(core.size());
    double chunk = bytes;
    std::vector<double> sizes;
    for (Rank mask = q / 2; mask >= 1; mask /= 2) {  // recursive halving: reduce-scatter
      chunk /= 2;
      sizes.push_back(chunk);
      std::vector<Transfer> t;
      for (Rank i = 0; i < q; ++i)
        t.push_back({core[i], core[i ^ mask], chunk, 1, chunk});
      s.add_step(std::move(t));
    }
    Rank mask = 1;
    for (auto it = sizes.rbegin(); it != sizes.rend(); ++it, mask *= 2) {  // recursive doubling: all-gather
      std::vector<Transfer> t;
      for (Rank i = 0; i < q; ++i)
        t.push_back({core[i], core[i ^ mask], *it, 1});
      s.add_step(std::move(t));
    }
  });
}

Schedule pairwise_alltoall(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = 1; k < p; ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + k) % p, bytes / p, 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule direct_alltoall(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  if (p == 1)
    return s;
  std::vector<Transfer> t;
  for (Rank r = 0; r < p; ++r)
    for (Rank d = 0; d < p; ++d)
      if (d != r)
        t.push_back({r, d, bytes / p, 1});
  s.add_step(std::move(t));
  return s;
}

namespace {
void check_alltoallv(Rank p, const std::vector<double>& bytes)
{
  if (p == 0 || bytes.size() != std::size_t(p) * p)
    throw std::invalid_argument("an all-to-allv needs a p x p matrix of byte counts");
  for (double b : bytes)
    if (!(b >= 0))
      throw std::invalid_argument("an all-to-allv's byte counts must not be negative");
}
}  // namespace

Schedule pairwise_alltoallv(Rank p, const std::vector<double>& bytes)
{
  check_alltoallv(p, bytes);
  Schedule s(p);
  for (Rank k = 1; k < p; ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + k) % p, bytes[std::size_t(r) * p + (r + k) % p], 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule direct_alltoallv(Rank p, const std::vector<double>& bytes)
{
  check_alltoallv(p, bytes);
  Schedule s(p);
  std::vector<Transfer> t;
  for (Rank r = 0; r < p; ++r)
    for (Rank d = 0; d < p; ++d)
      if (d != r && bytes[std::size_t(r) * p + d] > 0)
        t.push_back({r, d, bytes[std::size_t(r) * p + d], 1});
  if (!t.empty())
    s.add_step(std::move(t));
  return s;
}

Schedule ps_allreduce(Rank p, Rank servers, double bytes)
{
  check(p, bytes);
  if (servers == 0 || servers > p)
    throw std::invalid_argument("a parameter server all-reduce needs between 1 and p servers");
  Schedule s(p);
  if (p == 1)
    return s;
  std::vector<Rank> server(servers);
  for (Rank j = 0; j < servers; ++j)
    server[j] = static_cast<Rank>(std::uint64_t(j) * p / servers);
  std::vector<Transfer> push, pull;
  for (Rank r = 0; r < p; ++r)
    for (Rank sv : server)
      if (sv != r) {
        push.push_back({r, sv, bytes / servers, 1, bytes / servers});
        pull.push_back({sv, r, bytes / servers, 1});
      }
  s.add_step(std::move(push));
  s.add_step(std::move(pull));
  return s;
}

Schedule ps_push_pull(Rank p, const std::vector<Rank>& shares, double bytes)
{
  check(p, bytes);
  if (shares.empty())
    throw std::invalid_argument("a parameter server needs at least one server");
  const auto servers = static_cast<Rank>(shares.size());
  Schedule s(p + servers);
  std::vector<Transfer> push, pull;
  const double shard = bytes / servers;
  for (Rank w = 0; w < p; ++w)
    for (Rank j = 0; j < servers; ++j)
      if (shares[j] != w) {
        push.push_back({w, p + j, shard, 1, shard});
        pull.push_back({p + j, w, shard, 1});
      }
  s.add_step(std::move(push));
  s.add_step(std::move(pull));
  return s;
}

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
/// Ring reduce-scatter (`reduce`: the receiver sums) or all-gather of `shard`-byte pieces inside
/// each of `groups` groups of `c` consecutive ranks: c-1 steps, or one step of flows standing for
/// them (`flows`). Nothing for c = 1.
void add_group_rings(Schedule& s, Rank groups, Rank c, double shard, bool reduce, bool flows)
{
  if (c < 2)
    return;
  const Rank steps = flows ? 1 : c - 1, messages = flows ? c - 1 : 1;
  const double bytes = shard * messages;
  for (Rank k = 0; k < steps; ++k) {
    std::vector<Transfer> t;
    for (Rank n = 0; n < groups; ++n)
      for (Rank i = 0; i < c; ++i)
        t.push_back({n * c + i, n * c + (i + 1) % c, bytes, messages, reduce ? bytes : 0});
    s.add_step(std::move(t));
  }
}

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

Schedule send_recv(Rank p, double bytes)
{
  check(p, bytes);
  if (p < 2)
    throw std::invalid_argument("send/recv needs two ranks");
  Schedule s(p);
  s.add_step({{0, 1, bytes, 1}});
  return s;
}

Schedule dissemination_barrier(Rank p)
{
  check(p, 0);
  Schedule s(p);
  for (Rank k = 0; k < ceil_log2(p); ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + (Rank(1) << k)) % p, 0, 1});
    s.add_step(std::move(t));
  }
  return s;
}

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
