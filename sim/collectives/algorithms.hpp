#pragma once
// Collective schedules beyond the ring all-reduce, each with its alpha-beta cost on a
// contention-free network where every route has latency alpha and bandwidth B (Thakur,
// Rabenseifner and Gropp 2005; Chan et al. 2007). Reduction arithmetic (gamma) is not charged.
// `bytes` is per rank: the input of reduce_scatter and all-reduce, the output of all-gather, the
// send buffer of all-to-all, the message of broadcast, reduce and send/recv.
#include "sim/collectives/schedule.hpp"

namespace ddlsim::coll {

/// Ring reduce-scatter: p-1 steps, rank r sends bytes/p to r+1.  T = (p-1)(alpha + S/(pB)).
Schedule ring_reduce_scatter(Rank p, double bytes);
/// Ring all-gather of a `bytes` result (bytes/p from each rank).  T = (p-1)(alpha + S/(pB)).
Schedule ring_allgather(Rank p, double bytes);
/// A ring reduce-scatter (`reduce`) or all-gather at flow fidelity: as_flows of the above, built directly.
Schedule ring_pass_flows(Rank p, double bytes, bool reduce);

/// Binomial-tree broadcast from rank 0: in step k every rank r < 2^k that has the data sends it
/// to r + 2^k.  T = ceil(log2 p)(alpha + S/B).
Schedule binomial_broadcast(Rank p, double bytes);
/// Binomial-tree reduce to rank 0 (the broadcast reversed).  T = ceil(log2 p)(alpha + S/B).
Schedule binomial_reduce(Rank p, double bytes);

/// The two binary trees of NCCL's double binary tree over ranks 0..p-1: tree 0 is the in-order
/// tree of positions x = r + 1 (a node x with lowest set bit 2^l has children x -+ 2^(l-1), the
/// right one moved down to x + 2^j, the largest j < l-1 that stays <= p, when it would not; the
/// root is the largest power of two <= p); tree 1 is the same over mirrored positions x = p - r
/// for even p, shifted ones x = (r + 1) mod p + 1 for odd p, so a rank with children in one tree
/// is a leaf in the other (Sanders, Speck and Traff 2009). parent[t][r] is r's parent in tree t,
/// or p for the root.
struct DoubleTree {
  std::vector<Rank> parent[2];
  std::vector<std::vector<Rank>> children[2];
  std::vector<Rank> height[2];  ///< 0 for leaves, 1 + the highest child's otherwise
  std::vector<Rank> depth[2];   ///< 0 for the root
  Rank root[2];
};
DoubleTree double_binary_tree(Rank p);

/// NCCL's double binary tree all-reduce: each tree reduces and then broadcasts half of the
/// buffer, in `chunks` pieces of c = S / (2 chunks), pipelined: in reduce step k a rank of height
/// h sends piece k - h to its parent (which sums it, gamma); in broadcast step k a rank of depth
/// d sends piece k - d to its children. Both trees run in the same steps. With H the larger
/// root height: 2(H + chunks - 1) steps; where every transfer has a link of its own,
/// T = 2(H + chunks - 1)(alpha + c/B). Every rank sends S/2 up its leaf tree and, where it has
/// children, S/2 up and S/2 to each child in the other: at most 2S (the ring's 2(p-1)/p S).
Schedule double_tree_allreduce(Rank p, double bytes, Rank chunks);

/// Recursive-doubling all-reduce: log2 p' exchanges of the whole buffer between partners r xor
/// 2^k, p' the largest power of two <= p. For p' < p (MPICH's handling), the first 2(p - p')
/// ranks pair up first: even ranks send their buffer to the odd one, which takes part, and gets
/// the result back at the end.  T = log2(p') (alpha + S/B) + [p' < p] 2(alpha + S/B).
Schedule recursive_doubling_allreduce(Rank p, double bytes);

/// Rabenseifner's all-reduce: reduce-scatter by recursive halving (partner r xor 2^k, half of
/// the remaining data each step), then all-gather by recursive doubling, among p' ranks; the
/// extra ranks as in recursive doubling.
/// T = 2 log2(p') alpha + 2 (p'-1)/p' S/B + [p' < p] 2(alpha + S/B).
Schedule halving_doubling_allreduce(Rank p, double bytes);

/// Pairwise-exchange all-to-all: p-1 steps, in step k rank r sends bytes/p to (r + k) mod p.
/// T = (p-1)(alpha + S/(pB)).
Schedule pairwise_alltoall(Rank p, double bytes);
/// Linear (direct) all-to-all: every rank sends bytes/p to every other at once, one step.
/// On one NIC link per rank: T = alpha + (p-1)/p S/B.
Schedule direct_alltoall(Rank p, double bytes);

/// All-to-allv: rank r sends bytes[r p + d] to rank d (bytes[r p + r] stays where it is), e.g. the
/// tokens an MoE layer routes to each expert.
/// Pairwise: p-1 steps, in step k rank r sends to (r + k) mod p, empty messages included (they
/// cost alpha). A rank enters step k + 1 once its send and its receive of step k are done, so on
/// a contention-free network the time is the longest path of that recurrence; every step waiting
/// for its slowest pair, sum_k (alpha + max_r bytes[r][r+k] / B), bounds it from above.
Schedule pairwise_alltoallv(Rank p, const std::vector<double>& bytes);
/// Direct: every non-empty message at once, one step. On one NIC link per rank it takes at least
/// alpha + max_r max(sent_r, received_r) / B; exactly that when every rank sends and receives the
/// same number of equal messages (max-min sharing gives each the same share).
Schedule direct_alltoallv(Rank p, const std::vector<double>& bytes);

/// Sharded parameter-server all-reduce (BytePS-style), servers co-located with ranks
/// i * p / servers: push, every rank sends each server its bytes/servers shard (none to itself);
/// pull, every server sends its reduced shard back. Server links carry (p-1) shards.
/// With one NIC per rank: T = 2 (alpha + (p-1) S / (servers B)).
Schedule ps_allreduce(Rank p, Rank servers, double bytes);

/// Parameter server with server processes of their own (BytePS): ranks 0..p-1 are the workers,
/// p..p+S-1 the S = shares.size() servers. Push: every worker sends bytes/S to each server, which
/// sums it; pull: each server sends its reduced shard back to every worker. shares[j] is the
/// worker whose host server j shares (that shard stays on the host), or NO_WORKER for a server on
/// a host of its own. Dedicated servers, every link of bandwidth B, each a link of its own to one
/// switch: T = 2 (alpha + max(1, p / S) S_bytes / B), the workers' links or the servers' bound.
inline constexpr Rank NO_WORKER = ~Rank{0};
Schedule ps_push_pull(Rank p, const std::vector<Rank>& shares, double bytes);

/// In-network all-reduce (SHARP, SwitchML) over an aggregation tree of switches that sum: ranks
/// 0..p-1 are GPUs, ranks p..parent.size()-1 the switches, parent[r] the switch above rank r
/// (parents after their children, the last rank the root: AggregationTree). The buffer goes in
/// `chunks` pieces, pipelined: piece k goes up from a rank to its parent u in step k + h(u) - 1
/// (h: height, GPUs 0) and down from u to its children in step k + H + d(u) (H: the root's
/// height, d: depth, the root 0), so C + 2H - 1 steps; each GPU sends and receives S once (a ring:
/// 2(p-1)/p S). With every child-parent route of latency l and bandwidth B, switches that sum R
/// bytes/s as the data streams in (the executor starts an aggregator's summing when a piece
/// starts to arrive), c = S / chunks, and F_h the most children of a switch at height h, a piece
/// takes d_h = max(l + c/B, F_h c/R) to climb level h:
/// T = sum_h d_h + (chunks - 1) max_h d_h + H (l + c/B); while summing keeps up,
/// T = (chunks + 2H - 1)(l + c/B). One switch over all p GPUs (H = 1):
/// T = chunks * max(l + c/B, p c/R) + l + c/B.
Schedule in_network_allreduce(Rank p, const std::vector<Rank>& parent, double bytes, Rank chunks);
/// Its flow fidelity, as_flows of the above built directly: one transfer per pair and run of
/// steps in which the same pairs are busy.
Schedule in_network_allreduce_flows(Rank p, const std::vector<Rank>& parent, double bytes, Rank chunks);
/// The same with one switch, rank p, over all p GPUs.
Schedule in_network_allreduce(Rank p, double bytes, Rank chunks);
Schedule in_network_allreduce_flows(Rank p, double bytes, Rank chunks);

/// NCCL's CollNet all-reduce (in-network aggregation on multi-GPU nodes, NCCL 2.x with SHARP):
/// nodes of `c` consecutive ranks; intra-node ring reduce-scatter (c-1 steps of S/c), then GPU l of
/// every node all-reduces its S/c shard in the network over aggregation tree `parents[l]` (the
/// pipeline of in_network_allreduce, `chunks` pieces; parents[l] is over local ranks, 0..r-1 the
/// nodes' GPU l = rank n c + l, then the tree's switches), the c trees at once, then intra-node
/// ring all-gather. Schedule ranks p.. are parents[0]'s switches, then parents[1]'s, ... (trees
/// may name one switch twice: its ranks then share a host). No trees for one node (r = 1).
/// With intra-node routes of latency a_i and bandwidth B_i, and in-network time I(S/c) as in
/// in_network_allreduce where switches shared by several trees sum all of their pieces:
/// T = 2(c-1)(a_i + S/(c B_i)) + I(S/c). Each NIC carries S/c each way (in_network: S).
Schedule collnet_allreduce(Rank p, Rank c, const std::vector<std::vector<Rank>>& parents, double bytes, Rank chunks);
/// Its flow fidelity: each intra-node phase one flow per pair, the trees as in_network_allreduce_flows.
Schedule collnet_allreduce_flows(Rank p, Rank c, const std::vector<std::vector<Rank>>& parents, double bytes,
                                 Rank chunks);

/// Point-to-point: rank 0 sends `bytes` to rank 1.  T = alpha + S/B.
Schedule send_recv(Rank p, double bytes);

/// Dissemination barrier (Hensgen, Finkel and Manber 1988): ceil(log2 p) steps of empty
/// messages, rank r to r + 2^k mod p.  T = ceil(log2 p) alpha.
Schedule dissemination_barrier(Rank p);

/// NCCL-style multi-channel ring all-reduce on nodes of `gpus_per_node` consecutive ranks: the
/// buffer is split over `channels` rings that run at once; ring c visits every node's GPUs
/// starting at local GPU c, so it leaves node n from GPU c-1 and enters node n+1 at GPU c. With a
/// NIC per GPU, each channel crosses nodes through different NICs. With a node fabric faster than
/// the NICs, T = 2(p-1)(alpha_out + S/(channels p B_out)) when channels = gpus_per_node.
Schedule multichannel_ring_allreduce(Rank p, Rank gpus_per_node, Rank channels, double bytes);
/// Its flow fidelity: one flow per channel and rank, standing for the ring's 2(p-1) messages.
Schedule multichannel_ring_allreduce_flows(Rank p, Rank gpus_per_node, Rank channels, double bytes);

/// 2D-torus all-reduce (Mikami et al. 2018) on ranks laid out as `rows` x `cols` (rank =
/// row * cols + col): ring reduce-scatter within each row, ring all-reduce of the 1/cols shard
/// within each column, ring all-gather within each row; rows run concurrently.
/// T = 2(c-1)(alpha_row + S/(c B_row)) + 2(r-1)(alpha_col + S/(c r B_col)) where every column's
/// ring has its own links (else the columns share them).
Schedule torus2d_allreduce(Rank rows, Rank cols, double bytes);

/// Hierarchical all-reduce (Horovod, BlueConnect): nodes of `gpus_per_node` consecutive ranks;
/// intra-node ring reduce-scatter, inter-node ring all-reduce among the ranks of equal local
/// index, intra-node ring all-gather. The 2D-torus schedule with rows = nodes.
Schedule hierarchical_allreduce(Rank p, Rank gpus_per_node, double bytes);
/// The hierarchical all-reduce at flow fidelity: as_flows of the above, built directly.
Schedule hierarchical_allreduce_flows(Rank p, Rank gpus_per_node, double bytes);

/// Flow fidelity: every run of consecutive steps that repeat the same (source, destination)
/// pairs (a ring's 2(p-1) steps, a hierarchical all-reduce's three phases) becomes one step of
/// one flow per pair, carrying the run's bytes and standing for one message per step of the run
/// (copies of a pair within one step, as parallel channels make, are concurrent, not sequential). Steps whose pairs
/// change (trees, recursive doubling, pairwise exchange) stay as they are: they have O(p log p)
/// messages, or their pairs differ at every step.
Schedule as_flows(const Schedule& steps);

}  // namespace ddlsim::coll
