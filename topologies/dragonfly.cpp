#include "topologies/dragonfly.hpp"

#include <stdexcept>
#include <string>

namespace ddlsim::topo {

void validate(const DragonflyParams& p, std::uint32_t endpoints)
{
  if (p.groups < 1 || p.routers_per_group < 1 || p.hosts_per_router < 1 || p.global_links_per_router < 0)
    throw std::invalid_argument("groups, routers_per_group and hosts_per_router must be at least 1");
  if (static_cast<long long>(p.routers_per_group) * p.global_links_per_router < p.groups - 1)
    throw std::invalid_argument("routers_per_group x global_links_per_router = " +
                                std::to_string(p.routers_per_group * p.global_links_per_router) +
                                " global ports per group cannot reach the other " + std::to_string(p.groups - 1) +
                                " groups");
  const long long capacity = static_cast<long long>(p.groups) * p.routers_per_group * p.hosts_per_router;
  if (capacity < endpoints)
    throw std::invalid_argument("the dragonfly has room for " + std::to_string(capacity) + " endpoints, not " +
                                std::to_string(endpoints));
}

EndpointRouteFn build_dragonfly(Topology& t, const std::vector<Vertex>& endpoints, const DragonflyParams& p)
{
  validate(p, static_cast<std::uint32_t>(endpoints.size()));
  const auto G = static_cast<std::uint32_t>(p.groups), A = static_cast<std::uint32_t>(p.routers_per_group),
             H = static_cast<std::uint32_t>(p.global_links_per_router),
             P = static_cast<std::uint32_t>(p.hosts_per_router);
  const LinkSpec& l = p.link;
  std::vector<Vertex> router(static_cast<std::size_t>(G) * A);
  for (std::uint32_t g = 0; g < G; ++g)
    for (std::uint32_t r = 0; r < A; ++r)
      router[g * A + r] = t.add_router("group" + std::to_string(g) + "-router" + std::to_string(r));
  // local[(g * A + i) * A + j], i < j: the link from router i to router j of group g.
  std::vector<std::uint32_t> local(static_cast<std::size_t>(G) * A * A, UINT32_MAX);
  for (std::uint32_t g = 0; g < G; ++g)
    for (std::uint32_t i = 0; i < A; ++i)
      for (std::uint32_t j = i + 1; j < A; ++j)
        local[(std::size_t(g) * A + i) * A + j] =
            t.add_link(router[g * A + i], router[g * A + j],
                       "group" + std::to_string(g) + "-local" + std::to_string(i) + "-" + std::to_string(j),
                       l.bandwidth_bytes_per_s, l.latency_seconds, Tier::local);
  // Global port q of group g leads to group (g + q + 1) mod G; the router holding it is q / H.
  auto gateway = [G, H](std::uint32_t from, std::uint32_t to) {
    return ((to + G - from - 1) % G) / H;
  };
  std::vector<std::uint32_t> global(static_cast<std::size_t>(G) * G, UINT32_MAX);
  for (std::uint32_t i = 0; i < G; ++i)
    for (std::uint32_t j = i + 1; j < G; ++j)
      global[std::size_t(i) * G + j] = t.add_link(router[i * A + gateway(i, j)], router[j * A + gateway(j, i)],
                                                  "global" + std::to_string(i) + "-" + std::to_string(j),
                                                  l.bandwidth_bytes_per_s, l.latency_seconds, Tier::global);
  std::vector<std::uint32_t> nic(endpoints.size());
  for (std::uint32_t e = 0; e < endpoints.size(); ++e)
    nic[e] = t.add_link(endpoints[e], router[e / P], t.graph()[endpoints[e]].name + "-nic", l.bandwidth_bytes_per_s,
                        l.latency_seconds, Tier::nic);

  return [=](std::uint32_t a, std::uint32_t b, std::vector<Hop>& out) {
    auto local_hop = [&](std::uint32_t g, std::uint32_t i, std::uint32_t j) {
      if (i != j)
        out.push_back({local[(std::size_t(g) * A + std::min(i, j)) * A + std::max(i, j)], i < j});
    };
    const std::uint32_t ra = a / P, rb = b / P, ga = ra / A, gb = rb / A;
    out.push_back({nic[a], true});
    if (ga == gb) {
      local_hop(ga, ra % A, rb % A);
    } else {
      local_hop(ga, ra % A, gateway(ga, gb));
      out.push_back({global[std::size_t(std::min(ga, gb)) * G + std::max(ga, gb)], ga < gb});
      local_hop(gb, gateway(gb, ga), rb % A);
    }
    out.push_back({nic[b], false});
  };
}

}  // namespace ddlsim::topo
