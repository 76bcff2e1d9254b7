#include "topologies/star.hpp"

#include <stdexcept>
#include <string>

namespace ddlsim::topo {

Topology make_star(const StarParams& p)
{
  if (p.nodes < 1 || p.gpus_per_node < 1)
    throw std::invalid_argument("star: nodes and gpus_per_node must be at least 1");
  Topology t;
  const auto n = static_cast<std::uint32_t>(p.nodes);
  const auto g = static_cast<std::uint32_t>(p.gpus_per_node);
  for (std::uint32_t node = 0; node < n; ++node)
    for (std::uint32_t i = 0; i < g; ++i)
      t.add_gpu("node" + std::to_string(node) + "-gpu" + std::to_string(i));
  const Vertex net_switch = t.add_router("switch");
  const bool node_switches = !(p.nic_per_gpu && g == 1);
  const char* fabric = p.fabric == IntraFabric::nvswitch ? "nvswitch" : "pcie";

  // Link ids laid out so routing is arithmetic: gpu_link[rank], nic_link[rank or node].
  std::vector<std::uint32_t> gpu_link, nic_link;
  for (std::uint32_t node = 0; node < n; ++node) {
    const std::string prefix = "node" + std::to_string(node);
    Vertex node_switch{};
    if (node_switches) {
      node_switch = t.add_router(prefix + "-" + fabric);
      for (std::uint32_t i = 0; i < g; ++i)
        gpu_link.push_back(t.add_link(t.gpu(node * g + i), node_switch,
                                      prefix + "-gpu" + std::to_string(i) + "-" + fabric, p.intra.bandwidth_bytes_per_s,
                                      p.intra.latency_seconds, Tier::intra_node));
    }
    if (p.nic_per_gpu) {
      for (std::uint32_t i = 0; i < g; ++i)
        nic_link.push_back(t.add_link(t.gpu(node * g + i), net_switch, prefix + "-gpu" + std::to_string(i) + "-nic",
                                      p.nic.bandwidth_bytes_per_s, p.nic.latency_seconds, Tier::nic));
    } else {
      nic_link.push_back(t.add_link(node_switch, net_switch, prefix + "-nic", p.nic.bandwidth_bytes_per_s,
                                    p.nic.latency_seconds, Tier::nic));
    }
  }

  // Every link was added GPU-side (or node-side) first, so "forward" is the direction away from the GPU.
  const bool per_gpu = p.nic_per_gpu;
  t.set_routing([g, per_gpu, gpu_link, nic_link](std::uint32_t src, std::uint32_t dst, std::vector<Hop>& out) {
    const std::uint32_t src_node = src / g, dst_node = dst / g;
    if (src == dst)
      return;
    if (src_node == dst_node) {
      out.push_back({gpu_link[src], true});
      out.push_back({gpu_link[dst], false});
    } else if (per_gpu) {
      out.push_back({nic_link[src], true});
      out.push_back({nic_link[dst], false});
    } else {
      out.push_back({gpu_link[src], true});
      out.push_back({nic_link[src_node], true});
      out.push_back({nic_link[dst_node], false});
      out.push_back({gpu_link[dst], false});
    }
  });
  return t;
}

}  // namespace ddlsim::topo
