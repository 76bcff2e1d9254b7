#pragma once
#include "topologies/topology.hpp"

namespace ddlsim::topo {

enum class IntraFabric { nvswitch, pcie };

struct LinkSpec {
  double bandwidth_bytes_per_s;
  double latency_seconds;
};

/// Nodes of `gpus_per_node` GPUs under one network switch.
/// Inside a node each GPU has one full-duplex link (`intra`) to the node's switch: the NVSwitch
/// for `nvswitch`, the PCIe switch (which the GPUs share) for `pcie`.
/// NICs (`nic` links) go to the network switch: with `nic_per_gpu`, one from every GPU; otherwise
/// one per node, from the node switch, shared by the node's GPUs.
struct StarParams {
  int nodes;
  int gpus_per_node;
  IntraFabric fabric;
  LinkSpec intra;
  LinkSpec nic;
  bool nic_per_gpu;
};

/// Routes: same node -> GPU link up, GPU link down (via the node switch);
/// different nodes, NIC per node -> GPU up, NIC up, NIC down, GPU down;
/// different nodes, NIC per GPU -> NIC up, NIC down. A node of one GPU with NIC per GPU has no
/// node switch. Throws std::invalid_argument on non-positive counts.
Topology make_star(const StarParams& params);

}  // namespace ddlsim::topo
