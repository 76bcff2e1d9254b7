#include "topologies/cluster.hpp"

#include "topologies/star.hpp"

#include <array>
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

const char* to_string(IntraFabric fabric)
{
  switch (fabric) {
  case IntraFabric::nvswitch: return "nvswitch";
  case IntraFabric::pcie: return "pcie";
  case IntraFabric::nvlink_ring: return "nvlink_ring";
  case IntraFabric::nvlink_mesh: return "nvlink_mesh";
  }
  return "?";
}

void validate(const ClusterParams& p)
{
  if (p.nodes < 1 || p.gpus_per_node < 1)
    throw std::invalid_argument("nodes and gpus_per_node must be at least 1");
  const bool alone = p.gpus_per_node == 1 && p.nics == NicPlacement::per_gpu;
  if (!alone && !(p.intra.bandwidth_bytes_per_s > 0))
    throw std::invalid_argument("the intra-node links need a positive bandwidth");
  const bool direct = p.fabric == IntraFabric::nvlink_ring || p.fabric == IntraFabric::nvlink_mesh;
  if (direct && p.nics != NicPlacement::per_gpu)
    throw std::invalid_argument(std::string("an ") + to_string(p.fabric) +
                                " node has no switch to share a NIC: give every GPU its NIC (nics_per_node = "
                                "gpus_per_node)");
  if (p.fabric == IntraFabric::nvlink_mesh && p.gpus_per_node > 4 && p.gpus_per_node != 8)
    throw std::invalid_argument("nvlink_mesh links all pairs of up to 4 GPUs, or 8 GPUs as DGX-1's hybrid "
                                "cube-mesh; found " +
                                std::to_string(p.gpus_per_node) + " GPUs per node");
  if (p.fabric == IntraFabric::pcie && p.gpus_per_pcie_switch > 0) {
    if (p.gpus_per_node % p.gpus_per_pcie_switch != 0)
      throw std::invalid_argument("gpus_per_pcie_switch (" + std::to_string(p.gpus_per_pcie_switch) +
                                  ") must divide gpus_per_node (" + std::to_string(p.gpus_per_node) + ")");
    if (p.pcie_switches() > 1 && !(p.uplink.bandwidth_bytes_per_s > 0))
      throw std::invalid_argument("PCIe switch uplinks need a positive bandwidth");
  }
  if (p.nics == NicPlacement::per_pcie_switch && p.fabric != IntraFabric::pcie)
    throw std::invalid_argument("a NIC per PCIe switch needs the pcie fabric");
  const std::uint32_t endpoints = p.endpoints();
  switch (p.network.kind) {
  case NetworkKind::star:
  case NetworkKind::custom: break;
  case NetworkKind::fat_tree: clos_shape(p.network.clos, fat_tree_leaves(p.network.clos, endpoints)); break;
  case NetworkKind::rail_optimized:
    if (p.nics != NicPlacement::per_gpu)
      throw std::invalid_argument("a rail-optimized network needs a NIC per GPU (nics_per_node = gpus_per_node)");
    clos_shape(p.network.clos, rail_leaves(p.network.clos, endpoints, p.gpus_per_node));
    break;
  case NetworkKind::torus: validate(p.network.torus, endpoints); break;
  case NetworkKind::dragonfly: validate(p.network.dragonfly, endpoints); break;
  }
  const NetworkKind kind = p.network.kind;
  if (p.network.switch_reduce_bytes_per_s > 0 && kind != NetworkKind::star && kind != NetworkKind::fat_tree &&
      kind != NetworkKind::rail_optimized)
    throw std::invalid_argument(std::string("switches that sum (switch_reduction) are modelled on star, fat_tree and "
                                            "rail_optimized networks; this one is a ") +
                                to_string(kind));
  if (p.network.servers < 0)
    throw std::invalid_argument("the number of parameter servers must not be negative");
  if (p.network.servers > 0 && p.network.kind != NetworkKind::star)
    throw std::invalid_argument(std::string("dedicated parameter servers attach to a star network; this one is a ") +
                                to_string(p.network.kind));
}

