#include "sim/collectives/registry.hpp"

#include "sim/collectives/algorithms.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace ddlsim::coll {

const char* to_string(Op op)
{
  switch (op) {
  case Op::allreduce: return "allreduce";
  case Op::reduce_scatter: return "reduce_scatter";
  case Op::allgather: return "allgather";
  case Op::broadcast: return "broadcast";
  case Op::reduce: return "reduce";
  case Op::alltoall: return "alltoall";
  case Op::sendrecv: return "sendrecv";
  case Op::barrier: return "barrier";
  }
  return "?";
}

const char* to_string(Algorithm a)
{
  switch (a) {
  case Algorithm::ring: return "ring";
  case Algorithm::tree: return "tree";
  case Algorithm::recursive_doubling: return "recursive_doubling";
  case Algorithm::halving_doubling: return "halving_doubling";
  case Algorithm::hierarchical: return "hierarchical";
  case Algorithm::ps: return "ps";
  case Algorithm::in_network: return "in_network";
  case Algorithm::pairwise: return "pairwise";
  case Algorithm::direct: return "direct";
  case Algorithm::dissemination: return "dissemination";
  case Algorithm::double_tree: return "double_tree";
  case Algorithm::collnet: return "collnet";
  case Algorithm::auto_: return "auto";
  }
  return "?";
}

const std::vector<std::string_view>& op_names()
{
  static const std::vector<std::string_view> names{"allreduce", "reduce_scatter", "allgather", "broadcast",
                                                   "reduce",    "alltoall",       "sendrecv",  "barrier"};
  return names;
}

const std::vector<std::string_view>& algorithm_names()
{
  static const std::vector<std::string_view> names{
      "ring",     "tree",   "recursive_doubling", "halving_doubling", "hierarchical", "ps",  "in_network",
      "pairwise", "direct", "dissemination",      "double_tree",      "collnet",      "auto"};
  return names;
}

std::vector<Algorithm> algorithms_for(Op op)
{
  switch (op) {
  case Op::allreduce:
    return {Algorithm::ring, Algorithm::recursive_doubling, Algorithm::halving_doubling, Algorithm::hierarchical,
            Algorithm::ps,   Algorithm::in_network,         Algorithm::double_tree,      Algorithm::collnet};
  case Op::reduce_scatter:
  case Op::allgather: return {Algorithm::ring};
  case Op::broadcast:
  case Op::reduce: return {Algorithm::tree};
  case Op::alltoall: return {Algorithm::pairwise, Algorithm::direct};
  case Op::sendrecv: return {Algorithm::direct};
  case Op::barrier: return {Algorithm::dissemination};
  }
  return {};
}

double busbw_factor(Op op, Rank n)
{
  if (n < 2)
    return 0;
  switch (op) {
  case Op::allreduce: return 2.0 * (n - 1) / n;
  case Op::reduce_scatter:
  case Op::allgather:
  case Op::alltoall: return double(n - 1) / n;
  case Op::broadcast:
  case Op::reduce:
  case Op::sendrecv: return 1;
  case Op::barrier: return 0;
  }
  return 0;
}

Rank in_network_chunks(double bytes)
{
  const double chunks = std::ceil(bytes / IN_NETWORK_CHUNK_BYTES);
  return static_cast<Rank>(std::clamp(chunks, 1.0, double(IN_NETWORK_MAX_CHUNKS)));
}

Rank double_tree_chunks(double bytes)
{
  const double chunks = std::ceil(bytes / 2 / DOUBLE_TREE_CHUNK_BYTES);
  return static_cast<Rank>(std::clamp(chunks, 1.0, double(DOUBLE_TREE_MAX_CHUNKS)));
}

std::vector<double> alltoall_shares(Rank p, const std::vector<double>& weights)
{
  if (weights.size() != std::size_t(p) * p)
    throw std::invalid_argument("all-to-allv weights: expected a " + std::to_string(p) + " x " + std::to_string(p) +
                                " matrix");
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w))
      throw std::invalid_argument("all-to-allv weights must be finite and not negative");
    total += w;
  }
  if (!(total > 0))
    throw std::invalid_argument("all-to-allv weights are all zero");
  std::vector<double> shares(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i)
    shares[i] = p * weights[i] / total;
  return shares;
}

