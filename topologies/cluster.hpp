#pragma once
// A cluster: nodes of GPUs on an intra-node fabric, their NICs, and the network between them.
#include "topologies/clos.hpp"
#include "topologies/custom.hpp"
#include "topologies/dragonfly.hpp"
#include "topologies/torus.hpp"

namespace ddlsim::topo {

enum class IntraFabric { nvswitch, pcie, nvlink_ring, nvlink_mesh };
enum class NicPlacement { per_node, per_pcie_switch, per_gpu };
enum class NetworkKind { star, fat_tree, rail_optimized, torus, dragonfly, custom };
const char* to_string(NetworkKind kind);
const char* to_string(IntraFabric fabric);

struct NetworkParams {
  NetworkKind kind;
  LinkSpec link;  ///< star: every NIC link; the others carry their own copy in their params
  /// > 0: switches sum the data passing through them at this many bytes per second (SHARP): the
  /// star's switch (host gpus), or a Clos's aggregation tree (ClosParams). Every GPU's aggregation
  /// parent is the star's switch or its endpoint's leaf. Star, fat_tree and rail_optimized only.
  double switch_reduce_bytes_per_s = 0;
  /// star: parameter servers on CPU hosts of their own, each with a `link` to the switch; hosts
  /// after the GPUs and the aggregating switch; they sum pushed bytes at server_reduce_bytes_per_s
  /// (0: not charged)
  int servers = 0;
  double server_reduce_bytes_per_s = 0;
  ClosParams clos;
  TorusParams torus;
  DragonflyParams dragonfly;
  CustomParams custom;
};

/// Inside a node:
/// - `nvswitch`: each GPU has one link (`intra`) to the node's NVSwitch;
/// - `pcie`: GPUs in groups of `gpus_per_pcie_switch` under PCIe switches (`intra` links); with
///   several switches, each has an `uplink` to the CPU root complex, which GPUs on different
///   switches share;
/// - `nvlink_ring`: direct GPU-to-GPU links (`intra`) in a ring (one link for two GPUs), routes
///   the shorter way round; it has no switch, so it needs a NIC per GPU;
/// - `nvlink_mesh`: direct GPU-to-GPU links (`intra`): all pairs for up to 4 GPUs; for 8, the
///   DGX-1 hybrid cube-mesh (two all-to-all quads, GPU i linked to GPU i+4), where a GPU reaches
///   a GPU of the other quad without a direct link through its own quad's partner of that GPU
///   (two links). Needs a NIC per GPU.
/// NICs: `per_gpu` (every GPU is a network endpoint), `per_pcie_switch` (pcie: each PCIe switch
/// is one, shared by its GPUs), `per_node` (the node switch, or the root complex when there are
/// several PCIe switches). A node of one GPU with its own NIC has no node switch.
/// Routes: same node -> the fabric's route; otherwise GPU -> its endpoint, the network's route
/// between the endpoints, endpoint -> GPU.
struct ClusterParams {
  int nodes;
  int gpus_per_node;
  IntraFabric fabric;
  LinkSpec intra;
  NicPlacement nics;
  NetworkParams network;
  int gpus_per_pcie_switch = 0;  ///< pcie: 0 means all the node's GPUs on one switch
  LinkSpec uplink{0, 0};         ///< pcie with several switches: switch to root complex
  /// Degraded links: (link name, factor applied to its bandwidth), applied once the cluster is built.
  std::vector<std::pair<std::string, double>> slow_links = {};

  int pcie_switches() const
  {
    return fabric == IntraFabric::pcie && gpus_per_pcie_switch > 0 ? gpus_per_node / gpus_per_pcie_switch : 1;
  }
  std::uint32_t endpoints() const
  {
    const int per_node = nics == NicPlacement::per_gpu           ? gpus_per_node
                         : nics == NicPlacement::per_pcie_switch ? pcie_switches()
                                                                 : 1;
    return static_cast<std::uint32_t>(nodes * per_node);
  }
};

/// Throws std::invalid_argument, naming the parameter at fault, for a cluster that cannot be built.
void validate(const ClusterParams& params);
Topology make_cluster(const ClusterParams& params);

}  // namespace ddlsim::topo
