#pragma once
// Turns a requested collective (operation, algorithm or auto, fidelity or auto) into the schedule
// to run on a given cluster, and says what was chosen.
#include "sim/collectives/registry.hpp"
#include "sim/scenario.hpp"
#include "topologies/topology.hpp"

namespace ddlsim {

/// Alpha and bandwidth of the routes GPU 0 -> GPU 1 (inside a node) and GPU 0 -> GPU g (between
/// nodes) of the cluster: what `auto` weighs algorithms with.
coll::GroupShape group_shape(const topo::Topology& topology, std::uint32_t ranks, std::uint32_t gpus_per_node);

/// The chosen fidelity for a collective of `messages` step-level messages; auto -> flow above 65,536.
coll::ScheduleFidelity choose_fidelity(Fidelity requested, double messages);

struct PlannedCollective {
  coll::Schedule schedule;
  std::vector<std::uint32_t> hosts;  ///< schedule rank -> simulated host (GPU rank, or the aggregating switch)
  coll::Algorithm algorithm;         ///< never auto
  coll::ScheduleFidelity fidelity;
};

PlannedCollective plan_collective(coll::Op op, coll::Algorithm requested, Fidelity fidelity,
                                  const coll::GroupShape& group, double bytes);

}  // namespace ddlsim