std::vector<double> zipf_weights(Rank p, double exponent)
{
  std::vector<double> w(std::size_t(p) * p);
  for (Rank r = 0; r < p; ++r)
    for (Rank d = 0; d < p; ++d)
      w[std::size_t(r) * p + d] = std::pow(d + 1.0, -exponent);
  return w;
}

namespace {
std::vector<double> alltoallv_bytes(const GroupShape& g, double bytes)
{
  std::vector<double> b(*g.alltoall_shares);
  for (double& x : b)
    x *= bytes;
  return b;
}

/// collnet's trees as collnet_allreduce takes them.
std::vector<std::vector<Rank>> collnet_parents(const GroupShape& g)
{
  std::vector<std::vector<Rank>> parents;
  for (const AggregationTree& tree : g.collnet)
    parents.push_back(tree.parent);
  return parents;
}

/// In-network all-reduce time of S bytes over a tree of `levels` levels whose child-parent routes
/// have latency `hop_latency_s` and bandwidth `hop_bandwidth` (the worst of them), where a switch at
/// height h sums load[h - 1] pieces a step at R bytes/s: each piece climbs the levels, a level
/// taking d_h = max(l + c/B, load_h c/R), the others follow at the slowest level's pace, and the
/// last comes down: sum_h d_h + (C - 1) max_h d_h + H (l + c/B).
double in_network_seconds(Rank levels, double hop_latency_s, double hop_bandwidth, const std::vector<Rank>& load,
                          double R, double S)
{
  const double chunks = in_network_chunks(S), c = S / chunks, hop = hop_latency_s + c / hop_bandwidth;
  double climb = 0, slowest = 0;
  for (Rank f : load) {
    const double d = std::max(hop, f * c / R);
    climb += d;
    slowest = std::max(slowest, d);
  }
  return climb + (chunks - 1) * slowest + levels * hop;
}
}  // namespace

std::vector<std::uint32_t> schedule_hosts(Algorithm a, const GroupShape& g)
{
  std::vector<std::uint32_t> hosts(g.ranks);
  for (Rank r = 0; r < g.ranks; ++r)
    hosts[r] = g.gpu(r);
  if (a == Algorithm::in_network)
    hosts.insert(hosts.end(), g.in_network.hosts.begin(), g.in_network.hosts.end());
  if (a == Algorithm::collnet)
    for (const AggregationTree& tree : g.collnet)
      hosts.insert(hosts.end(), tree.hosts.begin(), tree.hosts.end());
  if (a == Algorithm::ps && g.ps_server_host != GroupShape::NO_SERVER_HOST)
    for (Rank j = 0; j < g.ps_servers; ++j)
      hosts.push_back(g.ps_server_host + j);
  return hosts;
}

double step_messages(Op op, Algorithm a, const GroupShape& g)
{
  const double p = g.ranks, c = g.gpus_per_node, lg = std::ceil(std::log2(std::max(p, 1.0)));
  switch (a) {
  case Algorithm::ring: return (op == Op::allreduce ? 2 * g.channels : 1) * p * (p - 1);
  case Algorithm::hierarchical: return p * (2 * (c - 1) + 2 * (p / c - 1));
  case Algorithm::in_network: return 2 * (p + double(g.in_network.hosts.size()) - 1) * IN_NETWORK_MAX_CHUNKS;
  case Algorithm::double_tree: return 4 * (p - 1) * DOUBLE_TREE_MAX_CHUNKS;
  case Algorithm::collnet: {
    double m = 2 * (c - 1) * p;
    for (const AggregationTree& tree : g.collnet)
      m += 2 * double(tree.parent.size() - 1) * IN_NETWORK_MAX_CHUNKS;
    return m;
  }
  case Algorithm::pairwise:
  case Algorithm::direct: return op == Op::sendrecv ? 1 : p * (p - 1);
  default: return p * (lg + 2);
  }
}

