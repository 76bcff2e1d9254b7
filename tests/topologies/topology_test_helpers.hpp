#pragma once
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

namespace ddlsim::test {

/// A cluster of `gpus` single-GPU nodes, each GPU its own NIC endpoint, on `network`.
inline topo::ClusterParams single_gpu_nodes(int gpus, topo::NetworkParams network)
{
  return {gpus, 1, topo::IntraFabric::nvswitch, {0, 0}, topo::NicPlacement::per_gpu, std::move(network)};
}

inline topo::NetworkParams clos(int tiers, int radix, double oversubscription,
                                topo::ClosRouting routing = topo::ClosRouting::d_mod_k, double bandwidth = 25e9)
{
  topo::NetworkParams n{};
  n.kind = topo::NetworkKind::fat_tree;
  n.clos = {tiers, radix, oversubscription, routing, 1, {bandwidth, 1e-6}};
  return n;
}

/// Every route must be a walk along the graph from GPU a to GPU b.
inline void check_route_is_a_path(const topo::Topology& t, std::uint32_t a, std::uint32_t b)
{
  topo::Vertex at = t.gpu(a);
  for (const topo::Hop& h : t.route(a, b)) {
    const topo::Vertex from = h.forward ? t.link_source(h.edge) : t.link_target(h.edge);
    const topo::Vertex to = h.forward ? t.link_target(h.edge) : t.link_source(h.edge);
    REQUIRE(from == at);
    at = to;
  }
  CHECK(at == t.gpu(b));
}

inline void check_all_routes(const topo::Topology& t)
{
  for (std::uint32_t a = 0; a < t.gpu_count(); ++a)
    for (std::uint32_t b = 0; b < t.gpu_count(); ++b)
      if (a != b)
        check_route_is_a_path(t, a, b);
}

}  // namespace ddlsim::test
