#pragma once
// Collectives by name: which algorithms implement which operation, their schedules, their
// alpha-beta cost (for `auto`), and nccl-tests' bus-bandwidth factor.
#include "sim/collectives/ring.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ddlsim::coll {

enum class Op { allreduce, reduce_scatter, allgather, broadcast, reduce, alltoall, sendrecv, barrier };
/// `auto` is spelled auto_ (a C++ keyword); it picks the algorithm of least predicted time.
enum class Algorithm {
  ring,
  tree,
  recursive_doubling,
  halving_doubling,
  hierarchical,
  ps,
  in_network,
  pairwise,
  direct,
  dissemination,
  double_tree,
  collnet,
  auto_
};

const char* to_string(Op op);
const char* to_string(Algorithm algorithm);
const std::vector<std::string_view>& op_names();
const std::vector<std::string_view>& algorithm_names();

/// The algorithms that implement `op` (without auto), the first being its default.
std::vector<Algorithm> algorithms_for(Op op);
/// nccl-tests' bus bandwidth = algbw x this factor (nccl-tests doc/PERFORMANCE.md): all-reduce
/// 2(n-1)/n; reduce-scatter, all-gather, all-to-all (n-1)/n; broadcast, reduce, send/recv 1.
double busbw_factor(Op op, Rank ranks);

/// The switches that sum a group's data (SHARP's aggregation tree), as schedule ranks: ranks
/// 0..p-1 are the group's GPUs, rank p + i runs on host hosts[i]. parent[r] is the rank that rank r
/// sends its data (or its partial sum) up to; parents come after their children and the last
/// rank, the root, has none (NO_PARENT). A switch with one child is left out (its child sends
/// through it to its parent). levels: the root's height H (GPUs 0, a switch one above its highest
/// child); fanin[h - 1]: the most children of a switch of height h; hop_latency_s and
/// hop_bandwidth: the largest route latency and the smallest route bandwidth between a child and
/// its parent.
struct AggregationTree {
  std::vector<std::uint32_t> hosts;
  std::vector<Rank> height;  ///< per switch, as hosts: its height (GPUs 0, a switch one above its highest child)
  std::vector<Rank> parent;
  Rank levels = 0;
  std::vector<Rank> fanin;
  double hop_latency_s = 0, hop_bandwidth = 0;
  bool empty() const { return hosts.empty(); }
};

/// What `auto` knows of the group: ranks, ranks per node, and the alpha (s) and bandwidth
/// (bytes/s) of a route inside a node and between nodes.
struct GroupShape {
  Rank ranks;
  Rank gpus_per_node;
  double alpha_intra_s, bandwidth_intra;
  double alpha_inter_s, bandwidth_inter;
  Rank ps_servers = 0;  ///< ps: servers (co-located with ranks: 0 means every rank)
  /// ps: host index of the first of ps_servers dedicated servers (the others follow it), or
  /// NO_SERVER_HOST for servers co-located with ranks
  std::uint32_t ps_server_host = NO_SERVER_HOST;
  static constexpr std::uint32_t NO_SERVER_HOST = UINT32_MAX;
  Rank channels = 1;  ///< ring all-reduce: concurrent rings (NCCL channels), at most gpus_per_node
  /// alltoall: share of the buffer size S that rank r sends to rank d, shares[r p + d] (the shares
  /// sum to p: S is the mean a rank sends, its own share included); null: S/p to every rank
  std::shared_ptr<const std::vector<double>> alltoall_shares{};
  /// in_network: the switches that sum the group's data (none: empty) and their summing rate
  AggregationTree in_network{};
  double aggregator_reduce_bytes_per_s = 0;
  /// collnet: the aggregation tree of each node-local index l over GPUs l, c + l, 2c + l, ... (none
  /// for a group of one node), its hop_bandwidth the narrowest share of a link that the trees'
  /// routes cross together; and per level the most pieces that one summing switch takes in a
  /// step from all of those trees (trees through one switch add up; a single tree's is its fanin)
  std::vector<AggregationTree> collnet{};
  std::vector<Rank> collnet_load{};
  /// Where the group's GPUs are: local rank r is global GPU first_gpu + r gpu_stride, which
  /// schedule_hosts maps ranks to (a pipeline stage's data-parallel group starts past GPU 0; with
  /// tensor parallelism, a data-parallel group takes every t-th GPU).
  std::uint32_t first_gpu = 0;
  std::uint32_t gpu_stride = 1;
  std::uint32_t gpu(Rank r) const { return first_gpu + r * gpu_stride; }
  /// collnet can run: switches sum and the group fills whole nodes.
  bool collnet_ready() const { return !in_network.empty() && gpus_per_node > 0 && ranks % gpus_per_node == 0; }
};

/// in_network sends the buffer in pieces of this size (at most IN_NETWORK_MAX_CHUNKS pieces).
constexpr double IN_NETWORK_CHUNK_BYTES = 1024.0 * 1024;
constexpr Rank IN_NETWORK_MAX_CHUNKS = 1024;
Rank in_network_chunks(double bytes);
/// double_tree pipelines each tree's half of the buffer in pieces of this size (at most
/// DOUBLE_TREE_MAX_CHUNKS pieces).
constexpr double DOUBLE_TREE_CHUNK_BYTES = 512.0 * 1024;
constexpr Rank DOUBLE_TREE_MAX_CHUNKS = 64;
Rank double_tree_chunks(double bytes);

/// All-to-allv shares from non-negative weights w[r p + d] (not all zero): p w / sum(w).
std::vector<double> alltoall_shares(Rank p, const std::vector<double>& weights);
/// Weights of destination d falling as 1 / (d + 1)^exponent for every sender (Zipf: a few popular
/// destinations, as the hot experts of a mixture-of-experts layer).
std::vector<double> zipf_weights(Rank p, double exponent);

/// The global hosts of a schedule's ranks: ranks 0..p-1 are the group's GPUs (GroupShape::gpu), in_network's ranks
/// p.. are its aggregation tree's switches (AggregationTree::hosts), collnet's are its trees'
/// switches, tree after tree, and ps's ranks p.. are its dedicated servers, if any.
std::vector<std::uint32_t> schedule_hosts(Algorithm algorithm, const GroupShape& group);

/// The schedule of `op` by `algorithm` (not auto) over group.ranks ranks, `bytes` per rank (see
/// algorithms.hpp), at step or flow fidelity. Flow schedules of rings and hierarchical are built
/// directly (a 16,384-rank ring has 2^28 step-level messages); other algorithms keep their steps.
/// Throws std::invalid_argument for a pair that does not exist.
Schedule make_schedule(Op op, Algorithm algorithm, const GroupShape& group, double bytes,
                       ScheduleFidelity fidelity = ScheduleFidelity::step);
/// Messages of the step-level schedule, without building it (to choose a fidelity).
double step_messages(Op op, Algorithm algorithm, const GroupShape& group);
/// Alpha-beta time of `algorithm` on `group`, taking every hop at the inter-node alpha and
/// bandwidth except the intra-node phases of hierarchical.
double predicted_seconds(Op op, Algorithm algorithm, const GroupShape& group, double bytes);
/// The algorithm of least predicted time for `op` (ties: the earlier in algorithms_for), among
/// those a collective library would pick: never ps.
Algorithm choose_algorithm(Op op, const GroupShape& group, double bytes);

}  // namespace ddlsim::coll
