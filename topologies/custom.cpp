#include "topologies/custom.hpp"

#include <deque>
#include <map>
#include <memory>
#include <stdexcept>

namespace ddlsim::topo {

EndpointRouteFn build_custom(Topology& t, const std::vector<Vertex>& endpoints, const CustomParams& p)
{
  const auto E = static_cast<std::uint32_t>(endpoints.size());
  // Local vertex ids: endpoints 0..E-1, then switches.
  std::map<std::string, std::uint32_t, std::less<>> id;
  for (std::uint32_t e = 0; e < E; ++e)
    id["nic" + std::to_string(e)] = e;
  std::vector<Vertex> vertex(endpoints.begin(), endpoints.end());
  for (const std::string& s : p.switches) {
    if (!id.emplace(s, static_cast<std::uint32_t>(vertex.size())).second)
      throw std::invalid_argument("switches: the name '" + s + "' is used twice (or is a NIC's name)");
    vertex.push_back(t.add_router(s));
  }
  struct Arc {
    std::uint32_t to;
    Hop hop;
  };
  std::vector<std::vector<Arc>> adjacency(vertex.size());
  for (std::size_t i = 0; i < p.links.size(); ++i) {
    const CustomLink& l = p.links[i];
    auto find = [&](const std::string& name) {
      const auto it = id.find(name);
      if (it == id.end())
        throw std::invalid_argument("links/" + std::to_string(i) + ": unknown vertex '" + name +
                                    "' (switches are listed in 'switches'; NICs are nic0..nic" + std::to_string(E - 1) +
                                    ")");
      return it->second;
    };
    const std::uint32_t a = find(l.from), b = find(l.to);
    if (a == b)
      throw std::invalid_argument("links/" + std::to_string(i) + ": a link needs two different ends");
    const Tier tier = (a < E || b < E) ? Tier::nic : Tier::custom;
    const std::uint32_t edge = t.add_link(vertex[a], vertex[b], l.from + "-" + l.to, l.link.bandwidth_bytes_per_s,
                                          l.link.latency_seconds, tier);
    adjacency[a].push_back({b, {edge, true}});
    adjacency[b].push_back({a, {edge, false}});
  }

  // Breadth-first trees towards each destination, built on first use and kept.
  using Tree = std::vector<Arc>;  // per vertex: next vertex and hop towards the destination
  auto trees = std::make_shared<std::vector<std::unique_ptr<Tree>>>(E);
  auto tree_to = [adjacency, E, trees](std::uint32_t dst) -> const Tree& {
    auto& slot = (*trees)[dst];
    if (!slot) {
      slot = std::make_unique<Tree>(adjacency.size(), Arc{UINT32_MAX, {0, false}});
      std::deque<std::uint32_t> queue{dst};
      (*slot)[dst].to = dst;
      while (!queue.empty()) {
        const std::uint32_t v = queue.front();
        queue.pop_front();
        if (v < E && v != dst)
          continue;  // never route through another endpoint
        for (const Arc& arc : adjacency[v])
          if ((*slot)[arc.to].to == UINT32_MAX) {
            (*slot)[arc.to] = {v, {arc.hop.edge, !arc.hop.forward}};
            queue.push_back(arc.to);
          }
      }
    }
    return *slot;
  };
  for (std::uint32_t e = 1; e < E; ++e)
    if (tree_to(0)[e].to == UINT32_MAX)
      throw std::invalid_argument("nic" + std::to_string(e) + " cannot reach nic0 through the custom links");

  return [tree_to](std::uint32_t a, std::uint32_t b, std::vector<Hop>& out) {
    const Tree& tree = tree_to(b);
    for (std::uint32_t v = a; v != b; v = tree[v].to)
      out.push_back(tree[v].hop);
  };
}

}  // namespace ddlsim::topo
