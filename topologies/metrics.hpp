#pragma once
// What a topology offers, computed from the graph and the routing (not from formulas), so the
// tests can compare it with the closed forms.
#include "topologies/topology.hpp"

#include <map>
#include <ostream>

namespace ddlsim::topo {

struct TopologyMetrics {
  std::size_t gpus = 0, switches = 0, links = 0;
  std::map<Tier, std::size_t> links_per_tier;
  /// Network bandwidth per GPU: total NIC-link bandwidth / GPUs, bytes/s (per direction).
  double injection_bytes_per_s = 0;
  /// Max flow, one direction, from GPU ranks [0, N/2) to [N/2, N), bytes/s: the bisection of the
  /// rank-order halves, which is the bisection of every topology here when ranks follow the layout.
  double bisection_bytes_per_s = 0;
  /// Most links on any route between two GPUs (over all pairs when `diameter_exact`, else over
  /// the routes from `diameter_sources` spread-out sources).
  std::size_t diameter_links = 0;
  bool diameter_exact = true;
  std::size_t diameter_sources = 0;
};

/// Above `exact_diameter_gpus` GPUs the diameter is taken over routes from a sample of sources.
TopologyMetrics measure(const Topology& topology, std::size_t exact_diameter_gpus = 4096);

double bisection_bandwidth(const Topology& topology);

/// Graphviz of the graph: GPUs as boxes, switches as ellipses, links labelled with their tier and bandwidth.
void write_dot(const Topology& topology, std::ostream& out);

}  // namespace ddlsim::topo
