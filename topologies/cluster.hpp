#pragma once
// A cluster: nodes of GPUs on an intra-node fabric, their NICs, and the network between them.
#include "topologies/clos.hpp"
#include "topologies/custom.hpp"
#include "topologies/dragonfly.hpp"
#include "topologies/torus.hpp"

namespace ddlsim::topo {

enum class IntraFabric { nvswitch, pcie };
enum class NetworkKind { star, fat_tree, rail_optimized, torus, dragonfly, custom };
const char* to_string(NetworkKind kind);

struct NetworkParams {
  NetworkKind kind;
  LinkSpec link;  ///< star: every NIC link; the others carry their own copy in their params
  ClosParams clos;
  TorusParams torus;
  DragonflyParams dragonfly;
  CustomParams custom;
};

/// Inside a node each GPU has one full-duplex link (`intra`) to the node's switch: the NVSwitch
/// for `nvswitch`, the PCIe switch (which the GPUs share) for `pcie`. With `nic_per_gpu`, every
/// GPU is a NIC endpoint of the network; otherwise the node switch is, and the node's GPUs share
/// its NIC. A node of one GPU with its own NIC has no node switch.
/// Routes: same node -> GPU link up, GPU link down; otherwise (NIC per node: GPU link up), the
/// network's route between the two endpoints, (NIC per node: GPU link down).
struct ClusterParams {
  int nodes;
  int gpus_per_node;
  IntraFabric fabric;
  LinkSpec intra;
  bool nic_per_gpu;
  NetworkParams network;

  std::uint32_t endpoints() const { return static_cast<std::uint32_t>(nic_per_gpu ? nodes * gpus_per_node : nodes); }
};

/// Throws std::invalid_argument, naming the parameter at fault, for a cluster that cannot be built.
void validate(const ClusterParams& params);
Topology make_cluster(const ClusterParams& params);

}  // namespace ddlsim::topo
