#pragma once
#include "topologies/network.hpp"

namespace ddlsim::topo {

/// A torus of routers with wrap-around in every dimension (a dimension of size 2 has one link
/// between its two routers, of size 1 none). Endpoints attach in order, endpoints / prod(dims)
/// per router: one per router puts GPUs (NIC per GPU) or nodes (NIC per node) at the vertices,
/// TPU-pod style. Dimension-order routing: dimension 0 first, each the shorter way round (ties
/// go the positive way). Throws std::invalid_argument when the endpoints do not divide evenly.
struct TorusParams {
  std::vector<int> dims;
  LinkSpec link;
};

EndpointRouteFn build_torus(Topology& t, const std::vector<Vertex>& endpoints, const TorusParams& params);
void validate(const TorusParams& params, std::uint32_t endpoints);

}  // namespace ddlsim::topo
