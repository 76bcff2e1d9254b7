#pragma once
// Turns a requested collective (operation, algorithm or auto, fidelity or auto) into the schedule
// to run on a given cluster, and says what was chosen.
#include "sim/collectives/registry.hpp"
#include "sim/scenario/scenario.hpp"
#include "topologies/topology.hpp"

namespace ddlsim::workload {

/// The aggregation tree (coll::AggregationTree) of the switches that sum above GPUs 0..ranks-1:
/// the topology's tree without the switches that would have one child. Throws
/// std::invalid_argument when a GPU has no summing switch above it or the group is one GPU.
coll::AggregationTree aggregation_tree(const topo::Topology& topology, std::uint32_t ranks);
/// The same over the GPUs `gpus` (local rank i is GPU gpus[i]) in the topology's aggregation
/// tree `tree`.
coll::AggregationTree aggregation_tree(const topo::Topology& topology, const std::vector<std::uint32_t>& gpus,
                                       std::uint32_t tree);

/// The group of `ranks` GPUs first, first + stride, first + 2 stride, ... of which
/// gpus_per_node share a node (the group's first node starts at `first`; a group inside one node
/// may start anywhere): alpha and bandwidth of the routes from its first GPU to the next (inside
/// a node) and to its first GPU in the next node (between nodes), what `auto` weighs algorithms
/// with; and its aggregation trees where switches sum. Plans over it run on those GPUs
/// (GroupShape::gpu).
coll::GroupShape group_shape(const topo::Topology& topology, std::uint32_t ranks, std::uint32_t gpus_per_node,
                             std::uint32_t first = 0, std::uint32_t stride = 1);

/// The chosen fidelity for a collective of `messages` step-level messages; auto -> flow above 65,536.
/// `concurrent`: how many groups run the same collective at once (the data-parallel groups of
/// every pipeline stage and tensor rank), whose messages count together.
coll::ScheduleFidelity choose_fidelity(scenario::Fidelity requested, double messages, double concurrent = 1);

struct PlannedCollective {
  coll::Schedule schedule;
  std::vector<std::uint32_t> hosts;  ///< schedule rank -> simulated host (GPU rank, or the aggregating switch)
  coll::Algorithm algorithm;         ///< never auto
  coll::ScheduleFidelity fidelity;
};

PlannedCollective plan_collective(coll::Op op, coll::Algorithm requested, scenario::Fidelity fidelity,
                                  const coll::GroupShape& group, double bytes, double concurrent = 1);

}  // namespace ddlsim::workload
