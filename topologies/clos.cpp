#include "topologies/clos.hpp"

#include <cmath>
#include <memory>
#include <stdexcept>

namespace ddlsim::topo {

namespace {

int leaf_down_ports(const ClosParams& p)
{
  if (p.tiers != 2 && p.tiers != 3)
    throw std::invalid_argument("tiers: expected 2 or 3, found " + std::to_string(p.tiers));
  if (p.radix < 2 || p.radix % 2 != 0)
    throw std::invalid_argument("radix: expected an even number of switch ports >= 2, found " +
                                std::to_string(p.radix));
  if (p.planes < 1)
    throw std::invalid_argument("planes: expected at least 1");
  if (!(p.oversubscription >= 1))
    throw std::invalid_argument("oversubscription: expected a ratio >= 1 (down:up ports at the leaf)");
  const double down = p.radix * p.oversubscription / (p.oversubscription + 1);
  if (std::abs(down - std::round(down)) > 1e-9 || std::round(down) >= p.radix)
    throw std::invalid_argument("oversubscription: " + std::to_string(p.oversubscription) + " does not split a radix-" +
                                std::to_string(p.radix) + " leaf into whole numbers of down and up ports");
  return static_cast<int>(std::round(down));
}

/// The Clos above the leaves, shared by the fat-tree and the rail-optimized layout.
EndpointRouteFn build_clos(Topology& t, const std::vector<Vertex>& endpoints, std::vector<std::uint32_t> leaf_of,
                           int leaves, const ClosParams& p, std::vector<std::uint32_t>* endpoint_aggregator)
{
  const bool summing = p.switch_reduce_bytes_per_s > 0;
  if (summing && p.planes > 1)
    throw std::invalid_argument("switch_reduction: the aggregation tree of a multi-plane Clos is not modelled; "
                                "use planes = 1");
  const ClosShape shape = clos_shape(p, leaves);
  const int up = shape.up, half = p.radix / 2, planes = p.planes;
  const int trees = summing ? p.aggregation_trees : 0;
  const LinkSpec& l = p.link;
  const std::size_t E = endpoints.size();
  const std::size_t up1_per_plane = static_cast<std::size_t>(leaves) * up;
  const std::size_t up2_per_plane = static_cast<std::size_t>(shape.pods) * up * half;
  // Index arrays, plane after plane: nic[plane * E + e], up1[plane * up1_per_plane + leaf * up + j],
  // up2[plane * up2_per_plane + (pod * up + j) * half + c].
  std::vector<std::uint32_t> nic(E * planes), up1(up1_per_plane * planes), up2(up2_per_plane * planes);
  // Plane 0's leaves, and for aggregation tree j its spine j or aggregation switch j of each pod
  // and its core j-0: the switches of the aggregation trees.
  std::vector<Vertex> tree_leaf;
  std::vector<std::vector<Vertex>> tree_mid(trees);
  std::vector<Vertex> tree_core(trees);
  for (int plane = 0; plane < planes; ++plane) {
    const std::string pp = planes > 1 ? "plane" + std::to_string(plane) + "-" : "";
    std::vector<Vertex> leaf(leaves);
    std::uint32_t* u1 = up1.data() + plane * up1_per_plane;
    std::uint32_t* u2 = up2.data() + plane * up2_per_plane;
    if (p.tiers == 2) {
      for (int i = 0; i < leaves; ++i)
        leaf[i] = t.add_router(pp + "leaf" + std::to_string(i));
      for (int j = 0; j < up; ++j) {
        const Vertex spine = t.add_router(pp + "spine" + std::to_string(j));
        if (plane == 0 && j < trees)
          tree_mid[j].push_back(spine);
        for (int i = 0; i < leaves; ++i)
          u1[i * up + j] = t.add_link(leaf[i], spine, pp + "leaf" + std::to_string(i) + "-spine" + std::to_string(j),
                                      l.bandwidth_bytes_per_s, l.latency_seconds, Tier::leaf_spine);
      }
    } else {
      std::vector<Vertex> core(static_cast<std::size_t>(up) * half);
      for (int j = 0; j < up; ++j)
        for (int c = 0; c < half; ++c)
          core[j * half + c] = t.add_router(pp + "core" + std::to_string(j) + "-" + std::to_string(c));
      if (plane == 0)
        for (int j = 0; j < trees; ++j)
          tree_core[j] = core[j * half];
      for (int pod = 0; pod < shape.pods; ++pod) {
        const std::string prefix = pp + "pod" + std::to_string(pod);
        for (int i = pod * half; i < std::min(leaves, (pod + 1) * half); ++i)
          leaf[i] = t.add_router(prefix + "-leaf" + std::to_string(i - pod * half));
        for (int j = 0; j < up; ++j) {
          const std::string agg_name = prefix + "-agg" + std::to_string(j);
          const Vertex agg = t.add_router(agg_name);
          if (plane == 0 && j < trees)
            tree_mid[j].push_back(agg);
          for (int i = pod * half; i < std::min(leaves, (pod + 1) * half); ++i)
            u1[i * up + j] =
                t.add_link(leaf[i], agg, prefix + "-leaf" + std::to_string(i - pod * half) + "-agg" + std::to_string(j),
                           l.bandwidth_bytes_per_s, l.latency_seconds, Tier::leaf_spine);
          for (int c = 0; c < half; ++c)
            u2[(static_cast<std::size_t>(pod) * up + j) * half + c] =
                t.add_link(agg, core[j * half + c], agg_name + "-core" + std::to_string(j) + "-" + std::to_string(c),
                           l.bandwidth_bytes_per_s, l.latency_seconds, Tier::spine_core);
        }
      }
    }
    for (std::size_t e = 0; e < E; ++e)
      nic[plane * E + e] = t.add_link(endpoints[e], leaf[leaf_of[e]], t.graph()[endpoints[e]].name + "-" + pp + "nic",
                                      l.bandwidth_bytes_per_s, l.latency_seconds, Tier::nic);
    if (plane == 0)
      tree_leaf = leaf;
  }

  const bool three = p.tiers == 3;
  // Aggregator k (host first_aggregator + k, endpoint E + k of the route function) sits at tree
  // level agg_level[k] (1 leaf, 2 spine or a pod's aggregation switch, 3 core), index agg_id[k]
  // within its level and tree (leaf, pod, 0), in tree agg_tree[k] (leaves are in every tree).
  std::vector<std::uint8_t> agg_level;
  std::vector<std::uint32_t> agg_id, agg_tree;
  if (summing) {
    const double rate = p.switch_reduce_bytes_per_s;
    const auto first = static_cast<std::uint32_t>(t.host_count());
    auto add = [&](Vertex v, std::uint8_t level, std::uint32_t id, std::uint32_t tree) {
      agg_level.push_back(level);
      agg_id.push_back(id);
      agg_tree.push_back(tree);
      return t.add_aggregator(v, rate);
    };
    for (int i = 0; i < leaves; ++i)
      add(tree_leaf[i], 1, static_cast<std::uint32_t>(i), 0);
    // Tree after tree: its spine or pods' aggregation switches, then its core (tree 0's hosts come
    // first, as when there was one tree).
    for (std::uint32_t j = 0; j < static_cast<std::uint32_t>(trees); ++j) {
      const auto mid = static_cast<std::uint32_t>(t.host_count());
      for (std::uint32_t m = 0; m < tree_mid[j].size(); ++m)
        add(tree_mid[j][m], 2, m, j);
      const auto mids = static_cast<std::uint32_t>(tree_mid[j].size());
      if (three)
        add(tree_core[j], 3, 0, j);
      for (int i = 0; i < leaves; ++i)
        t.set_aggregation_parent(first + i, mid + (three ? static_cast<std::uint32_t>(i / half) : 0), j);
      if (three)
        for (std::uint32_t m = 0; m < mids; ++m)
          t.set_aggregation_parent(mid + m, mid + mids, j);
    }
    if (endpoint_aggregator) {
      endpoint_aggregator->resize(E);
      for (std::size_t e = 0; e < E; ++e)
        (*endpoint_aggregator)[e] = first + leaf_of[e];
    }
  }

  // Failed links between switches: usable[id] is 0 for them. Only they may fail: a failed NIC
  // would cut its GPU off.
  std::vector<char> usable;
  if (!p.failed_links.empty()) {
    if (summing)
      throw FailedLinksError("the aggregation trees of summing switches do not reroute; expected no failed links "
                             "with switch_reduction");
    usable.assign(t.link_count(), 1);
    for (const std::string& name : p.failed_links) {
      bool found = false;
      for (const std::vector<std::uint32_t>* ids : {&up1, &up2})
        for (std::uint32_t id : *ids)
          if (t.link(id).name == name) {
            usable[id] = 0;
            found = true;
          }
      if (!found)
        throw FailedLinksError("'" + name +
                               "' is not a link between two switches of this network (a failed NIC would cut its "
                               "GPU off); expected a name such as '" +
                               t.link(up1[0]).name + "'");
    }
  }
  const auto up_ok = [usable](std::uint32_t id) {  // a copy: routes outlive this function
    return usable.empty() || usable[id];
  };
  // With failures: the first uplink index j from j0 on (cyclically) that leaves la and reaches lb
  // with links that are up, and (3 tiers, other pods) the first core c from c0 on reachable from
  // both pods' aggregation switches j; false when none is.
  const auto reroute = [=](const std::uint32_t* u1, const std::uint32_t* u2, std::uint32_t la, std::uint32_t lb,
                           std::uint32_t& j, std::uint32_t& c) {
    const std::uint32_t pa = la / half, pb = lb / half, j0 = j, c0 = c;
    for (std::uint32_t r = 0; r < std::uint32_t(up); ++r) {
      j = (j0 + r) % up;
      if (!up_ok(u1[std::size_t(la) * up + j]) || !up_ok(u1[std::size_t(lb) * up + j]))
        continue;
      if (!three || pa == pb)
        return true;
      for (std::uint32_t q = 0; q < std::uint32_t(half); ++q) {
        c = (c0 + q) % half;
        if (up_ok(u2[(std::size_t(pa) * up + j) * half + c]) && up_ok(u2[(std::size_t(pb) * up + j) * half + c]))
          return true;
      }
    }
    return false;
  };
  // Every pair of leaves must stay connected in every plane.
  if (!usable.empty())
    for (int plane = 0; plane < planes; ++plane)
      for (std::uint32_t la = 0; la < std::uint32_t(leaves); ++la)
        for (std::uint32_t lb = la + 1; lb < std::uint32_t(leaves); ++lb) {
          std::uint32_t j = 0, c = 0;
          if (!reroute(up1.data() + plane * up1_per_plane, up2.data() + plane * up2_per_plane, la, lb, j, c))
            throw FailedLinksError("no path is left between " +
                                   t.graph()[t.link_source(up1[plane * up1_per_plane + std::size_t(la) * up])].name +
                                   " and " +
                                   t.graph()[t.link_source(up1[plane * up1_per_plane + std::size_t(lb) * up])].name);
        }

  const bool ecmp = p.routing == ClosRouting::ecmp;
  const std::uint64_t seed = p.seed;
  return [=, leaf_of = std::move(leaf_of)](std::uint32_t a, std::uint32_t b, std::vector<Hop>& out) {
    if (a >= E || b >= E) {
      // An aggregator at one end: up the switches of its tree (plane 0; spine j or aggregation
      // switch j, core j-0 for tree j; a leaf or a GPU is in every tree, tree 0 when neither end
      // says) to the lowest one above both ends, then down.
      auto level = [&](std::uint32_t x) -> int {
        return x < E ? 0 : agg_level[x - E];
      };
      const std::uint32_t j = level(a) >= 2 ? agg_tree[a - E] : level(b) >= 2 ? agg_tree[b - E] : 0;
      auto above = [&](std::uint32_t x, int at) -> std::uint32_t {  // x's switch at level at >= level(x)
        const int own = level(x);
        const std::uint32_t id = x < E ? static_cast<std::uint32_t>(x) : agg_id[x - E];
        if (at == own)
          return id;
        if (at == 3 || own == 2)  // the core, above a pod's switch
          return 0;
        const std::uint32_t leaf = own == 0 ? leaf_of[x] : id;
        return at == 1 ? leaf : (three ? leaf / half : 0);
      };
      auto uplink = [&](int at, std::uint32_t id) -> std::uint32_t {  // from level at to at + 1, in tree j
        if (at == 0)
          return nic[id];
        if (at == 1)
          return up1[std::size_t(id) * up + j];
        return up2[(std::size_t(id) * up + j) * half];
      };
      const int la = level(a), lb = level(b), top = three ? 3 : 2;
      int meet = std::max(la, lb);
      while (meet < top && above(a, meet) != above(b, meet))
        ++meet;
      for (int at = la; at < meet; ++at)
        out.push_back({uplink(at, above(a, at)), true});
      for (int at = meet - 1; at >= lb; --at)
        out.push_back({uplink(at, above(b, at)), false});
      return;
    }
    // d-mod-k: the destination's index picks the plane, then the aggregation/spine, then the core
    // within its group; ecmp: a hash of the flow picks them.
    std::uint64_t key = ecmp ? mix64(seed ^ mix64((std::uint64_t(a) << 32) | b)) : b;
    const auto plane = static_cast<std::size_t>(key % planes);
    key /= planes;
    const std::uint32_t* u1 = up1.data() + plane * up1_per_plane;
    const std::uint32_t* u2 = up2.data() + plane * up2_per_plane;
    const std::uint32_t la = leaf_of[a], lb = leaf_of[b];
    out.push_back({nic[plane * E + a], true});
    if (la != lb) {
      auto j = static_cast<std::uint32_t>(key % up);
      auto c = static_cast<std::uint32_t>((key / up) % half);
      if (!usable.empty())
        reroute(u1, u2, la, lb, j, c);  // connected: checked when built
      const std::uint32_t pa = la / half, pb = lb / half;
      out.push_back({u1[la * up + j], true});
      if (three && pa != pb) {
        out.push_back({u2[(std::size_t(pa) * up + j) * half + c], true});
        out.push_back({u2[(std::size_t(pb) * up + j) * half + c], false});
      }
      out.push_back({u1[lb * up + j], false});
    }
    out.push_back({nic[plane * E + b], false});
  };
}

}  // namespace

ClosShape clos_shape(const ClosParams& p, int leaves)
{
  const int down = leaf_down_ports(p);
  ClosShape s{down, p.radix - down, leaves, 0, 0, 0};
  if (p.tiers == 2) {
    if (leaves > p.radix)
      throw std::invalid_argument("a 2-tier Clos of radix " + std::to_string(p.radix) + " has at most " +
                                  std::to_string(p.radix) + " leaves (" + std::to_string(p.radix * down) +
                                  " endpoints); this network needs " + std::to_string(leaves) +
                                  " leaves: use 3 tiers or a larger radix");
    s.spines = s.up;
  } else {
    const int half = p.radix / 2;
    s.pods = (leaves + half - 1) / half;
    if (s.pods > p.radix)
      throw std::invalid_argument("a 3-tier Clos of radix " + std::to_string(p.radix) + " has at most " +
                                  std::to_string(p.radix) + " pods (" + std::to_string(p.radix * half * down) +
                                  " endpoints); this network needs " + std::to_string(s.pods) +
                                  " pods: use a larger radix");
    s.spines = s.pods * s.up;
    s.cores = s.up * half;
  }
  if (p.aggregation_trees < 1 || p.aggregation_trees > s.up)
    throw std::invalid_argument("aggregation_trees: found " + std::to_string(p.aggregation_trees) + "; expected 1 to " +
                                std::to_string(s.up) + " (a tree through each " +
                                (p.tiers == 2 ? "spine" : "aggregation switch of a pod") + " above a leaf)");
  return s;
}

int fat_tree_leaves(const ClosParams& p, std::uint32_t endpoints)
{
  const int down = leaf_down_ports(p);
  return static_cast<int>((endpoints + down - 1) / down);
}

int rail_leaves(const ClosParams& p, std::uint32_t endpoints, int gpus_per_node)
{
  const int down = leaf_down_ports(p);
  const std::uint32_t nodes = endpoints / gpus_per_node;
  return static_cast<int>((nodes + down - 1) / down) * gpus_per_node;
}

EndpointRouteFn build_fat_tree(Topology& t, const std::vector<Vertex>& endpoints, const ClosParams& p,
                               std::vector<std::uint32_t>* endpoint_aggregator)
{
  const int leaves = fat_tree_leaves(p, static_cast<std::uint32_t>(endpoints.size()));
  const auto down = static_cast<std::uint32_t>(clos_shape(p, leaves).down);
  std::vector<std::uint32_t> leaf_of(endpoints.size());
  for (std::uint32_t e = 0; e < endpoints.size(); ++e)
    leaf_of[e] = e / down;
  return build_clos(t, endpoints, std::move(leaf_of), leaves, p, endpoint_aggregator);
}

EndpointRouteFn build_rail_optimized(Topology& t, const std::vector<Vertex>& endpoints, int gpus_per_node,
                                     const ClosParams& p, std::vector<std::uint32_t>* endpoint_aggregator)
{
  const auto g = static_cast<std::uint32_t>(gpus_per_node);
  const int leaves = rail_leaves(p, static_cast<std::uint32_t>(endpoints.size()), gpus_per_node);
  const auto down = static_cast<std::uint32_t>(clos_shape(p, leaves).down);
  std::vector<std::uint32_t> leaf_of(endpoints.size());
  for (std::uint32_t e = 0; e < endpoints.size(); ++e)
    leaf_of[e] = (e / g / down) * g + e % g;  // group of `down` nodes, rail = GPU index
  return build_clos(t, endpoints, std::move(leaf_of), leaves, p, endpoint_aggregator);
}

}  // namespace ddlsim::topo
