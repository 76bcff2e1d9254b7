#pragma once
// SimGrid side of a run: the engine (one per process; SimGrid 3.32 cannot host two) and the
// platform built from a topo::Topology.
#include "sim/scenario/scenario.hpp"
#include "topologies/topology.hpp"

#include <cstdint>
#include <vector>

// Declared, not included: SimGrid's headers stay inside sim/engine (ARCHITECTURE.md, "Layers").
namespace simgrid::s4u {
class Engine;
class Host;
}  // namespace simgrid::s4u

namespace ddlsim::engine {

/// Creates the process's SimGrid engine with logging silenced and the network model of `sharing`:
/// max-min -> CM02 without cross-traffic or TCP window, so a lone transfer of S bytes takes exactly
/// latency + S/bandwidth and concurrent flows share bottlenecks max-min fairly; tcp -> SimGrid's
/// LV08 defaults; ib -> SimGrid's IB model. Throws SimulationError if called twice in one process.
simgrid::s4u::Engine& create_engine(scenario::Sharing sharing);

class TopologyZone;

/// Hosts (one per GPU, in rank order, then one per aggregating switch) and links (two per topology edge, one per
/// direction) in a routing zone that asks the topology for each route: O(links) memory at any scale.
class Platform {
public:
  Platform(const topo::Topology& topology, scenario::Sharing sharing);
  simgrid::s4u::Host* host(std::uint32_t rank) const { return hosts_[rank]; }
  const topo::Topology& topology() const { return topology_; }
  /// SimGrid counts payloads in integers; one simulated unit is 1/byte_scale() bytes so fractional
  /// shares (S/3) stay exact. 1 for the tcp and ib models, whose factors depend on message size.
  double byte_scale() const { return byte_scale_; }

private:
  const topo::Topology& topology_;
  double byte_scale_;
  std::vector<simgrid::s4u::Host*> hosts_;
};

}  // namespace ddlsim::engine
