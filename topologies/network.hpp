#pragma once
// What every network generator shares: it receives the endpoints (the vertices where NICs start:
// GPUs, or node switches when a node has one NIC), adds its switches and links to the topology,
// NIC links included, and returns how to route between two endpoints.
#include "topologies/topology.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace ddlsim::topo {

struct LinkSpec {
  double bandwidth_bytes_per_s;
  double latency_seconds;
};

/// Appends the hops from endpoint `a` to endpoint `b` (a != b).
using EndpointRouteFn = std::function<void(std::uint32_t a, std::uint32_t b, std::vector<Hop>& out)>;

/// A deterministic 64-bit mix (splitmix64's finalizer): ECMP hashing of flows.
inline std::uint64_t mix64(std::uint64_t x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace ddlsim::topo
