#pragma once
// A network topology as a Boost.Graph: GPUs and switches as vertices, full-duplex links as
// edges, plus the routing function that says which links a transfer between two GPUs uses.
// No time, no events: sim/platform turns this into SimGrid resources.
#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ddlsim::topo {

enum class VertexKind { gpu, router };

/// Where a link sits; reports aggregate traffic per tier. leaf_spine and spine_core are the
/// first and second switch tiers of a Clos; local and global are a dragonfly's two link kinds.
enum class Tier { intra_node, nic, leaf_spine, spine_core, torus, local, global, custom };
const char* to_string(Tier tier);

struct VertexProps {
  VertexKind kind;
  std::string name;
};

struct EdgeProps {
  std::string name;
  double bandwidth_bytes_per_s;  ///< per direction (links are full-duplex)
  double latency_seconds;
  Tier tier;
  std::uint32_t id;  ///< index into Topology::edges()
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, VertexProps, EdgeProps>;
using Vertex = Graph::vertex_descriptor;
using Edge = Graph::edge_descriptor;

/// One link of a route, in one direction: `forward` means from the edge's source() to target().
struct Hop {
  std::uint32_t edge;
  bool forward;
};

/// Appends to `out` the hops of the route from host `src` to host `dst` (GPUs by rank, then aggregators).
using RouteFn = std::function<void(std::uint32_t src, std::uint32_t dst, std::vector<Hop>& out)>;

class Topology {
public:
  Vertex add_gpu(const std::string& name);
  Vertex add_router(const std::string& name);
  /// Adds a full-duplex link; throws std::invalid_argument on non-positive bandwidth or negative latency.
  std::uint32_t add_link(Vertex a, Vertex b, const std::string& name, double bandwidth_bytes_per_s,
                         double latency_seconds, Tier tier);
  void set_routing(RouteFn route) { route_ = std::move(route); }
  /// Multiplies the bandwidth of every link named `name` by `factor` (a degraded link); returns
  /// how many there were.
  std::size_t scale_bandwidth(const std::string& name, double factor);
  /// A switch that can sum the data passing through it (SHARP / SwitchML style). It becomes a
  /// simulated host with index gpu_count() + its number, so routes and schedules reach it like a
  /// GPU; `reduce_bytes_per_s` is the rate at which it sums incoming bytes.
  std::uint32_t add_aggregator(Vertex router, double reduce_bytes_per_s);
  std::size_t aggregator_count() const { return aggregators_.size(); }
  /// Aggregators that are switches (not parameter servers).
  std::size_t switch_aggregator_count() const { return aggregators_.size() - servers_; }
  static constexpr std::uint32_t NO_HOST = UINT32_MAX;
  /// The aggregation trees of the switches that sum (SHARP can keep several, each through other
  /// upper switches): in tree `tree`, `host` (a GPU or an aggregating switch) sends its data up to
  /// the aggregating switch `parent`. Trees are numbered from 0, without gaps.
  void set_aggregation_parent(std::uint32_t host, std::uint32_t parent, std::uint32_t tree = 0);
  /// The aggregating switch that `host` sends up to in tree `tree`, or NO_HOST (the root, no
  /// switch sums, or no such tree).
  std::uint32_t aggregation_parent(std::uint32_t host, std::uint32_t tree = 0) const
  {
    if (tree >= aggregation_parent_.size())
      return NO_HOST;
    const std::vector<std::uint32_t>& parent = aggregation_parent_[tree];
    return host < parent.size() ? parent[host] : NO_HOST;
  }
  /// Aggregation trees (0 when no switch sums).
  std::uint32_t aggregation_trees() const { return static_cast<std::uint32_t>(aggregation_parent_.size()); }
  /// A parameter server's CPU host (vertex `host`), added as an aggregator after the switches
  /// that sum; `reduce_bytes_per_s` 0 means its summing is not charged.
  std::uint32_t add_server(Vertex host, double reduce_bytes_per_s);
  std::size_t server_count() const { return servers_; }
  /// Host index of server i.
  std::uint32_t server_host(std::uint32_t i) const { return static_cast<std::uint32_t>(host_count() - servers_ + i); }
  Vertex aggregator(std::uint32_t index) const { return aggregators_.at(index).first; }
  double aggregator_reduce_bytes_per_s(std::uint32_t index) const { return aggregators_.at(index).second; }
  /// GPUs, then aggregators: every simulated host.
  std::size_t host_count() const { return gpus_.size() + aggregators_.size(); }
  Vertex host(std::uint32_t index) const
  {
    return index < gpus_.size() ? gpus_[index] : aggregators_.at(index - gpus_.size()).first;
  }

  const Graph& graph() const { return graph_; }
  std::size_t gpu_count() const { return gpus_.size(); }
  Vertex gpu(std::uint32_t rank) const { return gpus_.at(rank); }
  std::size_t link_count() const { return edges_.size(); }
  const EdgeProps& link(std::uint32_t id) const { return graph_[edges_.at(id)]; }
  /// Endpoint names of a link as (source, target), the orientation that Hop::forward refers to.
  std::pair<std::string, std::string> link_ends(std::uint32_t id) const;
  Vertex link_source(std::uint32_t id) const { return boost::source(edges_.at(id), graph_); }
  Vertex link_target(std::uint32_t id) const { return boost::target(edges_.at(id), graph_); }

  std::vector<Hop> route(std::uint32_t src, std::uint32_t dst) const;
  void route(std::uint32_t src, std::uint32_t dst, std::vector<Hop>& out) const { route_(src, dst, out); }
  /// Sum of link latencies along the route (the alpha of a transfer), seconds.
  double route_latency_seconds(std::uint32_t src, std::uint32_t dst) const;
  /// Smallest link bandwidth along the route, bytes/s.
  double route_bandwidth_bytes_per_s(std::uint32_t src, std::uint32_t dst) const;

private:
  Graph graph_;
  std::vector<Vertex> gpus_;
  std::vector<std::pair<Vertex, double>> aggregators_;
  std::size_t servers_ = 0;
  std::vector<std::vector<std::uint32_t>> aggregation_parent_;  ///< by tree, then host; NO_HOST where none
  std::vector<Edge> edges_;
  RouteFn route_;
};

}  // namespace ddlsim::topo