Schedule make_schedule(Op op, Algorithm a, const GroupShape& g, double bytes, ScheduleFidelity fidelity)
{
  const Rank p = g.ranks;
  if (fidelity == ScheduleFidelity::flow) {
    if (op == Op::allreduce && a == Algorithm::ring)
      return g.channels > 1 ? multichannel_ring_allreduce_flows(p, g.gpus_per_node, g.channels, bytes)
                            : ring_allreduce(p, bytes, ScheduleFidelity::flow);
    if ((op == Op::reduce_scatter || op == Op::allgather) && a == Algorithm::ring)
      return ring_pass_flows(p, bytes, op == Op::reduce_scatter);
    if (op == Op::allreduce && a == Algorithm::hierarchical)
      return hierarchical_allreduce_flows(p, g.gpus_per_node, bytes);
    if (op == Op::allreduce && a == Algorithm::double_tree)  // the full pipeline's steps as flows
      return as_flows(double_tree_allreduce(p, bytes, double_tree_chunks(bytes)));
    if (op == Op::allreduce && a == Algorithm::in_network && !g.in_network.empty())
      return in_network_allreduce_flows(p, g.in_network.parent, bytes, in_network_chunks(bytes));
    if (op == Op::allreduce && a == Algorithm::collnet && g.collnet_ready())
      return collnet_allreduce_flows(p, g.gpus_per_node, collnet_parents(g), bytes,
                                     in_network_chunks(bytes / g.gpus_per_node));
  }
  auto fail = [&]() -> Schedule {
    throw std::invalid_argument(std::string("no ") + to_string(a) + " algorithm for " + to_string(op));
  };
  switch (op) {
  case Op::allreduce:
    switch (a) {
    case Algorithm::ring:
      return g.channels > 1 ? multichannel_ring_allreduce(p, g.gpus_per_node, g.channels, bytes)
                            : ring_allreduce(p, bytes, ScheduleFidelity::step);
    case Algorithm::recursive_doubling: return recursive_doubling_allreduce(p, bytes);
    case Algorithm::halving_doubling: return halving_doubling_allreduce(p, bytes);
    case Algorithm::hierarchical: return hierarchical_allreduce(p, g.gpus_per_node, bytes);
    case Algorithm::ps:
      return g.ps_server_host != GroupShape::NO_SERVER_HOST
                 ? ps_push_pull(p, std::vector<Rank>(g.ps_servers, NO_WORKER), bytes)
                 : ps_allreduce(p, g.ps_servers ? g.ps_servers : p, bytes);
    case Algorithm::double_tree: return double_tree_allreduce(p, bytes, double_tree_chunks(bytes));
    case Algorithm::in_network:
      if (g.in_network.empty())
        throw std::invalid_argument("in_network needs a switch that reduces (cluster.network.switch_reduction)");
      return in_network_allreduce(p, g.in_network.parent, bytes, in_network_chunks(bytes));
    case Algorithm::collnet:
      if (!g.collnet_ready())
        throw std::invalid_argument("collnet needs switches that reduce (cluster.network.switch_reduction) and a "
                                    "group of whole nodes");
      return collnet_allreduce(p, g.gpus_per_node, collnet_parents(g), bytes,
                               in_network_chunks(bytes / g.gpus_per_node));
    default: return fail();
    }
  case Op::reduce_scatter: return a == Algorithm::ring ? ring_reduce_scatter(p, bytes) : fail();
  case Op::allgather: return a == Algorithm::ring ? ring_allgather(p, bytes) : fail();
  case Op::broadcast: return a == Algorithm::tree ? binomial_broadcast(p, bytes) : fail();
  case Op::reduce: return a == Algorithm::tree ? binomial_reduce(p, bytes) : fail();
  case Op::alltoall:
    if (g.alltoall_shares && (a == Algorithm::pairwise || a == Algorithm::direct))
      return a == Algorithm::pairwise ? pairwise_alltoallv(p, alltoallv_bytes(g, bytes))
                                      : direct_alltoallv(p, alltoallv_bytes(g, bytes));
    return a == Algorithm::pairwise ? pairwise_alltoall(p, bytes)
           : a == Algorithm::direct ? direct_alltoall(p, bytes)
                                    : fail();
  case Op::sendrecv: return a == Algorithm::direct ? send_recv(p, bytes) : fail();
  case Op::barrier: return a == Algorithm::dissemination ? dissemination_barrier(p) : fail();
  }
  return fail();
}

