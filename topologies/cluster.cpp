#include "topologies/cluster.hpp"

#include "topologies/star.hpp"

#include <stdexcept>
#include <string>

namespace ddlsim::topo {

const char* to_string(NetworkKind kind)
{
  switch (kind) {
  case NetworkKind::star: return "star";
  case NetworkKind::fat_tree: return "fat_tree";
  case NetworkKind::rail_optimized: return "rail_optimized";
  case NetworkKind::torus: return "torus";
  case NetworkKind::dragonfly: return "dragonfly";
  case NetworkKind::custom: return "custom";
  }
  return "?";
}

void validate(const ClusterParams& p)
{
  if (p.nodes < 1 || p.gpus_per_node < 1)
    throw std::invalid_argument("nodes and gpus_per_node must be at least 1");
  const bool node_switch = !(p.nic_per_gpu && p.gpus_per_node == 1);
  if (node_switch && !(p.intra.bandwidth_bytes_per_s > 0))
    throw std::invalid_argument("the intra-node links need a positive bandwidth");
  const std::uint32_t endpoints = p.endpoints();
  switch (p.network.kind) {
  case NetworkKind::star:
  case NetworkKind::custom: break;
  case NetworkKind::fat_tree: clos_shape(p.network.clos, fat_tree_leaves(p.network.clos, endpoints)); break;
  case NetworkKind::rail_optimized:
    if (!p.nic_per_gpu)
      throw std::invalid_argument("a rail-optimized network needs a NIC per GPU (nics_per_node = gpus_per_node)");
    clos_shape(p.network.clos, rail_leaves(p.network.clos, endpoints, p.gpus_per_node));
    break;
  case NetworkKind::torus: validate(p.network.torus, endpoints); break;
  case NetworkKind::dragonfly: validate(p.network.dragonfly, endpoints); break;
  }
}

Topology make_cluster(const ClusterParams& p)
{
  validate(p);
  Topology t;
  const auto n = static_cast<std::uint32_t>(p.nodes);
  const auto g = static_cast<std::uint32_t>(p.gpus_per_node);
  for (std::uint32_t node = 0; node < n; ++node)
    for (std::uint32_t i = 0; i < g; ++i)
      t.add_gpu("node" + std::to_string(node) + "-gpu" + std::to_string(i));
  const bool node_switches = !(p.nic_per_gpu && g == 1);
  const char* fabric = p.fabric == IntraFabric::nvswitch ? "nvswitch" : "pcie";

  std::vector<std::uint32_t> gpu_link;
  std::vector<Vertex> endpoints;
  for (std::uint32_t node = 0; node < n; ++node) {
    const std::string prefix = "node" + std::to_string(node);
    if (node_switches) {
      const Vertex node_switch = t.add_router(prefix + "-" + fabric);
      for (std::uint32_t i = 0; i < g; ++i)
        gpu_link.push_back(t.add_link(t.gpu(node * g + i), node_switch,
                                      prefix + "-gpu" + std::to_string(i) + "-" + fabric, p.intra.bandwidth_bytes_per_s,
                                      p.intra.latency_seconds, Tier::intra_node));
      if (!p.nic_per_gpu)
        endpoints.push_back(node_switch);
    }
    if (p.nic_per_gpu)
      for (std::uint32_t i = 0; i < g; ++i)
        endpoints.push_back(t.gpu(node * g + i));
  }

  EndpointRouteFn network;
  switch (p.network.kind) {
  case NetworkKind::star: network = build_star(t, endpoints, p.network.link); break;
  case NetworkKind::fat_tree: network = build_fat_tree(t, endpoints, p.network.clos); break;
  case NetworkKind::rail_optimized:
    network = build_rail_optimized(t, endpoints, p.gpus_per_node, p.network.clos);
    break;
  case NetworkKind::torus: network = build_torus(t, endpoints, p.network.torus); break;
  case NetworkKind::dragonfly: network = build_dragonfly(t, endpoints, p.network.dragonfly); break;
  case NetworkKind::custom: network = build_custom(t, endpoints, p.network.custom); break;
  }

  // GPU links were added GPU-side first, so "forward" is the direction away from the GPU.
  const bool per_gpu = p.nic_per_gpu;
  t.set_routing([g, per_gpu, gpu_link, network](std::uint32_t src, std::uint32_t dst, std::vector<Hop>& out) {
    if (src == dst)
      return;
    const std::uint32_t src_node = src / g, dst_node = dst / g;
    if (src_node == dst_node) {
      out.push_back({gpu_link[src], true});
      out.push_back({gpu_link[dst], false});
    } else if (per_gpu) {
      network(src, dst, out);
    } else {
      out.push_back({gpu_link[src], true});
      network(src_node, dst_node, out);
      out.push_back({gpu_link[dst], false});
    }
  });
  return t;
}

EndpointRouteFn build_star(Topology& t, const std::vector<Vertex>& endpoints, const LinkSpec& link)
{
  const Vertex net_switch = t.add_router("switch");
  std::vector<std::uint32_t> nic;
  for (const Vertex e : endpoints)
    nic.push_back(t.add_link(e, net_switch, t.graph()[e].name + "-nic", link.bandwidth_bytes_per_s,
                             link.latency_seconds, Tier::nic));
  return [nic](std::uint32_t a, std::uint32_t b, std::vector<Hop>& out) {
    out.push_back({nic[a], true});
    out.push_back({nic[b], false});
  };
}

Topology make_star(const StarParams& s)
{
  ClusterParams p{s.nodes, s.gpus_per_node, s.fabric, s.intra, s.nic_per_gpu, {}};
  p.network.kind = NetworkKind::star;
  p.network.link = s.nic;
  return make_cluster(p);
}

}  // namespace ddlsim::topo
