#include "topologies/torus.hpp"

#include <stdexcept>
#include <string>

namespace ddlsim::topo {

void validate(const TorusParams& p, std::uint32_t endpoints)
{
  if (p.dims.empty())
    throw std::invalid_argument("dims: expected at least one dimension");
  std::uint64_t vertices = 1;
  for (int d : p.dims) {
    if (d < 1)
      throw std::invalid_argument("dims: every dimension must be at least 1");
    vertices *= static_cast<std::uint64_t>(d);
  }
  if (vertices > endpoints || endpoints % vertices != 0)
    throw std::invalid_argument("dims: a torus of " + std::to_string(vertices) + " vertices cannot hold " +
                                std::to_string(endpoints) +
                                " NIC endpoints evenly (endpoints must be a multiple of the vertex count)");
}

EndpointRouteFn build_torus(Topology& t, const std::vector<Vertex>& endpoints, const TorusParams& p)
{
  validate(p, static_cast<std::uint32_t>(endpoints.size()));
  const std::vector<int> dims = p.dims;
  const std::size_t n = dims.size();
  std::uint32_t vertices = 1;
  for (int d : dims)
    vertices *= static_cast<std::uint32_t>(d);
  const std::uint32_t per_vertex = static_cast<std::uint32_t>(endpoints.size()) / vertices;
  // stride[d]: index distance between neighbours in dimension d (dimension 0 varies slowest).
  std::vector<std::uint32_t> stride(n, 1);
  for (std::size_t d = n - 1; d > 0; --d)
    stride[d - 1] = stride[d] * static_cast<std::uint32_t>(dims[d]);
  auto coord = [dims, stride](std::uint32_t v, std::size_t d) {
    return (v / stride[d]) % dims[d];
  };

  std::vector<Vertex> router(vertices);
  for (std::uint32_t v = 0; v < vertices; ++v) {
    std::string name = "torus";
    for (std::size_t d = 0; d < n; ++d) {
      name.push_back(d == 0 ? '(' : ',');
      name.append(std::to_string(coord(v, d)));
    }
    router[v] = t.add_router(name + ")");
  }
  // plus[v * n + d]: the link from v to its + neighbour in dimension d.
  std::vector<std::uint32_t> plus(static_cast<std::size_t>(vertices) * n, UINT32_MAX);
  for (std::uint32_t v = 0; v < vertices; ++v)
    for (std::size_t d = 0; d < n; ++d) {
      const auto k = static_cast<std::uint32_t>(dims[d]);
      const std::uint32_t x = coord(v, d);
      if (k == 1 || (k == 2 && x == 1))
        continue;
      const std::uint32_t w = v - x * stride[d] + ((x + 1) % k) * stride[d];
      plus[v * n + d] = t.add_link(router[v], router[w], t.graph()[router[v]].name + "+" + std::to_string(d),
                                   p.link.bandwidth_bytes_per_s, p.link.latency_seconds, Tier::torus);
    }
  std::vector<std::uint32_t> nic(endpoints.size());
  for (std::uint32_t e = 0; e < endpoints.size(); ++e)
    nic[e] = t.add_link(endpoints[e], router[e / per_vertex], t.graph()[endpoints[e]].name + "-nic",
                        p.link.bandwidth_bytes_per_s, p.link.latency_seconds, Tier::nic);

  return [=](std::uint32_t a, std::uint32_t b, std::vector<Hop>& out) {
    out.push_back({nic[a], true});
    std::uint32_t v = a / per_vertex;
    const std::uint32_t target = b / per_vertex;
    for (std::size_t d = 0; d < n; ++d) {
      const auto k = static_cast<std::uint32_t>(dims[d]);
      const std::uint32_t x = coord(v, d), y = coord(target, d);
      const std::uint32_t forward_steps = (y + k - x) % k;
      if (forward_steps == 0)
        continue;
      const bool positive = forward_steps <= k - forward_steps;
      const std::uint32_t steps = positive ? forward_steps : k - forward_steps;
      for (std::uint32_t s = 0; s < steps; ++s) {
        const std::uint32_t xc = coord(v, d);
        const std::uint32_t base = v - xc * stride[d];
        if (k == 2) {
          out.push_back({plus[base * n + d], xc == 0});
          v = base + (1 - xc) * stride[d];
        } else if (positive) {
          out.push_back({plus[v * n + d], true});
          v = base + ((xc + 1) % k) * stride[d];
        } else {
          const std::uint32_t w = base + ((xc + k - 1) % k) * stride[d];
          out.push_back({plus[w * n + d], false});
          v = w;
        }
      }
    }
    out.push_back({nic[b], false});
  };
}

}  // namespace ddlsim::topo
