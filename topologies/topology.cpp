#include "topologies/topology.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace ddlsim::topo {

const char* to_string(Tier tier)
{
  switch (tier) {
  case Tier::intra_node: return "intra_node";
  case Tier::nic: return "nic";
  case Tier::leaf_spine: return "leaf_spine";
  case Tier::spine_core: return "spine_core";
  case Tier::torus: return "torus";
  case Tier::local: return "local";
  case Tier::global: return "global";
  case Tier::custom: return "custom";
  }
  return "?";
}

Vertex Topology::add_gpu(const std::string& name)
{
  const Vertex v = boost::add_vertex(VertexProps{VertexKind::gpu, name}, graph_);
  gpus_.push_back(v);
  return v;
}

std::uint32_t Topology::add_aggregator(Vertex router, double reduce_bytes_per_s)
{
  if (!(reduce_bytes_per_s > 0))
    throw std::invalid_argument("an aggregating switch needs a positive reduction rate");
  if (servers_ > 0)
    throw std::invalid_argument("aggregating switches come before parameter servers");
  aggregators_.emplace_back(router, reduce_bytes_per_s);
  return static_cast<std::uint32_t>(gpus_.size() + aggregators_.size() - 1);
}

void Topology::set_aggregation_parent(std::uint32_t host, std::uint32_t parent, std::uint32_t tree)
{
  const std::uint32_t first = static_cast<std::uint32_t>(gpus_.size());
  if (host >= first + switch_aggregator_count() || parent < first || parent >= first + switch_aggregator_count() ||
      parent == host)
    throw std::invalid_argument("aggregation tree: host " + std::to_string(host) + " cannot send up to host " +
                                std::to_string(parent) + " (a GPU or a summing switch to another summing switch)");
  if (tree > aggregation_parent_.size())
    throw std::invalid_argument("aggregation tree " + std::to_string(tree) + ": trees are numbered without gaps");
  if (tree == aggregation_parent_.size())
    aggregation_parent_.emplace_back();
  std::vector<std::uint32_t>& parents = aggregation_parent_[tree];
  if (parents.size() <= host)
    parents.resize(host + 1, NO_HOST);
  parents[host] = parent;
}

std::uint32_t Topology::add_server(Vertex host, double reduce_bytes_per_s)
{
  if (reduce_bytes_per_s < 0)
    throw std::invalid_argument("a parameter server's reduction rate must not be negative");
  aggregators_.emplace_back(host, reduce_bytes_per_s);
  ++servers_;
  return static_cast<std::uint32_t>(gpus_.size() + aggregators_.size() - 1);
}

Vertex Topology::add_router(const std::string& name)
{
  return boost::add_vertex(VertexProps{VertexKind::router, name}, graph_);
}

std::uint32_t Topology::add_link(Vertex a, Vertex b, const std::string& name, double bandwidth_bytes_per_s,
                                 double latency_seconds, Tier tier)
{
  if (!(bandwidth_bytes_per_s > 0))
    throw std::invalid_argument("link " + name + ": bandwidth must be positive");
  if (!(latency_seconds >= 0))
    throw std::invalid_argument("link " + name + ": latency must not be negative");
  const auto id = static_cast<std::uint32_t>(edges_.size());
  const auto [edge, inserted] =
      boost::add_edge(a, b, EdgeProps{name, bandwidth_bytes_per_s, latency_seconds, tier, id}, graph_);
  (void)inserted;  // parallel links are allowed (vecS out-edge lists)
  edges_.push_back(edge);
  return id;
}

std::pair<std::string, std::string> Topology::link_ends(std::uint32_t id) const
{
  const Edge e = edges_.at(id);
  return {graph_[boost::source(e, graph_)].name, graph_[boost::target(e, graph_)].name};
}

std::vector<Hop> Topology::route(std::uint32_t src, std::uint32_t dst) const
{
  std::vector<Hop> hops;
  route_(src, dst, hops);
  return hops;
}

double Topology::route_latency_seconds(std::uint32_t src, std::uint32_t dst) const
{
  // Called per flow completion at flow fidelity: reuse one buffer instead of allocating a route.
  thread_local std::vector<Hop> hops;
  hops.clear();
  route_(src, dst, hops);
  double seconds = 0;
  for (const Hop& h : hops)
    seconds += link(h.edge).latency_seconds;
  return seconds;
}

double Topology::route_bandwidth_bytes_per_s(std::uint32_t src, std::uint32_t dst) const
{
  double bw = std::numeric_limits<double>::infinity();
  for (const Hop& h : route(src, dst))
    bw = std::min(bw, link(h.edge).bandwidth_bytes_per_s);
  return bw;
}

std::size_t Topology::scale_bandwidth(const std::string& name, double factor)
{
  std::size_t found = 0;
  for (const Edge& e : edges_)
    if (graph_[e].name == name) {
      graph_[e].bandwidth_bytes_per_s *= factor;
      ++found;
    }
  return found;
}

}  // namespace ddlsim::topo
