#pragma once
#include "topologies/network.hpp"

namespace ddlsim::topo {

/// Dragonfly (Kim, Dally, Scott and Abts, ISCA 2008): `groups` groups of `routers_per_group`
/// routers, all-to-all local links inside a group, `global_links_per_router` global ports per
/// router, `hosts_per_router` endpoints per router (filled in order). Every pair of groups gets
/// one global link: group i's global port q (router q / h of the group) reaches group
/// (i + q + 1) mod groups, so routers_per_group * global_links_per_router >= groups - 1.
/// Minimal routing: local hop to the router holding the global link, the global link, local hop
/// to the destination router: at most 3 router-to-router links.
struct DragonflyParams {
  int groups;
  int routers_per_group;
  int hosts_per_router;
  int global_links_per_router;
  LinkSpec link;
};

void validate(const DragonflyParams& params, std::uint32_t endpoints);
EndpointRouteFn build_dragonfly(Topology& t, const std::vector<Vertex>& endpoints, const DragonflyParams& params);

}  // namespace ddlsim::topo