Topology make_cluster(const ClusterParams& p)
{
  validate(p);
  Topology t;
  const auto n = static_cast<std::uint32_t>(p.nodes);
  const auto g = static_cast<std::uint32_t>(p.gpus_per_node);
  const auto S = static_cast<std::uint32_t>(p.pcie_switches());
  const std::uint32_t per_switch = g / S;
  const IntraFabric fabric = p.fabric;
  const NicPlacement nics = p.nics;
  for (std::uint32_t node = 0; node < n; ++node)
    for (std::uint32_t i = 0; i < g; ++i)
      t.add_gpu("node" + std::to_string(node) + "-gpu" + std::to_string(i));
  const bool alone = g == 1 && nics == NicPlacement::per_gpu;
  const LinkSpec& l = p.intra;

  // gpu_link[rank]: GPU to its NVSwitch or PCIe switch; ring[rank]: GPU i to GPU i+1 (nvlink_ring);
  // uplink[node * S + s]: PCIe switch s to the root complex.
  std::vector<std::uint32_t> gpu_link, ring, uplink;
  // mesh[node * g * g + i * g + j], i < j: the direct link between GPUs i and j (nvlink_mesh)
  std::vector<std::uint32_t> mesh(fabric == IntraFabric::nvlink_mesh ? std::size_t(n) * g * g : 0, UINT32_MAX);
  std::vector<Vertex> endpoints;
  for (std::uint32_t node = 0; node < n; ++node) {
    const std::string prefix = "node" + std::to_string(node);
    auto gpu_name = [&](std::uint32_t i) {
      return prefix + "-gpu" + std::to_string(i);
    };
    if (alone) {
      endpoints.push_back(t.gpu(node));
      continue;
    }
    switch (fabric) {
    case IntraFabric::nvswitch: {
      const Vertex sw = t.add_router(prefix + "-nvswitch");
      for (std::uint32_t i = 0; i < g; ++i)
        gpu_link.push_back(t.add_link(t.gpu(node * g + i), sw, gpu_name(i) + "-nvswitch", l.bandwidth_bytes_per_s,
                                      l.latency_seconds, Tier::intra_node));
      if (nics == NicPlacement::per_node)
        endpoints.push_back(sw);
      break;
    }
    case IntraFabric::pcie: {
      const Vertex root = S > 1 ? t.add_router(prefix + "-cpu") : Vertex{};
      for (std::uint32_t s = 0; s < S; ++s) {
        const std::string sw_name = prefix + "-pcie" + (S > 1 ? std::to_string(s) : "");
        const Vertex sw = t.add_router(sw_name);
        for (std::uint32_t i = s * per_switch; i < (s + 1) * per_switch; ++i)
          gpu_link.push_back(t.add_link(t.gpu(node * g + i), sw, gpu_name(i) + "-pcie", l.bandwidth_bytes_per_s,
                                        l.latency_seconds, Tier::intra_node));
        if (S > 1)
          uplink.push_back(t.add_link(sw, root, sw_name + "-cpu", p.uplink.bandwidth_bytes_per_s,
                                      p.uplink.latency_seconds, Tier::intra_node));
        if (nics == NicPlacement::per_pcie_switch || (nics == NicPlacement::per_node && S == 1))
          endpoints.push_back(sw);
      }
      if (nics == NicPlacement::per_node && S > 1)
        endpoints.push_back(root);
      break;
    }
    case IntraFabric::nvlink_mesh:
      for (std::uint32_t i = 0; i < g; ++i)
        for (std::uint32_t j = i + 1; j < g; ++j)
          if (g <= 4 || i / 4 == j / 4 || j == i + 4)
            mesh[node * g * g + i * g + j] =
                t.add_link(t.gpu(node * g + i), t.gpu(node * g + j), gpu_name(i) + "-nvlink-" + std::to_string(j),
                           l.bandwidth_bytes_per_s, l.latency_seconds, Tier::intra_node);
      break;
    case IntraFabric::nvlink_ring:
      for (std::uint32_t i = 0; i < g; ++i)
        ring.push_back(g == 1 || (g == 2 && i == 1)
                           ? UINT32_MAX
                           : t.add_link(t.gpu(node * g + i), t.gpu(node * g + (i + 1) % g),
                                        gpu_name(i) + "-nvlink-" + std::to_string((i + 1) % g), l.bandwidth_bytes_per_s,
                                        l.latency_seconds, Tier::intra_node));
      break;
    }
    if (nics == NicPlacement::per_gpu)
      for (std::uint32_t i = 0; i < g; ++i)
        endpoints.push_back(t.gpu(node * g + i));
  }

  EndpointRouteFn network;
  // A star whose switch reduces: build_star adds the switch, then NIC e as link first_nic + e.
  const auto first_nic = static_cast<std::uint32_t>(t.link_count());
  const auto star_switch = static_cast<Vertex>(boost::num_vertices(t.graph()));
  const bool aggregating = p.network.switch_reduce_bytes_per_s > 0;
  const bool star = p.network.kind == NetworkKind::star;
  std::vector<std::uint32_t> server_link;
  ClosParams clos = p.network.clos;
  clos.switch_reduce_bytes_per_s = p.network.switch_reduce_bytes_per_s;
  std::vector<std::uint32_t> endpoint_aggregator;  // Clos with summing switches: each endpoint's leaf
  switch (p.network.kind) {
  case NetworkKind::star:
    network = build_star(t, endpoints, p.network.link);
    if (aggregating)
      t.add_aggregator(star_switch, p.network.switch_reduce_bytes_per_s);
    for (int i = 0; i < p.network.servers; ++i) {
      const std::string name = "ps-server-" + std::to_string(i);
      const Vertex server = t.add_router(name);
      server_link.push_back(t.add_link(server, star_switch, name + "-nic", p.network.link.bandwidth_bytes_per_s,
                                       p.network.link.latency_seconds, Tier::nic));
      t.add_server(server, p.network.server_reduce_bytes_per_s);
    }
    break;
  case NetworkKind::fat_tree: network = build_fat_tree(t, endpoints, clos, &endpoint_aggregator); break;
  case NetworkKind::rail_optimized:
    network = build_rail_optimized(t, endpoints, p.gpus_per_node, clos, &endpoint_aggregator);
    break;
  case NetworkKind::torus: network = build_torus(t, endpoints, p.network.torus); break;
  case NetworkKind::dragonfly: network = build_dragonfly(t, endpoints, p.network.dragonfly); break;
  case NetworkKind::custom: network = build_custom(t, endpoints, p.network.custom); break;
  }

  // Links were added from the GPU side (or the lower tier) first: "forward" points away from the GPU.
  const auto endpoints_per_node = p.endpoints() / n;
  const std::uint32_t gpus = n * g;  // hosts from here on: the aggregating switch, then the servers
  const std::uint32_t first_server = gpus + static_cast<std::uint32_t>(t.switch_aggregator_count());
  // The network endpoint of GPU `host`, or of aggregator `host` (after the endpoints).
  const auto endpoint_count = static_cast<std::uint32_t>(endpoints.size());
  auto endpoint_of = [=](std::uint32_t host) -> std::uint32_t {
    if (host >= gpus)
      return endpoint_count + (host - gpus);
    switch (nics) {
    case NicPlacement::per_gpu: return host;
    case NicPlacement::per_pcie_switch: return host / g * endpoints_per_node + host % g / per_switch;
    case NicPlacement::per_node: return host / g;
    }
    return host;
  };
  if (aggregating) {  // every GPU sends up to its leaf (in every tree), or to the star's switch
    const std::uint32_t trees = std::max<std::uint32_t>(1, t.aggregation_trees());
    for (std::uint32_t tree = 0; tree < trees; ++tree)
      for (std::uint32_t r = 0; r < gpus; ++r)
        t.set_aggregation_parent(r, star ? gpus : endpoint_aggregator[endpoint_of(r)], tree);
  }
  t.set_routing([=](std::uint32_t src, std::uint32_t dst, std::vector<Hop>& out) {
    if (src == dst)
      return;
    if (star && (src >= gpus || dst >= gpus)) {
      // Star only: each end's way up to the switch (none for the switch itself), then down.
      auto to_switch = [&](std::uint32_t host, std::array<Hop, 3>& path) -> std::size_t {
        if (host >= first_server) {
          path[0] = {server_link[host - first_server], true};
          return 1;
        }
        if (host >= gpus)
          return 0;
        const std::uint32_t node = host / g, local = host % g;
        std::uint32_t endpoint = host;
        if (nics == NicPlacement::per_pcie_switch)
          endpoint = node * endpoints_per_node + local / per_switch;
        else if (nics == NicPlacement::per_node)
          endpoint = node;
        std::size_t hops = 0;
        if (nics != NicPlacement::per_gpu) {
          path[hops++] = {gpu_link[host], true};
          if (nics == NicPlacement::per_node && S > 1)
            path[hops++] = {uplink[node * S + local / per_switch], true};
        }
        path[hops++] = {first_nic + endpoint, true};
        return hops;
      };
      std::array<Hop, 3> up{}, down{};  // on every route lookup: no allocation
      const std::size_t up_hops = to_switch(src, up), down_hops = to_switch(dst, down);
      for (std::size_t i = 0; i < up_hops; ++i)
        out.push_back(up[i]);
      for (std::size_t i = down_hops; i > 0; --i)
        out.push_back({down[i - 1].edge, !down[i - 1].forward});
      return;
    }
    const std::uint32_t src_node = src / g, dst_node = dst / g;
    const std::uint32_t si = src % g, di = dst % g;
    if (src < gpus && dst < gpus && src_node == dst_node) {
      if (fabric == IntraFabric::nvlink_mesh) {
        const std::size_t base = std::size_t(src_node) * g * g;
        auto hop = [&](std::uint32_t i, std::uint32_t j) {
          out.push_back({mesh[base + std::min(i, j) * g + std::max(i, j)], i < j});
        };
        if (mesh[base + std::min(si, di) * g + std::max(si, di)] != UINT32_MAX) {
          hop(si, di);
        } else {  // other quad, not the partner: to our quad's partner of di, then across
          const std::uint32_t via = di ^ 4U;
          hop(si, via);
          hop(via, di);
        }
        return;
      }
      if (fabric == IntraFabric::nvlink_ring) {
        const std::uint32_t base = src_node * g, ahead = (di + g - si) % g;
        if (g == 2) {
          out.push_back({ring[base], si == 0});
          return;
        }
        const bool positive = ahead <= g - ahead;
        for (std::uint32_t i = si, steps = positive ? ahead : g - ahead; steps > 0; --steps) {
          if (positive) {
            out.push_back({ring[base + i], true});
            i = (i + 1) % g;
          } else {
            i = (i + g - 1) % g;
            out.push_back({ring[base + i], false});
          }
        }
        return;
      }
      out.push_back({gpu_link[src], true});
      if (S > 1 && si / per_switch != di / per_switch) {
        out.push_back({uplink[src_node * S + si / per_switch], true});
        out.push_back({uplink[dst_node * S + di / per_switch], false});
      }
      out.push_back({gpu_link[dst], false});
      return;
    }
    // GPU -> its endpoint -> network -> endpoint -> GPU; a summing switch of a Clos is an endpoint
    const bool through_root = nics == NicPlacement::per_node && S > 1;
    if (nics != NicPlacement::per_gpu && src < gpus) {
      out.push_back({gpu_link[src], true});
      if (through_root)
        out.push_back({uplink[src_node * S + si / per_switch], true});
    }
    network(endpoint_of(src), endpoint_of(dst), out);
    if (nics != NicPlacement::per_gpu && dst < gpus) {
      if (through_root)
        out.push_back({uplink[dst_node * S + di / per_switch], false});
      out.push_back({gpu_link[dst], false});
    }
  });
  for (const auto& [name, factor] : p.slow_links)
    if (t.scale_bandwidth(name, factor) == 0)
      throw std::invalid_argument("no link named '" + name + "' in this cluster");
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
  ClusterParams p{
      s.nodes, s.gpus_per_node, s.fabric, s.intra, s.nic_per_gpu ? NicPlacement::per_gpu : NicPlacement::per_node, {}};
  p.network.kind = NetworkKind::star;
  p.network.link = s.nic;
  return make_cluster(p);
}

}  // namespace ddlsim::topo
