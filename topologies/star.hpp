#pragma once
// A star: one switch connects every NIC. Also the simplest way to build a cluster in tests.
#include "topologies/cluster.hpp"

namespace ddlsim::topo {

EndpointRouteFn build_star(Topology& t, const std::vector<Vertex>& endpoints, const LinkSpec& link);

/// A cluster on a star network, in one struct.
struct StarParams {
  int nodes;
  int gpus_per_node;
  IntraFabric fabric;
  LinkSpec intra;
  LinkSpec nic;
  bool nic_per_gpu;
};

Topology make_star(const StarParams& params);

}  // namespace ddlsim::topo
