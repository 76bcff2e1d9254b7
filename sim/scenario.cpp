#include "sim/scenario.hpp"

#include "calibration/nccl_fit.hpp"
#include "models/zoo.hpp"
#include "sim/error.hpp"
#include "sim/json_reader.hpp"
#include "topologies/link_presets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <unordered_set>

namespace ddlsim {

const char* to_string(Sharing v)
{
  switch (v) {
  case Sharing::max_min: return "max-min";
  case Sharing::tcp: return "tcp";
  case Sharing::ib: return "ib";
  }
  return "?";
}
const char* to_string(Fidelity v)
{
  switch (v) {
  case Fidelity::step: return "step";
  case Fidelity::flow: return "flow";
  case Fidelity::auto_: return "auto";
  }
  return "?";
}
const char* to_string(Precision v)
{
  switch (v) {
  case Precision::fp32: return "fp32";
  case Precision::fp16: return "fp16";
  case Precision::bf16: return "bf16";
  case Precision::tf32: return "tf32";
  }
  return "?";
}
const char* to_string(SchedulingPolicy v)
{
  switch (v) {
  case SchedulingPolicy::none: return "none";
  case SchedulingPolicy::wfbp: return "wfbp";
  case SchedulingPolicy::fusion: return "fusion";
  case SchedulingPolicy::mg_wfbp: return "mg_wfbp";
  case SchedulingPolicy::priority: return "priority";
  }
  return "?";
}
const char* to_string(SyncScheme v)
{
  switch (v) {
  case SyncScheme::bsp: return "bsp";
  case SyncScheme::ssp: return "ssp";
  case SyncScheme::asp: return "asp";
  case SyncScheme::local_sgd: return "local_sgd";
  }
  return "?";
}
const char* to_string(ArchitectureKind v)
{
  switch (v) {
  case ArchitectureKind::allreduce: return "allreduce";
  case ArchitectureKind::ps: return "ps";
  case ArchitectureKind::gossip: return "gossip";
  }
  return "?";
}
const char* to_string(PipelineSchedule v)
{
  return v == PipelineSchedule::one_f_one_b ? "1f1b" : "gpipe";
}
const char* to_string(TensorComm v)
{
  return v == TensorComm::simulate ? "simulate" : "alpha_beta";
}
const char* to_string(Recompute v)
{
  switch (v) {
  case Recompute::none: return "none";
  case Recompute::selective: return "selective";
  case Recompute::full: return "full";
  }
  return "none";
}
const char* to_string(PsPlacement v)
{
  return v == PsPlacement::colocated ? "colocated" : "dedicated";
}
const char* to_string(GossipGraph v)
{
  switch (v) {
  case GossipGraph::ring: return "ring";
  case GossipGraph::torus: return "torus";
  case GossipGraph::exponential: return "exponential";
  }
  return "?";
}

double bytes_per_element(Precision p)
{
  return p == Precision::fp32 || p == Precision::tf32 ? 4.0 : 2.0;
}

namespace {

const std::vector<std::string_view> SHARING_NAMES{"max-min", "tcp", "ib"};
const std::vector<std::string_view> FIDELITY_NAMES{"step", "flow", "auto"};
// In the order of Precision; collectives move data, which has no tf32 format.
const std::vector<std::string_view> PRECISION_NAMES{"fp32", "fp16", "bf16", "tf32"};
const std::vector<std::string_view> COLLECTIVE_PRECISION_NAMES{"fp32", "fp16", "bf16"};

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

Fidelity parse_fidelity(const JsonNode& w)
{
  return static_cast<Fidelity>(w.choice_or("fidelity", FIDELITY_NAMES, std::size_t(Fidelity::auto_)));
}

const std::vector<std::string_view> TOPOLOGY_NAMES{"star",  "fat_tree",  "rail_optimized",
                                                   "torus", "dragonfly", "custom"};

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
  case topo::NetworkKind::rail_optimized:
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
      net.child("planes").fail(
          fmt::format("found {}; expected at most 64 network planes (one per NIC port)", n.planes));
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
    break;
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
    intra->allow_keys({"fabric", "link", "bandwidth", "latency", "gpus_per_pcie_switch", "uplink"});
    c.fabric = static_cast<topo::IntraFabric>(
        intra->child("fabric").as_choice({"nvswitch", "pcie", "nvlink_ring", "nvlink_mesh"}));
    if (intra->has("link")) {
      if (intra->has("bandwidth") || intra->has("latency"))
        intra->fail("give either 'link' (a preset) or 'bandwidth' and 'latency', not both");
      c.intra = parse_link(intra->child("link"), "intra_node");
    } else {
      c.intra = {"", intra->quantity("bandwidth", Dimension::bytes_per_s, Bound::positive),
                 intra->quantity("latency", Dimension::seconds, Bound::non_negative)};
    }
    if (c.fabric != topo::IntraFabric::pcie && (intra->has("gpus_per_pcie_switch") || intra->has("uplink")))
      intra->fail("'gpus_per_pcie_switch' and 'uplink' describe the pcie fabric only");
    c.gpus_per_pcie_switch = intra->int_or("gpus_per_pcie_switch", c.gpus_per_node, 1);
    if (c.gpus_per_node % c.gpus_per_pcie_switch != 0)
      intra->child("gpus_per_pcie_switch")
          .fail(fmt::format("found {}; expected a divisor of gpus_per_node ({})", c.gpus_per_pcie_switch,
                            c.gpus_per_node));
    c.uplink = intra->has("uplink") ? parse_link(intra->child("uplink"), "intra_node") : c.intra;
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
    for (std::size_t i = 0; i < slow->array_size(); ++i) {
      const JsonNode entry = slow->element(i);
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
  return c;
}

std::vector<double> parse_sizes(const JsonNode& node)
{
  node.allow_keys({"from", "to", "factor", "list"});
  std::vector<double> sizes;
  if (node.has("list")) {
    if (node.has("from") || node.has("to") || node.has("factor"))
      node.fail("give either 'list' or 'from'/'to'/'factor', not both");
    const JsonNode list = node.child("list");
    for (std::size_t i = 0; i < list.array_size(); ++i) {
      sizes.push_back(list.element(i).as_quantity(Dimension::bytes, Bound::positive));
      if (i > 0 && sizes[i] <= sizes[i - 1])
        list.element(i).fail("sizes must be strictly increasing");
    }
    if (sizes.empty())
      list.fail("found an empty list; expected at least one size");
    return sizes;
  }
  const double from = node.quantity("from", Dimension::bytes, Bound::positive);
  const double to = node.quantity("to", Dimension::bytes, Bound::positive);
  const double factor = node.number_or("factor", 2, Bound::positive);
  if (to < from)
    node.child("to").fail("found a size smaller than 'from'; expected to >= from");
  if (!(factor > 1))
    node.child("factor").fail(fmt::format("found {}; expected a number greater than 1", factor));
  for (double s = from; s <= to * (1 + 1e-12); s *= factor) {
    sizes.push_back(s);
    if (sizes.size() > 10000)
      node.fail("more than 10,000 sizes; use a larger factor");
  }
  return sizes;
}

/// An algorithm that implements `op`, or auto; the error lists those.
coll::Algorithm parse_algorithm(const JsonNode& node, coll::Op op)
{
  const auto a = static_cast<coll::Algorithm>(node.as_choice(coll::algorithm_names()));
  const auto valid = coll::algorithms_for(op);
  if (a == coll::Algorithm::auto_ || std::find(valid.begin(), valid.end(), a) != valid.end())
    return a;
  std::vector<std::string> names;
  for (coll::Algorithm v : valid)
    names.emplace_back(coll::to_string(v));
  names.emplace_back("auto");
  node.fail(fmt::format("'{}' does not implement {}; expected one of: {}", coll::to_string(a), coll::to_string(op),
                        join_names(names)));
}

/// NCCL-style ring channels: 1 unless a ring (or auto) all-reduce asks for up to gpus_per_node.
int parse_channels(const JsonNode& node, int gpus_per_node, coll::Algorithm algorithm, coll::Op op)
{
  if (!node.has("channels"))
    return 1;
  const JsonNode c = node.child("channels");
  const auto channels = c.as_int(1);
  const bool ring = algorithm == coll::Algorithm::ring || algorithm == coll::Algorithm::auto_;
  if (channels > 1 && (op != coll::Op::allreduce || !ring))
    c.fail("channels apply to the ring all-reduce only");
  if (channels > gpus_per_node)
    c.fail(fmt::format("found {}; expected at most gpus_per_node ({}): each channel leaves a node from another GPU",
                       channels, gpus_per_node));
  return channels;
}

/// workload.compute: a measured single-GPU iteration (time, or samples per second) and how ranks differ.
ComputeConfig parse_compute(const JsonNode& w, int batch, int ranks, std::string_view ranks_are)
{
  ComputeConfig c;
  const auto compute = w.optional_child("compute");
  if (!compute)
    return c;
  compute->allow_keys({"iteration_time", "samples_per_s", "jitter", "stragglers"});
  if (compute->has("iteration_time") && compute->has("samples_per_s"))
    compute->fail("give the measured single-GPU speed once: 'iteration_time' or 'samples_per_s', not both");
  if (compute->has("iteration_time"))
    c.iteration_seconds = compute->quantity("iteration_time", Dimension::seconds, Bound::positive);
  if (compute->has("samples_per_s"))
    c.iteration_seconds = batch / compute->child("samples_per_s").as_number(Bound::positive);
  if (c.iteration_seconds > 0)
    c.iteration_source = "scenario";
  c.jitter = compute->number_or("jitter", 0, Bound::non_negative);
  if (c.jitter >= 1)
    compute->child("jitter").fail(fmt::format("found {}; expected a fraction in [0, 1): each rank's compute is "
                                              "scaled by 1 + u, u uniform in [-jitter, jitter]",
                                              c.jitter));
  if (auto slow = compute->optional_child("stragglers")) {
    slow->allow_keys({"ranks", "slowdown"});
    const JsonNode list = slow->child("ranks");
    for (std::size_t i = 0; i < list.array_size(); ++i) {
      const auto r = list.element(i).as_integer(0);
      if (r >= ranks)
        list.element(i).fail(fmt::format("found rank {}; the {} are 0 to {}", r, ranks_are, ranks - 1));
      c.slow_ranks.push_back(static_cast<std::uint32_t>(r));
    }
    std::sort(c.slow_ranks.begin(), c.slow_ranks.end());
    c.slow_ranks.erase(std::unique(c.slow_ranks.begin(), c.slow_ranks.end()), c.slow_ranks.end());
    c.slowdown = slow->child("slowdown").as_number(Bound::positive);
    if (c.slowdown < 1)
      slow->child("slowdown")
          .fail(fmt::format("found {}; expected a factor >= 1 (compute time of a straggler over "
                            "that of the others)",
                            c.slowdown));
  }
  return c;
}

/// `workload.compression`: the codec and its parameters, checked against the codec (a parameter of
/// another codec is an error, not ignored) and against what the training's architecture can carry.
compress::CodecConfig parse_compression(const JsonNode& w, const TrainingConfig& t)
{
  using compress::Codec;
  compress::CodecConfig c;
  const auto comp = w.optional_child("compression");
  if (!comp)
    return c;
  comp->allow_keys(
      {"codec", "ratio", "levels", "elias", "rank", "error_feedback", "granularity", "exchange", "stream"});
  c.codec = static_cast<Codec>(comp->child("codec").as_choice(compress::codec_names()));
  const std::string name = compress::to_string(c.codec);
  const auto only_for = [&](std::string_view key, bool applies, std::string_view which) {
    if (!applies && comp->has(key))
      comp->child(key).fail(fmt::format("'{}' applies to {}; this codec is '{}'", key, which, name));
  };
  only_for("ratio", compress::sparsifier(c.codec), "topk, randomk, dgc and threshold");
  only_for("levels", c.codec == Codec::qsgd, "qsgd");
  only_for("elias", c.codec == Codec::qsgd, "qsgd");
  only_for("rank", c.codec == Codec::powersgd, "powersgd");
  only_for("error_feedback", compress::error_feedback_applies(c.codec), "codecs that lose information");
  only_for("granularity", c.codec != Codec::none && c.codec != Codec::powersgd,
           "codecs other than none and powersgd (PowerSGD works on each weight matrix)");
  only_for("exchange", c.codec != Codec::none, "compressed gradients");
  only_for("stream", c.codec != Codec::none, "compressed gradients");
  if (compress::sparsifier(c.codec)) {
    const JsonNode ratio = comp->child("ratio");
    c.ratio = ratio.as_number(Bound::any);
    if (!(c.ratio > 0 && c.ratio < 1))
      ratio.fail(fmt::format("found {}; expected a ratio in (0, 1): the fraction of gradient elements sent", c.ratio));
  }
  if (c.codec == Codec::qsgd) {
    const JsonNode levels = comp->child("levels");
    const long long s = levels.as_integer(std::numeric_limits<long long>::min());
    if (s < 1 || s > (1 << 24))
      levels.fail(fmt::format("found {}; expected quantization levels s in [1, 16777216] (QSGD sends "
                              "1 + ceil(log2(s + 1)) bits an element)",
                              s));
    c.levels = static_cast<int>(s);
    c.elias = comp->boolean_or("elias", false);
  }
  if (c.codec == Codec::powersgd) {
    const JsonNode rank = comp->child("rank");
    const long long q = rank.as_integer(std::numeric_limits<long long>::min());
    if (q < 1 || q > 1024)
      rank.fail(fmt::format("found {}; expected a rank in [1, 1024] (the columns of PowerSGD's P and Q)", q));
    c.rank = static_cast<int>(q);
  }
  c.error_feedback = comp->boolean_or("error_feedback", compress::error_feedback_by_default(c.codec));
  c.granularity = static_cast<compress::Granularity>(comp->choice_or("granularity", {"tensor", "bucket"}, 0));
  const bool summable = compress::summable(c.codec);
  c.exchange = static_cast<compress::Exchange>(comp->choice_or(
      "exchange", compress::exchange_names(),
      static_cast<std::size_t>(summable ? compress::Exchange::allreduce : compress::Exchange::allgather)));
  if (comp->has("exchange")) {
    const JsonNode exchange = comp->child("exchange");
    if (t.architecture != ArchitectureKind::allreduce)
      exchange.fail(fmt::format("'exchange' chooses the collective of architecture 'allreduce'; this one is '{}' (a "
                                "parameter server sums what workers push)",
                                to_string(t.architecture)));
    if (summable && c.exchange != compress::Exchange::allreduce)
      exchange.fail(fmt::format("found '{}'; codec '{}' sums in flight: expected 'allreduce'",
                                compress::exchange_names()[static_cast<std::size_t>(c.exchange)], name));
    if (!summable && c.exchange == compress::Exchange::allreduce)
      exchange.fail(fmt::format("codec '{}' cannot be summed in flight; expected 'allgather' (gather every payload) or "
                                "'ring' (decode, add and re-encode at each hop)",
                                name));
  }
  c.separate_stream = comp->choice_or("stream", {"compute", "separate"}, 0) == 1;
  if (c.codec == Codec::none)
    return c;
  const JsonNode codec = comp->child("codec");
  if (t.architecture == ArchitectureKind::gossip)
    codec.fail("compressed gossip is not modelled; expected architecture 'allreduce' or 'ps'");
  if (t.sync == SyncScheme::ssp || t.sync == SyncScheme::asp)
    codec.fail(
        fmt::format("compression with scheme '{}' is not modelled; expected 'bsp' or 'local_sgd'", to_string(t.sync)));
  if (t.policy == SchedulingPolicy::priority)
    codec.fail("compression with policy 'priority' is not modelled (slices of compressed buckets); expected 'none', "
               "'wfbp' or 'fusion'");
  if (t.policy == SchedulingPolicy::mg_wfbp)
    codec.fail("compression with policy 'mg_wfbp' is not modelled (its merge is decided on uncompressed volumes); "
               "expected 'none', 'wfbp' or 'fusion'");
  if (c.codec == Codec::powersgd && t.architecture != ArchitectureKind::allreduce)
    codec.fail("powersgd all-reduces its P and Q matrices; expected architecture 'allreduce'");
  return c;
}

/// What pipeline and tensor parallelism are modelled with: all-reduce of each stage's gradients
/// over its data-parallel group, every iteration, in buckets released during the last
/// micro-batch's backward.
void check_model_parallel_support(const JsonNode& w, const TrainingConfig& t, int gpus_per_node)
{
  const std::string what = t.pipeline_parallel > 1
                               ? fmt::format("pipeline parallelism (pipeline {})", t.pipeline_parallel)
                           : t.tensor_parallel > 1 ? fmt::format("tensor parallelism (tensor {})", t.tensor_parallel)
                           : t.expert_parallel > 1 ? fmt::format("expert parallelism (expert {})", t.expert_parallel)
                                                   : fmt::format("ZeRO stage {}", t.zero_stage);
  if (t.architecture != ArchitectureKind::allreduce)
    w.child("architecture")
        .child("kind")
        .fail(fmt::format("{} is modelled with architecture 'allreduce'; found '{}'", what, to_string(t.architecture)));
  if (t.sync != SyncScheme::bsp)
    w.child("sync").child("scheme").fail(
        fmt::format("{} is modelled with scheme 'bsp'; found '{}'", what, to_string(t.sync)));
  if (t.policy == SchedulingPolicy::mg_wfbp || t.policy == SchedulingPolicy::priority)
    w.child("scheduling")
        .child("policy")
        .fail(fmt::format("{} is modelled with policy 'none', 'wfbp' or 'fusion'; found '{}'", what,
                          to_string(t.policy)));
  if (t.compression.codec != compress::Codec::none)
    w.child("compression")
        .child("codec")
        .fail(fmt::format("{} is modelled without compression; found codec '{}'", what,
                          compress::to_string(t.compression.codec)));
  if (t.zero_stage > 0 && t.algorithm != coll::Algorithm::ring && t.algorithm != coll::Algorithm::auto_)
    w.child("architecture")
        .child("algorithm")
        .fail(fmt::format("ZeRO stage {} reduce-scatters and all-gathers with rings; found '{}'; expected 'ring' or "
                          "'auto'",
                          t.zero_stage, coll::to_string(t.algorithm)));
  const int group_per_node = std::min(gpus_per_node / t.tensor_parallel, t.data_parallel);
  if (t.channels > group_per_node)
    w.child("architecture")
        .child("channels")
        .fail(fmt::format("found {}; each data-parallel group has {} GPUs in a node; expected at most {}", t.channels,
                          group_per_node, group_per_node));
}

TrainingConfig parse_training(const JsonNode& w, int gpus, int gpus_per_node)
{
  w.allow_keys({"kind", "batch_per_gpu", "precision", "iterations", "parallelism", "compute", "sync", "architecture",
                "scheduling", "compression", "fidelity", "recompute", "failures"});
  TrainingConfig t{};
  t.batch_per_gpu = w.int_value("batch_per_gpu", 1);
  t.precision = static_cast<Precision>(w.choice_or("precision", PRECISION_NAMES, 0));
  t.iterations = w.int_or("iterations", 3, 1);
  t.data_parallel = gpus;
  t.tensor_parallel = t.pipeline_parallel = 1;
  if (auto par = w.optional_child("parallelism")) {
    par->allow_keys({"data", "tensor", "pipeline", "microbatches", "schedule", "tensor_comm", "sequence", "zero",
                     "expert", "expert_comm", "expert_zipf"});
    t.data_parallel = par->int_or("data", gpus, 1);
    t.tensor_parallel = par->int_or("tensor", 1, 1);
    t.pipeline_parallel = par->int_or("pipeline", 1, 1);
    const long long product = 1LL * t.data_parallel * t.tensor_parallel * t.pipeline_parallel;
    if (product != gpus)
      par->fail(fmt::format("data {} x tensor {} x pipeline {} = {} GPUs, but the cluster has {} GPUs", t.data_parallel,
                            t.tensor_parallel, t.pipeline_parallel, product, gpus));
    if (t.tensor_parallel > 1 && gpus_per_node % t.tensor_parallel != 0)
      par->child("tensor").fail(fmt::format(
          "found {}; a tensor-parallel group runs inside one node (its all-reduces, several per layer, need the "
          "node's links); expected a divisor of gpus_per_node ({})",
          t.tensor_parallel, gpus_per_node));
    t.zero_stage = par->int_or("zero", 0, 0);
    if (t.zero_stage > 3)
      par->child("zero").fail(fmt::format("found {}; expected a ZeRO stage: 0, 1, 2 or 3", t.zero_stage));
    if (t.zero_stage == 3 && t.pipeline_parallel > 1)
      par->child("zero").fail(fmt::format(
          "found 3 with pipeline {}; ZeRO stage 3 (FSDP) with pipeline stages is not modelled (each stage would "
          "gather its parameters for every micro-batch); expected pipeline 1, or ZeRO stage 0, 1 or 2",
          t.pipeline_parallel));
    t.expert_parallel = par->int_or("expert", 1, 1);
    if (t.expert_parallel > 1) {
      const JsonNode e = par->child("expert");
      const int ep = t.expert_parallel;
      if (t.data_parallel % ep != 0)
        e.fail(fmt::format("found {}; an expert-parallel group is {} of the {} data-parallel replicas; expected a "
                           "divisor of data ({})",
                           ep, ep, t.data_parallel, t.data_parallel));
      if (ep % gpus_per_node != 0 && gpus_per_node % ep != 0)
        e.fail(fmt::format("found {}; an expert-parallel group runs on {} consecutive GPUs, which must fill whole "
                           "nodes or divide one; expected a multiple or a divisor of gpus_per_node ({})",
                           ep, ep, gpus_per_node));
      if (t.tensor_parallel > 1)
        e.fail(fmt::format("found {} with tensor {}; expert parallelism with tensor parallelism is not modelled; "
                           "expected tensor 1, or expert 1 (with tensor parallelism alone every GPU holds 1/t of "
                           "every expert)",
                           ep, t.tensor_parallel));
      if (t.zero_stage == 3)
        e.fail(fmt::format("found {} with ZeRO stage 3; ZeRO stage 3 with expert parallelism is not modelled; "
                           "expected zero 0, 1 or 2",
                           ep));
      t.expert_comm = static_cast<TensorComm>(par->choice_or("expert_comm", {"simulate", "alpha_beta"}, 0));
      t.expert_zipf = par->number_or("expert_zipf", 0, Bound::non_negative);
    } else {
      for (const char* key : {"expert_comm", "expert_zipf"})
        if (par->has(key))
          par->child(key).fail(fmt::format("'{}' applies to expert parallelism; expected 'expert' above 1", key));
    }
    if (t.tensor_parallel > 1) {
      t.tensor_comm = static_cast<TensorComm>(par->choice_or("tensor_comm", {"simulate", "alpha_beta"}, 0));
      t.sequence_parallel = par->boolean_or("sequence", false);
    } else {
      for (const char* key : {"tensor_comm", "sequence"})
        if (par->has(key))
          par->child(key).fail(fmt::format("'{}' applies to tensor parallelism; expected 'tensor' above 1", key));
    }
    if (t.pipeline_parallel == 1) {
      if (par->has("schedule"))
        par->child("schedule").fail("'schedule' applies to pipeline parallelism; expected 'pipeline' above 1");
      if (const long long m = par->integer_or("microbatches", 1, 1); m != 1)
        par->child("microbatches")
            .fail(fmt::format("found {}; without pipeline stages (pipeline 1) a replica runs its batch as one "
                              "micro-batch (gradient accumulation is not modelled); expected 1",
                              m));
    } else {
      if (!par->has("microbatches"))
        par->fail(fmt::format("pipeline {} needs 'microbatches' (micro-batches of batch_per_gpu samples that each "
                              "data-parallel replica runs through its stages per iteration; expected a whole number, "
                              "typically a few times the stages)",
                              t.pipeline_parallel));
      t.microbatches = par->int_value("microbatches", 1);
      t.pipeline_schedule = static_cast<PipelineSchedule>(par->choice_or("schedule", {"1f1b", "gpipe"}, 0));
    }
    // GPU (s d + i) t + k runs tensor rank k of stage s of replica i (Megatron-LM's order: tensor,
    // data, then pipeline); each stage's d t GPUs must be whole nodes or part of one.
    const int stage_gpus = t.data_parallel * t.tensor_parallel;
    if (t.model_parallel() > 1 && stage_gpus % gpus_per_node != 0 && gpus_per_node % stage_gpus != 0)
      par->child("data").fail(fmt::format(
          "found {}; each pipeline stage runs on data x tensor = {} consecutive GPUs, which must fill whole nodes "
          "or divide one; expected data x tensor to be a multiple or a divisor of gpus_per_node ({})",
          t.data_parallel, stage_gpus, gpus_per_node));
  }
  t.compute = parse_compute(w, t.batch_per_gpu, t.model_parallel() > 1 ? gpus : t.data_parallel,
                            t.model_parallel() > 1 ? "GPU ranks" : "data-parallel ranks");

  t.architecture = ArchitectureKind::allreduce;
  t.algorithm = coll::Algorithm::ring;
  t.channels = 1;
  t.servers = 0;
  t.placement = PsPlacement::colocated;
  t.server_reduce_bytes_per_s = 0;
  t.graph = GossipGraph::ring;
  std::optional<JsonNode> arch = w.optional_child("architecture");
  if (arch) {
    arch->allow_keys({"kind", "algorithm", "channels", "servers", "placement", "server_reduce", "graph"});
    t.architecture = static_cast<ArchitectureKind>(arch->choice_or("kind", {"allreduce", "ps", "gossip"}, 0));
    const auto only_for = [&](std::initializer_list<std::string_view> keys, ArchitectureKind kind) {
      for (std::string_view key : keys)
        if (t.architecture != kind && arch->has(key))
          arch->child(key).fail(fmt::format("'{}' applies to architecture kind '{}'; this one is '{}'", key,
                                            to_string(kind), to_string(t.architecture)));
    };
    only_for({"algorithm", "channels"}, ArchitectureKind::allreduce);
    only_for({"servers", "placement", "server_reduce"}, ArchitectureKind::ps);
    only_for({"graph"}, ArchitectureKind::gossip);
    if (arch->has("algorithm"))
      t.algorithm = parse_algorithm(arch->child("algorithm"), coll::Op::allreduce);
    t.channels = parse_channels(*arch, gpus_per_node, t.algorithm, coll::Op::allreduce);
    if (t.architecture == ArchitectureKind::ps) {
      t.placement = static_cast<PsPlacement>(arch->choice_or("placement", {"colocated", "dedicated"}, 0));
      const int nodes = gpus / gpus_per_node;
      t.servers = arch->int_or("servers", nodes, 1);  // BytePS: one server per machine
      if (t.placement == PsPlacement::colocated && t.servers > nodes)
        arch->child("servers").fail(
            fmt::format("found {} servers; expected at most {} (co-located servers: one per node of the cluster); use "
                        "\"placement\": \"dedicated\" for servers on CPU hosts of their own",
                        t.servers, nodes));
      t.server_reduce_bytes_per_s = arch->quantity_or("server_reduce", Dimension::bytes_per_s, 0, Bound::positive);
    }
    if (t.architecture == ArchitectureKind::gossip)
      t.graph = static_cast<GossipGraph>(arch->choice_or("graph", {"ring", "torus", "exponential"}, 0));
  }

  t.sync = SyncScheme::bsp;
  t.staleness = 0;
  t.period = 1;
  if (auto sync = w.optional_child("sync")) {
    sync->allow_keys({"scheme", "staleness", "period"});
    t.sync = static_cast<SyncScheme>(sync->child("scheme").as_choice({"bsp", "ssp", "asp", "local_sgd"}));
    if (sync->has("staleness") && t.sync != SyncScheme::ssp)
      sync->child("staleness")
          .fail(fmt::format("'staleness' applies to scheme 'ssp'; this one is '{}'", to_string(t.sync)));
    if (sync->has("period") && t.sync != SyncScheme::local_sgd)
      sync->child("period").fail(
          fmt::format("'period' applies to scheme 'local_sgd'; this one is '{}'", to_string(t.sync)));
    if (t.sync == SyncScheme::ssp)
      t.staleness = sync->int_value("staleness", 0);
    if (t.sync == SyncScheme::local_sgd)
      t.period = sync->int_value("period", 1);
    if ((t.sync == SyncScheme::ssp || t.sync == SyncScheme::asp) && t.architecture != ArchitectureKind::ps)
      sync->child("scheme").fail(
          fmt::format("scheme '{}' needs a parameter server (architecture kind 'ps'); '{}' synchronises every step",
                      to_string(t.sync), to_string(t.architecture)));
    if (t.sync == SyncScheme::local_sgd && t.architecture == ArchitectureKind::gossip)
      sync->child("scheme").fail("scheme 'local_sgd' averages through all-reduce or a parameter server; gossip "
                                 "already exchanges with neighbours every step (use 'bsp')");
  }

  t.policy = SchedulingPolicy::fusion;
  t.bucket_bytes = 25.0 * 1024 * 1024;  // PyTorch DDP's default bucket_cap_mb = 25 (MiB)
  t.cycle_seconds = 0;
  t.partition_bytes = 0;
  t.credit_bytes = 0;
  if (auto sched = w.optional_child("scheduling")) {
    sched->allow_keys({"policy", "bucket", "cycle_time", "partition", "credit"});
    t.policy =
        static_cast<SchedulingPolicy>(sched->choice_or("policy", {"none", "wfbp", "fusion", "mg_wfbp", "priority"}, 2));
    const auto only_for = [&](std::string_view key, SchedulingPolicy policy) {
      if (t.policy != policy && sched->has(key))
        sched->child(key).fail(
            fmt::format("'{}' applies to policy '{}'; this one is '{}'", key, to_string(policy), to_string(t.policy)));
    };
    only_for("bucket", SchedulingPolicy::fusion);
    only_for("cycle_time", SchedulingPolicy::fusion);
    only_for("partition", SchedulingPolicy::priority);
    only_for("credit", SchedulingPolicy::priority);
    t.bucket_bytes = sched->quantity_or("bucket", Dimension::bytes, t.bucket_bytes, Bound::non_negative);
    t.cycle_seconds = sched->quantity_or("cycle_time", Dimension::seconds, 0, Bound::non_negative);
    if (t.policy == SchedulingPolicy::priority) {
      // ByteScheduler tunes both; 4 MiB slices and 4 in flight are a middle of its search range.
      t.partition_bytes = sched->quantity_or("partition", Dimension::bytes, 4.0 * 1024 * 1024, Bound::positive);
      t.credit_bytes = sched->quantity_or("credit", Dimension::bytes, 4 * t.partition_bytes, Bound::positive);
      if (t.credit_bytes < t.partition_bytes)
        sched->child("credit").fail(fmt::format("found {:g} bytes; expected at least the partition size ({:g} bytes)",
                                                t.credit_bytes, t.partition_bytes));
    }
    if (t.policy == SchedulingPolicy::mg_wfbp && t.architecture != ArchitectureKind::allreduce)
      sched->child("policy").fail(
          fmt::format("policy 'mg_wfbp' merges all-reduces; architecture '{}' has none", to_string(t.architecture)));
    if (t.policy == SchedulingPolicy::priority && t.architecture == ArchitectureKind::gossip)
      sched->child("policy").fail("policy 'priority' schedules all-reduce or parameter-server traffic, not gossip");
  }
  if (t.policy != SchedulingPolicy::fusion)
    t.bucket_bytes = 0;
  t.compression = parse_compression(w, t);
  t.fidelity = parse_fidelity(w);
  t.recompute = static_cast<Recompute>(w.choice_or("recompute", {"none", "selective", "full"}, 0));
  if (auto f = w.optional_child("failures")) {
    f->allow_keys({"mtbf", "restart", "checkpoint_time", "checkpoint_bandwidth", "interval"});
    FailureConfig& c = t.failures;
    c.enabled = true;
    c.gpu_mtbf_seconds = f->quantity("mtbf", Dimension::seconds, Bound::positive);
    c.restart_seconds = f->quantity("restart", Dimension::seconds, Bound::non_negative);
    if (f->has("checkpoint_time") == f->has("checkpoint_bandwidth"))
      f->fail("expected exactly one of 'checkpoint_time' (how long writing a checkpoint takes) and "
              "'checkpoint_bandwidth' (the storage's aggregate write rate for weights and optimizer states)");
    if (f->has("checkpoint_time"))
      c.checkpoint_seconds = f->quantity("checkpoint_time", Dimension::seconds, Bound::positive);
    else
      c.checkpoint_bytes_per_s = f->quantity("checkpoint_bandwidth", Dimension::bytes_per_s, Bound::positive);
    c.interval_seconds = f->quantity_or("interval", Dimension::seconds, 0, Bound::positive);
  }
  if (t.staged())
    check_model_parallel_support(w, t, gpus_per_node);
  return t;
}

/// alltoall's `weights` (a gpus x gpus matrix) or `zipf` (an exponent): an all-to-allv.
void parse_alltoallv(const JsonNode& w, int gpus, CollectiveConfig& c)
{
  if (c.op != coll::Op::alltoall) {
    for (const char* key : {"weights", "zipf"})
      if (w.has(key))
        w.child(key).fail(fmt::format("'{}' applies to op 'alltoall' (an all-to-allv); this one is '{}'", key,
                                      coll::to_string(c.op)));
    return;
  }
  if (w.has("weights") && w.has("zipf"))
    w.fail("give an all-to-allv's weights once: 'weights' (a matrix) or 'zipf' (an exponent), not both");
  if (w.has("zipf"))
    c.alltoall_zipf = w.number_or("zipf", 0, Bound::non_negative);
  if (!w.has("weights"))
    return;
  const JsonNode m = w.child("weights");
  if (m.array_size() != std::size_t(gpus))
    m.fail(
        fmt::format("found {} rows; expected {} (one per GPU rank: what it sends to each rank)", m.array_size(), gpus));
  double total = 0;
  for (int r = 0; r < gpus; ++r) {
    const JsonNode row = m.element(std::size_t(r));
    if (row.array_size() != std::size_t(gpus))
      row.fail(fmt::format("found {} numbers; expected {} (one per destination rank)", row.array_size(), gpus));
    for (int d = 0; d < gpus; ++d) {
      c.alltoall_weights.push_back(row.element(std::size_t(d)).as_number(Bound::non_negative));
      total += c.alltoall_weights.back();
    }
  }
  if (!(total > 0))
    m.fail("all weights are zero; expected some rank to send something");
}

CollectiveConfig parse_collective(const JsonNode& w, int gpus, int gpus_per_node)
{
  w.allow_keys({"kind", "op", "algorithm", "channels", "sizes", "precision", "fidelity", "servers", "placement",
                "server_reduce", "weights", "zipf"});
  CollectiveConfig c{};
  c.op = static_cast<coll::Op>(w.child("op").as_choice(coll::op_names()));
  c.algorithm = w.has("algorithm") ? parse_algorithm(w.child("algorithm"), c.op) : coll::algorithms_for(c.op).front();
  c.channels = parse_channels(w, gpus_per_node, c.algorithm, c.op);
  c.sizes_bytes = parse_sizes(w.child("sizes"));
  c.precision = static_cast<Precision>(w.choice_or("precision", COLLECTIVE_PRECISION_NAMES, 0));
  c.fidelity = parse_fidelity(w);
  parse_alltoallv(w, gpus, c);
  c.placement = PsPlacement::colocated;
  c.servers = 0;
  c.server_reduce_bytes_per_s = 0;
  if (c.algorithm != coll::Algorithm::ps) {
    for (const char* key : {"servers", "placement", "server_reduce"})
      if (w.has(key))
        w.child(key).fail(
            fmt::format("'{}' applies to algorithm 'ps'; this one is '{}'", key, coll::to_string(c.algorithm)));
    return c;
  }
  c.placement = static_cast<PsPlacement>(w.choice_or("placement", {"colocated", "dedicated"}, 0));
  if (c.placement == PsPlacement::colocated) {
    // Co-located servers sit with ranks j p / servers; by default every rank is one.
    c.servers = w.int_or("servers", gpus, 1);
    if (c.servers > gpus)
      w.child("servers").fail(fmt::format("found {} servers; expected at most {} (co-located servers: one per GPU "
                                          "at most); use \"placement\": \"dedicated\" for CPU hosts of their own",
                                          c.servers, gpus));
    if (w.has("server_reduce"))
      w.child("server_reduce")
          .fail("'server_reduce' applies to dedicated servers; co-located ones sum at the GPU's memory bandwidth");
  } else {
    c.servers = w.int_or("servers", gpus / gpus_per_node, 1);  // BytePS: one per machine
    c.server_reduce_bytes_per_s = w.quantity_or("server_reduce", Dimension::bytes_per_s, 0, Bound::positive);
  }
  return c;
}

}  // namespace

/// `model`: a zoo name, {"name", "sequence"}, or a custom model {"name", "layers": [...]}.
void parse_model(const JsonNode& model, Scenario& s)
{
  if (model.is_object() && model.has("transformer")) {
    model.allow_keys({"name", "transformer"});
    const JsonNode t = model.child("transformer");
    t.allow_keys({"layers",        "hidden",        "heads",       "ffn",           "vocabulary",
                  "sequence",      "max_positions", "token_types", "pre_layernorm", "pooler",
                  "lm_head",       "experts",       "top_k",       "moe_every",     "capacity_factor",
                  "kv_heads",      "gated_ffn",     "bias",        "rms_norm",      "learned_positions",
                  "tie_embeddings"});
    model::TransformerConfig c;
    c.name = s.model = model.string("name");
    c.layers = t.int_value("layers", 1);
    c.hidden = t.int_value("hidden", 1);
    c.heads = t.int_value("heads", 1);
    if (!t.has("ffn") && 4LL * c.hidden > std::numeric_limits<int>::max())
      t.child("hidden").fail(fmt::format("found {}; expected at most {} without 'ffn' (whose default is 4 x hidden)",
                                         c.hidden, std::numeric_limits<int>::max() / 4));
    c.ffn = t.int_or("ffn", 4 * c.hidden, 1);
    c.vocabulary = t.int_value("vocabulary", 1);
    c.sequence = t.int_value("sequence", 1);
    c.max_positions = t.int_or("max_positions", c.sequence, 1);
    c.token_types = t.int_or("token_types", 0, 0);
    c.pre_layernorm = t.boolean_or("pre_layernorm", true);
    c.pooler = t.boolean_or("pooler", false);
    c.lm_head = t.boolean_or("lm_head", true);
    c.kv_heads = t.int_or("kv_heads", c.heads, 1);
    if (c.kv_heads > c.heads || c.heads % c.kv_heads != 0)
      t.child("kv_heads")
          .fail(fmt::format("found {}; key and value heads are shared by groups of query heads; "
                            "expected a divisor of heads ({})",
                            c.kv_heads, c.heads));
    c.gated_ffn = t.boolean_or("gated_ffn", false);
    c.bias = t.boolean_or("bias", true);
    c.rms_norm = t.boolean_or("rms_norm", false);
    c.learned_positions = t.boolean_or("learned_positions", true);
    c.tie_embeddings = t.boolean_or("tie_embeddings", true);
    if (!c.lm_head && t.has("tie_embeddings"))
      t.child("tie_embeddings").fail("'tie_embeddings' applies to an LM head; expected 'lm_head' true");
    c.experts = t.int_or("experts", 0, 0);
    if (c.experts == 0) {
      for (const char* key : {"top_k", "moe_every", "capacity_factor"})
        if (t.has(key))
          t.child(key).fail(fmt::format("'{}' applies to a mixture of experts; expected 'experts' above 0", key));
    } else {
      c.top_k = t.int_or("top_k", 2, 1);
      if (c.top_k > c.experts)
        t.child("top_k").fail(fmt::format("found {}; a token goes to at most all {} experts; expected 1 to {}", c.top_k,
                                          c.experts, c.experts));
      c.moe_every = t.int_or("moe_every", 1, 1);
      if (c.moe_every > c.layers)
        t.child("moe_every")
            .fail(fmt::format("found {}; no block of the {} would have experts; expected 1 to {}", c.moe_every,
                              c.layers, c.layers));
      c.capacity_factor = t.number_or("capacity_factor", 1, Bound::positive);
      if (c.capacity_factor < 1)
        t.child("capacity_factor")
            .fail(fmt::format("found {}; expected at least 1 (below it tokens are dropped, which is not modelled)",
                              c.capacity_factor));
    }
    try {
      model::make_transformer(c);
    } catch (const std::invalid_argument& e) {
      t.fail(e.what());
    }
    s.sequence = c.sequence;
    s.transformer = c;
    return;
  }
  if (model.is_object() && model.has("layers")) {
    model.allow_keys({"name", "layers"});
    s.model = model.string("name");
    s.sequence = 0;
    const JsonNode layers = model.child("layers");
    if (layers.array_size() == 0)
      layers.fail("expected at least one layer");
    std::set<std::string> names;
    for (std::size_t i = 0; i < layers.array_size(); ++i) {
      const JsonNode l = layers.element(i);
      l.allow_keys({"name", "kind", "params", "forward_flops", "activations", "tensors"});
      model::Layer layer;
      layer.name = l.string("name");
      if (!names.insert(layer.name).second)
        l.child("name").fail(fmt::format("layer name '{}' is used twice; expected unique names", layer.name));
      layer.kind = static_cast<model::LayerKind>(l.choice_or("kind", model::layer_kind_names(), 6));
      layer.params = l.integer("params", 0);
      layer.forward_flops_per_sample = l.child("forward_flops").as_number(Bound::non_negative);
      layer.activation_elements_per_sample = l.number_or("activations", 0, Bound::non_negative);
      if (auto tensors = l.optional_child("tensors")) {
        std::int64_t sum = 0;
        for (std::size_t k = 0; k < tensors->array_size(); ++k) {
          const JsonNode shape = tensors->element(k);
          if (shape.array_size() != 2)
            shape.fail("expected [rows, cols] (a vector is [elements, 1])");
          const model::Tensor t{shape.element(0).as_integer(1), shape.element(1).as_integer(1)};
          layer.tensors.push_back(t);
          sum += t.elements();
        }
        if (sum != layer.params)
          tensors->fail(
              fmt::format("the tensors hold {} elements; expected the layer's params, {}", sum, layer.params));
      }
      s.custom_layers.push_back(std::move(layer));
    }
    double flops = 0;
    for (const model::Layer& l : s.custom_layers)
      flops += l.forward_flops_per_sample;
    if (flops <= 0)
      layers.fail("every layer has forward_flops 0; expected some compute (FLOPs per sample, a multiply-add is 2)");
    return;
  }
  const JsonNode name = model.is_object() ? model.child("name") : model;
  if (model.is_object())
    model.allow_keys({"name", "sequence", "layers", "transformer"});  // the last two: the custom forms above
  s.model = name.as_string();
  const std::vector<std::string> models = model::model_names();
  if (std::find(models.begin(), models.end(), s.model) == models.end())
    name.fail(fmt::format("unknown model '{}'; expected one of: {} (or a custom model with 'layers')", s.model,
                          join_names(models)));
  s.sequence = model::default_sequence(s.model);
  if (model.is_object() && model.has("sequence")) {
    if (s.sequence == 0)
      model.child("sequence").fail(fmt::format("model '{}' has no sequence length; remove 'sequence'", s.model));
    s.sequence = model.int_value("sequence", 1);
    try {
      model::find_model(s.model, s.sequence);
    } catch (const std::invalid_argument& e) {
      model.child("sequence").fail(e.what());
    }
  }
}

/// `gpu` of a training scenario: a profile name or file, or an object of a placeholder peak and
/// efficiency, optionally with a profile that supplies what is not given.
void parse_training_gpu(const JsonNode& gpu, bool measured, Scenario& s)
{
  std::optional<JsonNode> reference;
  if (gpu.is_string()) {
    reference = gpu;
  } else if (gpu.is_object()) {
    gpu.allow_keys({"peak", "efficiency", "memory_bandwidth", "profile", "fusion", "attention"});
    reference = gpu.optional_child("profile");
  } else {
    gpu.fail(fmt::format("found {}; expected a GPU profile name, or an object such as {{\"profile\": \"v100-sxm2\"}} "
                         "or {{\"peak\": \"15.7TFLOPS\", \"efficiency\": 0.5}}",
                         describe_json(gpu.raw())));
  }
  if (reference) {
    const std::string ref = reference->as_string();
    const std::string path = resolve_profile(ref, s.file);
    if (path.empty())
      reference->fail(
          fmt::format("found '{}'; expected a shipped GPU profile ({}) or a path to a profile ending in .json", ref,
                      join_names(shipped_profiles())));
    if (!std::filesystem::exists(path))
      reference->fail(fmt::format("profile file {} does not exist", path));
    s.profile = std::make_shared<const GpuProfile>(load_profile(path));
  }
  const GpuProfile* p = s.profile.get();
  const auto has = [&](std::string_view key) {
    return gpu.is_object() && gpu.has(key);
  };
  const char* dtype = to_string(s.training.precision);
  s.gpu.roofline = p && !has("peak") && !has("efficiency");
  if (has("fusion")) {
    const JsonNode node = gpu.child("fusion");
    s.gpu.fusion = static_cast<calib::Fusion>(node.as_choice(calib::fusion_names()));
    if (!s.gpu.roofline)
      node.fail("fusion shapes the roofline of a GPU profile; expected 'profile' without 'peak' or 'efficiency'");
  }
  // Flash attention keeps less for backward under any compute model; the roofline also costs its
  // kernels (calib::layer_roofline).
  if (has("attention"))
    s.gpu.flash_attention = gpu.child("attention").as_choice(calib::attention_names()) == 1;
  if (p && !measured)
    if (const MeasuredIteration* it = p->iteration(s.model, s.training.batch_per_gpu, dtype)) {
      s.training.compute.iteration_seconds = it->seconds;
      s.training.compute.iteration_source = fmt::format("profile {}: {}", p->name, it->source);
    }
  if (has("peak")) {
    s.gpu.peak_flops_per_s = gpu.quantity("peak", Dimension::flops_per_s, Bound::positive);
  } else if (p && p->peak(dtype) > 0) {
    s.gpu.peak_flops_per_s = p->peak(dtype);
  } else if (p) {
    gpu.fail(fmt::format("profile {} has no {} peak; expected 'peak' here", p->file, dtype));
  } else {
    gpu.child("peak");  // throws: required
  }
  if (has("efficiency")) {
    s.gpu.efficiency = gpu.child("efficiency").as_number(Bound::positive);
    if (s.gpu.efficiency > 1)
      gpu.child("efficiency").fail(fmt::format("found {}; expected a fraction in (0, 1]", s.gpu.efficiency));
  } else if (p) {
    s.gpu.efficiency = p->gemm_efficiency;
  } else if (measured) {
    s.gpu.efficiency = 1;
  } else {
    gpu.child("efficiency");  // throws: required
  }
  s.gpu.memory_bandwidth_bytes_per_s = has("memory_bandwidth")
                                           ? gpu.quantity("memory_bandwidth", Dimension::bytes_per_s, Bound::positive)
                                       : p ? p->reduction_bandwidth()
                                           : 0;
}

Scenario parse_scenario(const nlohmann::json& document, const std::string& file)
{
  const JsonNode root(document, file, "");
  if (root.is_object() && root.has("sweep"))
    root.child("sweep").fail("this is a sweep file: run it with 'ddlsim sweep', or remove 'sweep' to run one scenario");
  root.allow_keys({"schema", "name", "seed", "model", "gpu", "cluster", "workload", "output"});
  Scenario s{};
  s.file = file;
  s.schema = root.int_value("schema", 1);
  if (s.schema != 1)
    root.child("schema").fail(fmt::format("found {}; expected 1 (the only schema this ddlsim reads)", s.schema));
  s.name = root.has("name") ? root.string("name") : std::filesystem::path(file).stem().string();
  if (s.name.empty() || s.name.find_first_of("/\\") != std::string::npos)
    root.child("name").fail("expected a non-empty name without slashes (it names the output folder)");
  s.seed = static_cast<std::uint64_t>(root.integer_or("seed", 1, 0));
  s.cluster = parse_cluster(root.child("cluster"));
  // Building the cluster checks what validate() cannot: a custom network's names and paths (it is
  // small), failed links (each name, and that every pair of leaves stays connected), and that
  // each slow link names a link (built without them, to say which entry is wrong).
  const ClusterConfig& cc = s.cluster;
  const JsonNode cluster = root.child("cluster");
  std::optional<topo::Topology> built;
  try {
    topo::ClusterParams params = cluster_params(cc, s.seed);
    params.slow_links.clear();
    topo::validate(params);
    if (cc.network.topology == topo::NetworkKind::custom || !cc.network.failed_links.empty() || !cc.slow_links.empty())
      built = topo::make_cluster(params);
  } catch (const topo::FailedLinksError& e) {
    cluster.child("network").child("failed_links").fail(e.detail());
  } catch (const std::invalid_argument& e) {
    cluster.child("network").fail(e.what());
  }
  if (!cc.slow_links.empty()) {
    std::unordered_set<std::string> names;
    for (std::uint32_t id = 0; id < built->link_count(); ++id)
      names.insert(built->link(id).name);
    for (std::size_t i = 0; i < cc.slow_links.size(); ++i)
      if (!names.count(cc.slow_links[i].first))
        cluster.child("slow_links")
            .element(i)
            .child("link")
            .fail(fmt::format("found '{}'; expected the name of a link of this cluster, as the 'link' column of "
                              "links.csv gives it (e.g. '{}')",
                              cc.slow_links[i].first, built->link(built->link_count() - 1).name));
  }

  const JsonNode w = root.child("workload");
  const auto kind = w.child("kind").as_choice({"training", "collective"});
  s.kind = static_cast<WorkloadKind>(kind);
  if (s.kind == WorkloadKind::training) {
    s.training = parse_training(w, s.cluster.gpus(), s.cluster.gpus_per_node);
    const JsonNode model = root.child("model");
    parse_model(model, s);
    if (s.training.tensor_parallel > 1) {
      try {
        model::tensor_shard(scenario_model(s), s.training.tensor_parallel, s.training.sequence_parallel);
      } catch (const std::invalid_argument& e) {
        w.child("parallelism").child("tensor").fail(fmt::format("{}; expected 1", e.what()));
      }
    }
    if (s.training.expert_parallel > 1) {
      const model::Model m = scenario_model(s);
      try {
        model::expert_shard(m, s.training.expert_parallel);
      } catch (const std::invalid_argument& e) {
        const int most = model::max_experts(m);
        w.child("parallelism")
            .child("expert")
            .fail(fmt::format("{}; expected {}", e.what(),
                              most == 0 ? std::string("1") : fmt::format("1 or a divisor of {}", most)));
      }
    }
    if (s.training.pipeline_parallel > 1) {
      const std::size_t blocks = scenario_model(s).block_starts().size();
      if (blocks < static_cast<std::size_t>(s.training.pipeline_parallel))
        w.child("parallelism")
            .child("pipeline")
            .fail(fmt::format("found {} stages, but model '{}' can be cut into at most {} (stages end between "
                              "blocks: residual blocks, transformer blocks, Inception modules); expected at most {}",
                              s.training.pipeline_parallel, s.model, blocks, blocks));
    }
    const bool measured = s.training.compute.iteration_seconds > 0;
    if (measured && !root.has("gpu")) {
      // Only the split of the measured time between layers matters: any rate gives the same.
      s.gpu.peak_flops_per_s = 1e15;
      s.gpu.efficiency = 1;
    } else {
      parse_training_gpu(root.child("gpu"), measured, s);
    }
    const compress::CodecConfig& codec = s.training.compression;
    if (codec.codec != compress::Codec::none) {
      const JsonNode node = w.child("compression").child("codec");
      if (!s.profile)
        node.fail(fmt::format("codec '{}' takes its encode and decode times from a GPU profile; expected \"gpu\": "
                              "{{\"profile\": NAME}} with a shipped profile ({}) or a profile file",
                              compress::to_string(codec.codec), join_names(shipped_profiles())));
      for (const char* needed :
           {compress::profile_entry(codec.codec), codec.error_feedback ? "error_feedback" : nullptr})
        if (needed && !s.profile->codec(needed))
          node.fail(fmt::format("GPU profile {} has no costs for '{}'; expected a profile with a 'codecs.{}' entry",
                                s.profile->file, needed, needed));
    }
    if (s.training.architecture == ArchitectureKind::ps && s.training.placement == PsPlacement::dedicated &&
        s.cluster.network.topology != topo::NetworkKind::star)
      w.child("architecture")
          .child("placement")
          .fail(fmt::format("dedicated parameter servers attach to a star network; this cluster's network is a {} (use "
                            "\"colocated\")",
                            topo::to_string(s.cluster.network.topology)));
  } else {
    s.collective = parse_collective(w, s.cluster.gpus(), s.cluster.gpus_per_node);
    if (s.collective.algorithm == coll::Algorithm::ps && s.collective.placement == PsPlacement::dedicated &&
        s.cluster.network.topology != topo::NetworkKind::star)
      w.child("placement")
          .fail(fmt::format("dedicated parameter servers attach to a star network; this cluster's network is a {} (use "
                            "\"colocated\")",
                            topo::to_string(s.cluster.network.topology)));
    if (root.has("model"))
      root.child("model").fail("a collective workload has no model; remove 'model'");
    if (auto gpu = root.optional_child("gpu")) {
      gpu->allow_keys({"memory_bandwidth"});
      s.gpu.memory_bandwidth_bytes_per_s = gpu->quantity("memory_bandwidth", Dimension::bytes_per_s, Bound::positive);
    }
  }

  const coll::Algorithm algorithm = s.kind == WorkloadKind::training ? s.training.algorithm : s.collective.algorithm;
  const bool summing_algorithm = algorithm == coll::Algorithm::in_network || algorithm == coll::Algorithm::collnet;
  if (summing_algorithm && !(s.cluster.network.switch_reduce_bytes_per_s > 0)) {
    const JsonNode w = root.child("workload");
    (s.kind == WorkloadKind::training ? w.child("architecture").child("algorithm") : w.child("algorithm"))
        .fail(fmt::format("{} needs switches that reduce: a star, fat_tree or rail_optimized network with "
                          "'switch_reduction' (their summing rate)",
                          coll::to_string(algorithm)));
  }
  s.output = {"out/" + s.name, false, {}};
  if (auto out = root.optional_child("output")) {
    out->allow_keys({"dir", "trace", "trace_ranks"});
    if (out->has("dir"))
      s.output.dir = out->string("dir");
    s.output.trace = out->boolean_or("trace", false);
    if (auto ranks = out->optional_child("trace_ranks")) {
      const std::size_t n = ranks->array_size();
      if (n == 0)
        ranks->fail("found an empty list; expected the GPU ranks to trace, e.g. [0, 1, 8]");
      for (std::size_t i = 0; i < n; ++i) {
        const long long r = ranks->element(i).as_integer(0);
        if (r >= s.cluster.gpus())
          ranks->element(i).fail(fmt::format("found rank {}; the cluster has ranks 0 to {}", r, s.cluster.gpus() - 1));
        s.output.trace_ranks.push_back(static_cast<std::uint32_t>(r));
      }
      std::sort(s.output.trace_ranks.begin(), s.output.trace_ranks.end());
      s.output.trace_ranks.erase(std::unique(s.output.trace_ranks.begin(), s.output.trace_ranks.end()),
                                 s.output.trace_ranks.end());
    }
  }
  if (s.output.trace_ranks.empty())
    for (int r = 0; r < std::min(s.cluster.gpus(), 64); ++r)
      s.output.trace_ranks.push_back(static_cast<std::uint32_t>(r));
  return s;
}

Scenario load_scenario(const std::string& path)
{
  return parse_scenario(read_json_file(path), path);
}

namespace {
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
}  // namespace

namespace {

nlohmann::json compression_json(const compress::CodecConfig& c, ArchitectureKind architecture)
{
  using compress::Codec;
  nlohmann::json j = {{"codec", compress::to_string(c.codec)}};
  if (c.codec == Codec::none)
    return j;
  if (compress::sparsifier(c.codec))
    j["ratio"] = c.ratio;
  if (c.codec == Codec::qsgd) {
    j["levels"] = c.levels;
    j["elias"] = c.elias;
  }
  if (c.codec == Codec::powersgd)
    j["rank"] = c.rank;
  else
    j["granularity"] = c.granularity == compress::Granularity::tensor ? "tensor" : "bucket";
  if (compress::error_feedback_applies(c.codec))
    j["error_feedback"] = c.error_feedback;
  j["stream"] = c.separate_stream ? "separate" : "compute";
  if (architecture == ArchitectureKind::allreduce)
    j["exchange"] = compress::exchange_names()[static_cast<std::size_t>(c.exchange)];
  return j;
}

}  // namespace

nlohmann::json slow_links_json(const ClusterConfig& c)
{
  nlohmann::json slow = nlohmann::json::array();
  for (const auto& [name, factor] : c.slow_links)
    slow.push_back({{"link", name}, {"bandwidth_factor", factor}});
  return slow;
}

nlohmann::json to_json(const Scenario& s)
{
  using nlohmann::json;
  json cluster = {{"nodes", s.cluster.nodes},
                  {"gpus_per_node", s.cluster.gpus_per_node},
                  {"nics_per_node", s.cluster.nics_per_node},
                  {"network", network_json(s.cluster.network)}};
  if (s.cluster.intra.bandwidth_bytes_per_s > 0) {
    json intra = {{"fabric", topo::to_string(s.cluster.fabric)}};
    if (!s.cluster.intra.preset.empty())
      intra["link"] = s.cluster.intra.preset;
    else
      intra.update(link_json(s.cluster.intra));
    if (s.cluster.fabric == topo::IntraFabric::pcie) {
      intra["gpus_per_pcie_switch"] = s.cluster.gpus_per_pcie_switch;
      intra["uplink"] = link_json(s.cluster.uplink);
    }
    cluster["intra_node"] = intra;
  }
  if (!s.cluster.slow_links.empty())
    cluster["slow_links"] = slow_links_json(s.cluster);
  json doc = {{"schema", s.schema}, {"name", s.name}, {"seed", s.seed}, {"cluster", cluster}};
  if (s.kind == WorkloadKind::training) {
    const TrainingConfig& t = s.training;
    if (s.transformer) {
      const model::TransformerConfig& c = *s.transformer;
      doc["model"] = {{"name", s.model},
                      {"transformer",
                       {{"layers", c.layers},
                        {"hidden", c.hidden},
                        {"heads", c.heads},
                        {"ffn", c.ffn},
                        {"vocabulary", c.vocabulary},
                        {"sequence", c.sequence},
                        {"max_positions", c.max_positions},
                        {"token_types", c.token_types},
                        {"pre_layernorm", c.pre_layernorm},
                        {"pooler", c.pooler},
                        {"lm_head", c.lm_head},
                        {"kv_heads", c.kv_heads > 0 ? c.kv_heads : c.heads},
                        {"gated_ffn", c.gated_ffn},
                        {"bias", c.bias},
                        {"rms_norm", c.rms_norm},
                        {"learned_positions", c.learned_positions}}}};
      if (c.lm_head)
        doc["model"]["transformer"]["tie_embeddings"] = c.tie_embeddings;
      if (c.experts > 0)
        doc["model"]["transformer"].update({{"experts", c.experts},
                                            {"top_k", c.top_k},
                                            {"moe_every", c.moe_every},
                                            {"capacity_factor", c.capacity_factor}});
    } else if (!s.custom_layers.empty()) {
      json layers = json::array();
      for (const model::Layer& l : s.custom_layers) {
        layers.push_back({{"name", l.name},
                          {"kind", model::to_string(l.kind)},
                          {"params", l.params},
                          {"forward_flops", l.forward_flops_per_sample},
                          {"activations", l.activation_elements_per_sample}});
        if (!l.tensors.empty()) {
          json tensors = json::array();
          for (const model::Tensor& t : l.tensors)
            tensors.push_back({t.rows, t.cols});
          layers.back()["tensors"] = tensors;
        }
      }
      doc["model"] = {{"name", s.model}, {"layers", layers}};
    } else if (s.sequence > 0) {
      doc["model"] = {{"name", s.model}, {"sequence", s.sequence}};
    } else {
      doc["model"] = s.model;
    }
    doc["gpu"] = json::object();
    if (!s.gpu.roofline) {
      doc["gpu"]["peak"] = format_quantity(s.gpu.peak_flops_per_s, Dimension::flops_per_s);
      doc["gpu"]["efficiency"] = s.gpu.efficiency;
    }
    if (s.profile)
      doc["gpu"]["profile"] = std::filesystem::absolute(s.profile->file).lexically_normal().string();
    if (s.gpu.roofline)
      doc["gpu"]["fusion"] = calib::to_string(s.gpu.fusion);
    doc["gpu"]["attention"] = calib::attention_names()[s.gpu.flash_attention ? 1 : 0];
    if (s.gpu.memory_bandwidth_bytes_per_s > 0)
      doc["gpu"]["memory_bandwidth"] = format_quantity(s.gpu.memory_bandwidth_bytes_per_s, Dimension::bytes_per_s);
    json scheduling = {{"policy", to_string(t.policy)}};
    if (t.policy == SchedulingPolicy::fusion) {
      scheduling["bucket"] = format_quantity(t.bucket_bytes, Dimension::bytes);
      scheduling["cycle_time"] = format_quantity(t.cycle_seconds, Dimension::seconds);
    }
    if (t.policy == SchedulingPolicy::priority) {
      scheduling["partition"] = format_quantity(t.partition_bytes, Dimension::bytes);
      scheduling["credit"] = format_quantity(t.credit_bytes, Dimension::bytes);
    }
    json compute = {{"jitter", t.compute.jitter}};
    if (t.compute.iteration_seconds > 0)
      compute["iteration_time"] = format_quantity(t.compute.iteration_seconds, Dimension::seconds);
    if (!t.compute.slow_ranks.empty())
      compute["stragglers"] = {{"ranks", t.compute.slow_ranks}, {"slowdown", t.compute.slowdown}};
    json sync = {{"scheme", to_string(t.sync)}};
    if (t.sync == SyncScheme::ssp)
      sync["staleness"] = t.staleness;
    if (t.sync == SyncScheme::local_sgd)
      sync["period"] = t.period;
    json architecture = {{"kind", to_string(t.architecture)}};
    if (t.architecture == ArchitectureKind::allreduce) {
      architecture["algorithm"] = coll::to_string(t.algorithm);
      architecture["channels"] = t.channels;
    } else if (t.architecture == ArchitectureKind::ps) {
      architecture["servers"] = t.servers;
      architecture["placement"] = to_string(t.placement);
      if (t.server_reduce_bytes_per_s > 0)
        architecture["server_reduce"] = format_quantity(t.server_reduce_bytes_per_s, Dimension::bytes_per_s);
    } else {
      architecture["graph"] = to_string(t.graph);
    }
    json parallelism = {{"data", t.data_parallel}, {"tensor", t.tensor_parallel}, {"pipeline", t.pipeline_parallel}};
    if (t.tensor_parallel > 1) {
      parallelism["tensor_comm"] = to_string(t.tensor_comm);
      parallelism["sequence"] = t.sequence_parallel;
    }
    if (t.zero_stage > 0)
      parallelism["zero"] = t.zero_stage;
    if (t.expert_parallel > 1) {
      parallelism["expert"] = t.expert_parallel;
      parallelism["expert_comm"] = to_string(t.expert_comm);
      parallelism["expert_zipf"] = t.expert_zipf;
    }
    if (t.pipeline_parallel > 1) {
      parallelism["microbatches"] = t.microbatches;
      parallelism["schedule"] = to_string(t.pipeline_schedule);
    }
    doc["workload"] = {{"kind", "training"},
                       {"batch_per_gpu", t.batch_per_gpu},
                       {"precision", to_string(t.precision)},
                       {"iterations", t.iterations},
                       {"parallelism", parallelism},
                       {"compute", compute},
                       {"sync", sync},
                       {"architecture", architecture},
                       {"scheduling", scheduling},
                       {"compression", compression_json(t.compression, t.architecture)},
                       {"fidelity", to_string(t.fidelity)},
                       {"recompute", to_string(t.recompute)}};
    if (const FailureConfig& f = t.failures; f.enabled) {
      json failures = {{"mtbf", format_quantity(f.gpu_mtbf_seconds, Dimension::seconds)},
                       {"restart", format_quantity(f.restart_seconds, Dimension::seconds)}};
      if (f.checkpoint_seconds > 0)
        failures["checkpoint_time"] = format_quantity(f.checkpoint_seconds, Dimension::seconds);
      else
        failures["checkpoint_bandwidth"] = format_quantity(f.checkpoint_bytes_per_s, Dimension::bytes_per_s);
      if (f.interval_seconds > 0)
        failures["interval"] = format_quantity(f.interval_seconds, Dimension::seconds);
      doc["workload"]["failures"] = failures;
    }
  } else {
    const CollectiveConfig& c = s.collective;
    json list = json::array();
    for (double b : c.sizes_bytes)
      list.push_back(format_quantity(b, Dimension::bytes));
    doc["workload"] = {{"kind", "collective"},
                       {"op", coll::to_string(c.op)},
                       {"algorithm", coll::to_string(c.algorithm)},
                       {"channels", c.channels},
                       {"sizes", {{"list", list}}},
                       {"precision", to_string(c.precision)},
                       {"fidelity", to_string(c.fidelity)}};
    if (!c.alltoall_weights.empty()) {
      const auto p = static_cast<std::size_t>(s.cluster.gpus());
      json rows = json::array();
      for (std::size_t r = 0; r < p; ++r)
        rows.push_back(std::vector<double>(c.alltoall_weights.begin() + static_cast<std::ptrdiff_t>(r * p),
                                           c.alltoall_weights.begin() + static_cast<std::ptrdiff_t>((r + 1) * p)));
      doc["workload"]["weights"] = rows;
    }
    if (c.alltoall_zipf >= 0)
      doc["workload"]["zipf"] = c.alltoall_zipf;
    if (c.algorithm == coll::Algorithm::ps) {
      doc["workload"]["servers"] = c.servers;
      doc["workload"]["placement"] = to_string(c.placement);
      if (c.server_reduce_bytes_per_s > 0)
        doc["workload"]["server_reduce"] = format_quantity(c.server_reduce_bytes_per_s, Dimension::bytes_per_s);
    }
    if (s.gpu.memory_bandwidth_bytes_per_s > 0)
      doc["gpu"] = {{"memory_bandwidth", format_quantity(s.gpu.memory_bandwidth_bytes_per_s, Dimension::bytes_per_s)}};
  }
  doc["output"] = {{"dir", s.output.dir}, {"trace", s.output.trace}, {"trace_ranks", s.output.trace_ranks}};
  return doc;
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

namespace {

model::Model built_model(const Scenario& s)
{
  if (s.transformer)
    return model::make_transformer(*s.transformer);
  if (!s.custom_layers.empty())
    return model::Model{s.model, s.custom_layers};
  return *model::find_model(s.model, s.sequence);
}

}  // namespace

model::Model scenario_model(const Scenario& s)
{
  model::Model m = built_model(s);
  return s.gpu.flash_attention ? model::flash_attention(m) : m;
}

}  // namespace ddlsim
