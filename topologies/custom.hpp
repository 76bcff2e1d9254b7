#pragma once
#include "topologies/network.hpp"

#include <string>

namespace ddlsim::topo {

/// A link of a custom network between two named vertices: switches by their names, NIC
/// endpoints as "nic0", "nic1", ... in endpoint order.
struct CustomLink {
  std::string from, to;
  LinkSpec link;
};

/// Any network nobody anticipated: explicit switches and links. Routing: a shortest path (fewest
/// links; ties broken by link order) that crosses no endpoint other than its two ends.
struct CustomParams {
  std::vector<std::string> switches;
  std::vector<CustomLink> links;
};

/// Throws std::invalid_argument for unknown or duplicate names, or endpoints that cannot reach
/// each other.
EndpointRouteFn build_custom(Topology& t, const std::vector<Vertex>& endpoints, const CustomParams& params);

}  // namespace ddlsim::topo