namespace {

/// CollNet: intra-node ring reduce-scatter and all-gather of S/c shards, and between them the
/// in-network all-reduce of a shard, its trees at once.
double collnet_seconds(const GroupShape& g, double S)
{
  // Intra-node ring reduce-scatter and all-gather of S/c shards, and between them the in-network
  // all-reduce of a shard, its trees at once: the slowest tree's routes and the busiest
  // switches' load (collnet_load). Exact on a contention-free network where every tree's routes
  // have one latency (tests/sim/collectives/collnet_test.cpp).
  if (!g.collnet_ready())
    throw std::invalid_argument("collnet needs switches that reduce (cluster.network.switch_reduction) and a "
                                "group of whole nodes");
  const double c = g.gpus_per_node;
  double t = c > 1 ? 2 * (c - 1) * (g.alpha_intra_s + S / (c * g.bandwidth_intra)) : 0;
  if (!g.collnet.empty()) {
    Rank levels = 0;
    double latency = 0, bandwidth = std::numeric_limits<double>::infinity();
    for (const AggregationTree& tree : g.collnet) {
      levels = std::max(levels, tree.levels);
      latency = std::max(latency, tree.hop_latency_s);
      bandwidth = std::min(bandwidth, tree.hop_bandwidth);
    }
    t += in_network_seconds(levels, latency, bandwidth, g.collnet_load, g.aggregator_reduce_bytes_per_s, S / c);
  }
  return t;
}

/// A pairwise all-to-allv: each step at its slowest pair.
double pairwise_alltoallv_seconds(const GroupShape& g, double S)
{
  const double alpha = g.alpha_inter_s, B = g.bandwidth_inter;
  const std::vector<double>& sh = *g.alltoall_shares;
  double sum = 0;
  for (Rank k = 1; k < g.ranks; ++k) {
    double most = 0;
    for (Rank r = 0; r < g.ranks; ++r)
      most = std::max(most, sh[std::size_t(r) * g.ranks + (r + k) % g.ranks]);
    sum += alpha + most * S / B;
  }
  return sum;
}

/// A direct all-to-allv: the busiest NIC direction's bytes.
double direct_alltoallv_seconds(const GroupShape& g, double S)
{
  const double alpha = g.alpha_inter_s, B = g.bandwidth_inter;
  const std::vector<double>& sh = *g.alltoall_shares;
  double most = 0;
  for (Rank r = 0; r < g.ranks; ++r) {
    double out = 0, in = 0;
    for (Rank d = 0; d < g.ranks; ++d)
      if (d != r) {
        out += sh[std::size_t(r) * g.ranks + d];
        in += sh[std::size_t(d) * g.ranks + r];
      }
    most = std::max({most, out, in});
  }
  return alpha + most * S / B;
}

}  // namespace

