// A collective benchmark's workload section, and the choices a training's all-reduce shares with
// it (algorithm, channels, fidelity).
#include "sim/scenario/sections.hpp"

#include "sim/scenario/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ddlsim::scenario {

namespace {

const std::vector<std::string_view> FIDELITY_NAMES{"step", "flow", "auto"};
// Collectives move data, which has no tf32 format.
const std::vector<std::string_view> COLLECTIVE_PRECISION_NAMES{"fp32", "fp16", "bf16"};

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

}  // namespace

Fidelity parse_fidelity(const JsonNode& w)
{
  return static_cast<Fidelity>(w.choice_or("fidelity", FIDELITY_NAMES, std::size_t(Fidelity::auto_)));
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

void parse_collective_scenario(const JsonNode& root, Scenario& s)
{
  const JsonNode w = root.child("workload");
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

nlohmann::json collective_json(const Scenario& s)
{
  using nlohmann::json;
  json doc = json::object();
  const CollectiveConfig& c = s.collective;
  json list = json::array();
  for (double b : c.sizes_bytes)
    list.push_back(format_quantity(b, Dimension::bytes));
  json workload = {{"kind", "collective"},
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
    workload["weights"] = rows;
  }
  if (c.alltoall_zipf >= 0)
    workload["zipf"] = c.alltoall_zipf;
  if (c.algorithm == coll::Algorithm::ps) {
    workload["servers"] = c.servers;
    workload["placement"] = to_string(c.placement);
    if (c.server_reduce_bytes_per_s > 0)
      workload["server_reduce"] = format_quantity(c.server_reduce_bytes_per_s, Dimension::bytes_per_s);
  }
  if (s.gpu.memory_bandwidth_bytes_per_s > 0)
    doc["gpu"] = {{"memory_bandwidth", format_quantity(s.gpu.memory_bandwidth_bytes_per_s, Dimension::bytes_per_s)}};
  doc["workload"] = workload;
  return doc;
}

}  // namespace ddlsim::scenario
