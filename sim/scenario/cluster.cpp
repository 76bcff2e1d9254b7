// The cluster section: nodes, GPUs, the intra-node fabric, the network and its links; its
// resolved JSON; and the topology parameters built from it.
#include "sim/scenario/sections.hpp"

#include "calibration/nccl_fit.hpp"
#include "sim/scenario/error.hpp"
#include "topologies/link_presets.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <unordered_set>

namespace ddlsim::scenario {

namespace {

const std::vector<std::string_view> SHARING_NAMES{"max-min", "tcp", "ib"};
const std::vector<std::string_view> TOPOLOGY_NAMES{"star",  "fat_tree",  "rail_optimized",
                                                   "torus", "dragonfly", "custom"};

/// The keys of a fat_tree or rail_optimized network: tiers, radix, oversubscription, routing,
/// planes, summing switches, failed links.
void parse_clos(const JsonNode& net, NetworkConfig& n)
{
  net.allow_keys({"topology", "link", "sharing", "tiers", "radix", "oversubscription", "routing", "planes",
                  "switch_reduction", "aggregation_trees", "failed_links"});
  if (auto failed = net.optional_child("failed_links"))
    for (std::size_t i = 0; i < failed->array_size(); ++i)
      n.failed_links.push_back(failed->element(i).as_string());
  n.tiers = net.int_or("tiers", 2, 2);
  if (n.tiers > 3)
    net.child("tiers").fail(fmt::format("found {}; expected 2 or 3", n.tiers));
  n.radix = net.int_value("radix", 2);
  // The widest switch ASICs split 51.2 Tb/s into 512 ports of 100 Gb/s (Broadcom Tomahawk 5
  // product brief, 2022); twice that still leaves room for what comes next.
  if (n.radix > 1024)
    net.child("radix").fail(fmt::format("found {}; expected at most 1024 switch ports (the widest switch chips "
                                        "have 512); a radix this large builds radix / 2 spines per leaf",
                                        n.radix));
  n.planes = net.int_or("planes", 1, 1);
  if (n.planes > 64)
    net.child("planes").fail(fmt::format("found {}; expected at most 64 network planes (one per NIC port)", n.planes));
  n.oversubscription = net.number_or("oversubscription", 1.0, Bound::positive);
  n.routing = static_cast<topo::ClosRouting>(net.choice_or("routing", {"d-mod-k", "ecmp"}, 0));
  n.switch_reduce_bytes_per_s = net.quantity_or("switch_reduction", Dimension::bytes_per_s, 0, Bound::positive);
  if (n.switch_reduce_bytes_per_s > 0 && n.planes > 1)
    net.child("switch_reduction")
        .fail(fmt::format("summing switches on a Clos of {} planes are not modelled (one aggregation tree); use "
                          "planes = 1",
                          n.planes));
  n.aggregation_trees = net.int_or("aggregation_trees", 1, 1);
  if (net.has("aggregation_trees") && !(n.switch_reduce_bytes_per_s > 0))
    net.child("aggregation_trees")
        .fail("aggregation_trees counts trees of switches that sum; expected 'switch_reduction' (their summing rate) "
              "beside it");
}

NetworkConfig parse_network(const JsonNode& net)
{
  NetworkConfig n{};
  n.topology = static_cast<topo::NetworkKind>(net.choice_or("topology", TOPOLOGY_NAMES, 0));
  if (net.has("switch_reduction") && n.topology != topo::NetworkKind::star &&
      n.topology != topo::NetworkKind::fat_tree && n.topology != topo::NetworkKind::rail_optimized)
    net.child("switch_reduction")
        .fail(fmt::format("switches that sum are modelled on star, fat_tree and rail_optimized networks; this one is "
                          "a {}",
                          topo::to_string(n.topology)));
  switch (n.topology) {
  case topo::NetworkKind::star:
    net.allow_keys({"topology", "link", "sharing", "switch_reduction"});
    n.switch_reduce_bytes_per_s = net.quantity_or("switch_reduction", Dimension::bytes_per_s, 0, Bound::positive);
    break;
  case topo::NetworkKind::fat_tree:
  case topo::NetworkKind::rail_optimized: parse_clos(net, n); break;
  case topo::NetworkKind::torus: {
    net.allow_keys({"topology", "link", "sharing", "dims"});
    const JsonNode dims = net.child("dims");
    for (std::size_t i = 0; i < dims.array_size(); ++i)
      n.dims.push_back(dims.element(i).as_int(1));
    if (n.dims.empty())
      dims.fail("found an empty list; expected the size of each dimension, e.g. [4, 4, 4]");
    break;
  }
  case topo::NetworkKind::dragonfly:
    net.allow_keys(
        {"topology", "link", "sharing", "groups", "routers_per_group", "hosts_per_router", "global_links_per_router"});
    n.groups = net.int_value("groups", 1);
    n.routers_per_group = net.int_value("routers_per_group", 1);
    n.hosts_per_router = net.int_value("hosts_per_router", 1);
    n.global_links_per_router = net.int_value("global_links_per_router", 0);
    // Routers are hosts of the platform: at most as many as the GPUs ddlsim supports.
    if (double(n.groups) * n.routers_per_group > 1048576 || n.hosts_per_router > 1048576 ||
        n.global_links_per_router > 1048576)
      net.fail(fmt::format("{} groups x {} routers ({} hosts and {} global links each) is more than the 1,048,576 "
                           "routers and ports ddlsim supports",
                           n.groups, n.routers_per_group, n.hosts_per_router, n.global_links_per_router));
    break;
  case topo::NetworkKind::custom: {
    net.allow_keys({"topology", "link", "sharing", "switches", "links"});
    const JsonNode switches = net.child("switches");
    for (std::size_t i = 0; i < switches.array_size(); ++i)
      n.switches.push_back(switches.element(i).as_string());
    break;
  }
  }
  n.link = parse_link(net.child("link"), "inter_node");
  if (n.topology == topo::NetworkKind::custom) {
    const JsonNode links = net.child("links");
    for (std::size_t i = 0; i < links.array_size(); ++i) {
      const JsonNode l = links.element(i);
      l.allow_keys({"from", "to", "link"});
      n.links.push_back(
          {l.string("from"), l.string("to"), l.has("link") ? parse_link(l.child("link"), "inter_node") : n.link});
    }
    if (n.links.empty())
      links.fail("found an empty list; expected the links of the network");
  }
  n.sharing = static_cast<Sharing>(net.choice_or("sharing", SHARING_NAMES, 0));
  return n;
}

/// cluster.intra_node: the fabric and its link, and a pcie fabric's switches and uplink.
void parse_intra_node(const JsonNode& intra, ClusterConfig& c)
{
  intra.allow_keys({"fabric", "link", "bandwidth", "latency", "gpus_per_pcie_switch", "uplink"});
  c.fabric = static_cast<topo::IntraFabric>(
      intra.child("fabric").as_choice({"nvswitch", "pcie", "nvlink_ring", "nvlink_mesh"}));
  if (intra.has("link")) {
    if (intra.has("bandwidth") || intra.has("latency"))
      intra.fail("give either 'link' (a preset) or 'bandwidth' and 'latency', not both");
    c.intra = parse_link(intra.child("link"), "intra_node");
  } else {
    c.intra = {"", intra.quantity("bandwidth", Dimension::bytes_per_s, Bound::positive),
               intra.quantity("latency", Dimension::seconds, Bound::non_negative)};
  }
  if (c.fabric != topo::IntraFabric::pcie && (intra.has("gpus_per_pcie_switch") || intra.has("uplink")))
    intra.fail("'gpus_per_pcie_switch' and 'uplink' describe the pcie fabric only");
  c.gpus_per_pcie_switch = intra.int_or("gpus_per_pcie_switch", c.gpus_per_node, 1);
  if (c.gpus_per_node % c.gpus_per_pcie_switch != 0)
    intra.child("gpus_per_pcie_switch")
        .fail(
            fmt::format("found {}; expected a divisor of gpus_per_node ({})", c.gpus_per_pcie_switch, c.gpus_per_node));
  c.uplink = intra.has("uplink") ? parse_link(intra.child("uplink"), "intra_node") : c.intra;
}

/// cluster.slow_links: links that run at a fraction of their bandwidth, each named once.
void parse_slow_links(const JsonNode& slow, ClusterConfig& c)
{
  for (std::size_t i = 0; i < slow.array_size(); ++i) {
    const JsonNode entry = slow.element(i);
    entry.allow_keys({"link", "bandwidth_factor"});
    const std::string name = entry.string("link");
    const double factor = entry.child("bandwidth_factor").as_number(Bound::positive);
    if (factor > 1)
      entry.child("bandwidth_factor")
          .fail(fmt::format("found {}; expected a factor in (0, 1] on the link's bandwidth", factor));
    for (const auto& [other, _] : c.slow_links)
      if (other == name)
        entry.child("link").fail(fmt::format("found '{}' twice; expected each link once", name));
    c.slow_links.emplace_back(name, factor);
  }
}

nlohmann::json link_json(const LinkConfig& l)
{
  if (!l.preset.empty())
    return l.preset;
  return {{"bandwidth", format_quantity(l.bandwidth_bytes_per_s, Dimension::bytes_per_s)},
          {"latency", format_quantity(l.latency_seconds, Dimension::seconds)}};
}

nlohmann::json network_json(const NetworkConfig& n)
{
  nlohmann::json j = {
      {"topology", topo::to_string(n.topology)}, {"link", link_json(n.link)}, {"sharing", to_string(n.sharing)}};
  switch (n.topology) {
  case topo::NetworkKind::star:
    if (n.switch_reduce_bytes_per_s > 0)
      j["switch_reduction"] = format_quantity(n.switch_reduce_bytes_per_s, Dimension::bytes_per_s);
    break;
  case topo::NetworkKind::fat_tree:
  case topo::NetworkKind::rail_optimized:
    j["tiers"] = n.tiers;
    j["radix"] = n.radix;
    j["oversubscription"] = n.oversubscription;
    j["routing"] = n.routing == topo::ClosRouting::d_mod_k ? "d-mod-k" : "ecmp";
    j["planes"] = n.planes;
    if (n.switch_reduce_bytes_per_s > 0) {
      j["switch_reduction"] = format_quantity(n.switch_reduce_bytes_per_s, Dimension::bytes_per_s);
      j["aggregation_trees"] = n.aggregation_trees;
    }
    if (!n.failed_links.empty())
      j["failed_links"] = n.failed_links;
    break;
  case topo::NetworkKind::torus: j["dims"] = n.dims; break;
  case topo::NetworkKind::dragonfly:
    j["groups"] = n.groups;
    j["routers_per_group"] = n.routers_per_group;
    j["hosts_per_router"] = n.hosts_per_router;
    j["global_links_per_router"] = n.global_links_per_router;
    break;
  case topo::NetworkKind::custom:
    j["switches"] = n.switches;
    j["links"] = nlohmann::json::array();
    for (const auto& l : n.links)
      j["links"].push_back({{"from", l.from}, {"to", l.to}, {"link", link_json(l.link)}});
    break;
  }
  return j;
}

/// Each slow link names a link of the cluster (as links.csv names it).
void check_slow_link_names(const JsonNode& cluster, const ClusterConfig& cc, const topo::Topology& built)
{
  std::unordered_set<std::string> names;
  for (std::uint32_t id = 0; id < built.link_count(); ++id)
    names.insert(built.link(id).name);
  for (std::size_t i = 0; i < cc.slow_links.size(); ++i)
    if (!names.count(cc.slow_links[i].first))
      cluster.child("slow_links")
          .element(i)
          .child("link")
          .fail(fmt::format("found '{}'; expected the name of a link of this cluster, as the 'link' column of "
                            "links.csv gives it (e.g. '{}')",
                            cc.slow_links[i].first, built.link(built.link_count() - 1).name));
}

}  // namespace

/// A link: a preset name ("ib-hdr-200"), a network calibration file ("net.json", relative to the
/// scenario: its `scope` fitted by ddlsim calibrate --from-nccl-tests) or an inline
/// {"bandwidth", "latency"} object.
LinkConfig parse_link(const JsonNode& node, const char* scope)
{
  if (node.is_string()) {
    const std::string name = node.as_string();
    if (name.size() > 5 && name.ends_with(".json")) {
      const std::filesystem::path p(name);
      const std::string path =
          p.is_absolute() ? name : (std::filesystem::path(node.file()).parent_path() / p).lexically_normal().string();
      if (!std::filesystem::exists(path))
        node.fail(fmt::format("network calibration file {} does not exist", path));
      const calib::CalibratedLink l = calib::load_calibrated_link(path, scope);
      return {"", l.bandwidth_bytes_per_s, l.latency_seconds};
    }
    const auto preset = topo::find_link_preset(name);
    if (!preset)
      node.fail(
          fmt::format("unknown link preset '{}'; expected one of: {}, a network calibration file (.json), or an object "
                      "with 'bandwidth' and 'latency'",
                      name, join_names(topo::link_preset_names())));
    return {name, preset->spec.bandwidth_bytes_per_s, preset->spec.latency_seconds};
  }
  node.allow_keys({"bandwidth", "latency"});
  return {"", node.quantity("bandwidth", Dimension::bytes_per_s, Bound::positive),
          node.quantity("latency", Dimension::seconds, Bound::non_negative)};
}

ClusterConfig parse_cluster(const JsonNode& node)
{
  node.allow_keys({"nodes", "gpus_per_node", "intra_node", "nics_per_node", "network", "slow_links"});
  ClusterConfig c{};
  c.nodes = node.int_value("nodes", 1);
  c.gpus_per_node = node.int_or("gpus_per_node", 1, 1);
  if (double(c.nodes) * c.gpus_per_node > 1048576)
    node.fail(
        fmt::format("{} nodes x {} GPUs is more than the 1,048,576 GPUs ddlsim supports", c.nodes, c.gpus_per_node));
  c.fabric = topo::IntraFabric::nvswitch;
  c.intra = {"", 0, 0};
  c.gpus_per_pcie_switch = c.gpus_per_node;
  c.uplink = {"", 0, 0};
  c.nics_per_node = node.int_or("nics_per_node", 1, 1);
  if (auto intra = node.optional_child("intra_node")) {
    parse_intra_node(*intra, c);
  } else if (!(c.gpus_per_node == 1 && c.nics_per_node == 1)) {
    node.fail("missing required key 'intra_node' (the GPUs of a node need a fabric: {\"fabric\": \"nvswitch\", "
              "\"pcie\", \"nvlink_ring\" or \"nvlink_mesh\", \"bandwidth\", \"latency\"})");
  }
  if (c.nics_per_node != 1 && c.nics_per_node != c.gpus_per_node && c.nics_per_node != c.pcie_switches())
    node.child("nics_per_node")
        .fail(fmt::format("found {}; expected 1 (one NIC per node), {} (gpus_per_node: one NIC per GPU){}",
                          c.nics_per_node, c.gpus_per_node,
                          c.pcie_switches() > 1 ? fmt::format(" or {} (one NIC per PCIe switch)", c.pcie_switches())
                                                : std::string()));

  c.network = parse_network(node.child("network"));
  if (auto slow = node.optional_child("slow_links"))
    parse_slow_links(*slow, c);
  return c;
}

void check_cluster_builds(const JsonNode& cluster, const Scenario& s)
{
  // Building the cluster checks what validate() cannot: a custom network's names and paths (it is
  // small), failed links (each name, and that every pair of leaves stays connected), and that
  // each slow link names a link (built without them, to say which entry is wrong).
  const ClusterConfig& cc = s.cluster;
  try {
    topo::ClusterParams params = cluster_params(cc, s.seed);
    params.slow_links.clear();
    topo::validate(params);
    if (cc.network.topology != topo::NetworkKind::custom && cc.network.failed_links.empty() && cc.slow_links.empty())
      return;
    // Initialised in place, never moved: a Topology indexes its own graph's edges, and a moved-from
    // copy left those pointers dangling (AddressSanitizer: heap-use-after-free).
    const topo::Topology built = topo::make_cluster(params);
    if (!cc.slow_links.empty())
      check_slow_link_names(cluster, cc, built);
  } catch (const topo::FailedLinksError& e) {
    cluster.child("network").child("failed_links").fail(e.detail());
  } catch (const std::invalid_argument& e) {
    cluster.child("network").fail(e.what());
  }
}

nlohmann::json slow_links_json(const ClusterConfig& c)
{
  nlohmann::json slow = nlohmann::json::array();
  for (const auto& [name, factor] : c.slow_links)
    slow.push_back({{"link", name}, {"bandwidth_factor", factor}});
  return slow;
}

nlohmann::json cluster_json(const ClusterConfig& c)
{
  using nlohmann::json;
  json cluster = {{"nodes", c.nodes},
                  {"gpus_per_node", c.gpus_per_node},
                  {"nics_per_node", c.nics_per_node},
                  {"network", network_json(c.network)}};
  if (c.intra.bandwidth_bytes_per_s > 0) {
    json intra = {{"fabric", topo::to_string(c.fabric)}};
    if (!c.intra.preset.empty())
      intra["link"] = c.intra.preset;
    else
      intra.update(link_json(c.intra));
    if (c.fabric == topo::IntraFabric::pcie) {
      intra["gpus_per_pcie_switch"] = c.gpus_per_pcie_switch;
      intra["uplink"] = link_json(c.uplink);
    }
    cluster["intra_node"] = intra;
  }
  if (!c.slow_links.empty())
    cluster["slow_links"] = slow_links_json(c);
  return cluster;
}

topo::ClusterParams cluster_params(const ClusterConfig& c, std::uint64_t seed)
{
  const NetworkConfig& n = c.network;
  const topo::LinkSpec link{n.link.bandwidth_bytes_per_s, n.link.latency_seconds};
  topo::ClusterParams p{c.nodes,           c.gpus_per_node,
                        c.fabric,          {c.intra.bandwidth_bytes_per_s, c.intra.latency_seconds},
                        c.nic_placement(), {}};
  if (c.fabric == topo::IntraFabric::pcie) {
    p.gpus_per_pcie_switch = c.gpus_per_pcie_switch;
    p.uplink = {c.uplink.bandwidth_bytes_per_s, c.uplink.latency_seconds};
  }
  p.network.kind = n.topology;
  p.network.link = link;
  p.network.switch_reduce_bytes_per_s = n.switch_reduce_bytes_per_s;
  p.network.clos = {n.tiers, n.radix, n.oversubscription, n.routing, seed, link, n.planes};
  p.network.clos.aggregation_trees = n.aggregation_trees;
  p.network.clos.failed_links = n.failed_links;
  p.network.torus = {n.dims, link};
  p.network.dragonfly = {n.groups, n.routers_per_group, n.hosts_per_router, n.global_links_per_router, link};
  p.network.custom.switches = n.switches;
  for (const auto& l : n.links)
    p.network.custom.links.push_back({l.from, l.to, {l.link.bandwidth_bytes_per_s, l.link.latency_seconds}});
  p.slow_links = c.slow_links;
  return p;
}

topo::ClusterParams cluster_params(const Scenario& s)
{
  topo::ClusterParams p = cluster_params(s.cluster, s.seed);
  const TrainingConfig& t = s.training;
  if (s.kind == WorkloadKind::training && t.architecture == ArchitectureKind::ps &&
      t.placement == PsPlacement::dedicated) {
    p.network.servers = t.servers;
    p.network.server_reduce_bytes_per_s = t.server_reduce_bytes_per_s;
  }
  const CollectiveConfig& c = s.collective;
  if (s.kind == WorkloadKind::collective && c.algorithm == coll::Algorithm::ps &&
      c.placement == PsPlacement::dedicated) {
    p.network.servers = c.servers;
    p.network.server_reduce_bytes_per_s = c.server_reduce_bytes_per_s;
  }
  return p;
}

}  // namespace ddlsim::scenario