double predicted_seconds(Op op, Algorithm a, const GroupShape& g, double S)
{
  const double p = g.ranks, alpha = g.alpha_inter_s, B = g.bandwidth_inter;
  if (g.ranks < 2)
    return 0;
  const double q = std::exp2(std::floor(std::log2(p)));
  const double extra = q < p ? 2 * (alpha + S / B) : 0;
  const double log_ceil = std::ceil(std::log2(p));
  switch (a) {
  case Algorithm::ring:  // channels spread the node-crossing hops over that many NICs
    return (op == Op::allreduce ? 2 : 1) * (p - 1) * (alpha + S / (p * B * (op == Op::allreduce ? g.channels : 1)));
  case Algorithm::recursive_doubling: return std::log2(q) * (alpha + S / B) + extra;
  case Algorithm::halving_doubling: return 2 * std::log2(q) * alpha + 2 * (q - 1) / q * S / B + extra;
  case Algorithm::hierarchical: {
    const double c = g.gpus_per_node, r = p / c;
    return 2 * (c - 1) * (g.alpha_intra_s + S / (c * g.bandwidth_intra)) + 2 * (r - 1) * (alpha + S / (c * r * B));
  }
  case Algorithm::ps:
    if (g.ps_server_host != GroupShape::NO_SERVER_HOST)  // dedicated: the workers' or the servers' links
      return 2 * (alpha + std::max(1.0, p / g.ps_servers) * S / B);
    return 2 * (alpha + (p - 1) * S / ((g.ps_servers ? g.ps_servers : p) * B));
  case Algorithm::in_network: {
    // Each piece climbs H levels, a level taking d_h = max(l + c/B, F_h c/R) (its switches sum
    // the pieces of F_h children as they stream in), the other pieces follow at the slowest
    // level's pace, and the last comes down H levels: sum_h d_h + (C - 1) max_h d_h + H (l + c/B).
    // Exact when every child-parent route has latency l (tests/sim/collectives/
    // in_network_tree_test.cpp); l is the largest, so an upper bound otherwise.
    const AggregationTree& tree = g.in_network;
    if (tree.empty())
      throw std::invalid_argument("in_network needs a switch that reduces (cluster.network.switch_reduction)");
    return in_network_seconds(tree.levels, tree.hop_latency_s, tree.hop_bandwidth, tree.fanin,
                              g.aggregator_reduce_bytes_per_s, S);
  }
  case Algorithm::collnet: return collnet_seconds(g, S);
  case Algorithm::tree: return log_ceil * (alpha + S / B);
  case Algorithm::double_tree: {
    // One NIC per rank: in the full pipeline a rank's link carries two pieces a step (two children
    // in, or one piece up each tree out), so a step takes alpha + 2c/B; the trees' height is
    // floor(log2 p). Equal to the simulation for large buffers at p = 6, 12, 48
    // (tests/sim/collectives/double_tree_test.cpp), 0.7 % above it at p = 1,024; steps where a
    // link carries one piece (few pieces, pipeline fill) finish sooner, so it is an upper bound.
    const double chunks = double_tree_chunks(S), c = S / (2 * chunks);
    return 2 * (std::floor(std::log2(p)) + chunks - 1) * (alpha + 2 * c / B);
  }
  case Algorithm::pairwise:
    if (op == Op::alltoall && g.alltoall_shares)  // every step at its slowest pair: an upper bound
      return pairwise_alltoallv_seconds(g, S);
    return (p - 1) * (alpha + S / (p * B));
  case Algorithm::direct:
    if (op == Op::alltoall && g.alltoall_shares)  // the busiest NIC direction: a lower bound
      return direct_alltoallv_seconds(g, S);
    return op == Op::sendrecv ? alpha + S / B : alpha + (p - 1) / p * S / B;
  case Algorithm::dissemination: return log_ceil * alpha;
  case Algorithm::auto_: break;
  }
  throw std::invalid_argument("auto has no cost of its own");
}

Algorithm choose_algorithm(Op op, const GroupShape& g, double bytes)
{
  Algorithm best = algorithms_for(op).front();
  double best_seconds = predicted_seconds(op, best, g, bytes);
  for (Algorithm a : algorithms_for(op)) {
    if (a == Algorithm::hierarchical && (g.gpus_per_node < 2 || g.ranks % g.gpus_per_node != 0))
      continue;
    if (a == Algorithm::ps)
      continue;  // an architecture the user chooses (p(p-1) flows), not a library's automatic pick
    if (a == Algorithm::double_tree)
      continue;  // its cost above is a bound on one-NIC networks, not exact enough to choose by
    if (a == Algorithm::in_network && g.in_network.empty())
      continue;
    if (a == Algorithm::collnet && !g.collnet_ready())
      continue;
    const double t = predicted_seconds(op, a, g, bytes);
    if (t < best_seconds) {
      best = a;
      best_seconds = t;
    }
  }
  return best;
}

}  // namespace ddlsim::coll
