// What differs between ranks: a gossip graph's neighbours, and each rank's compute factor
// (stragglers, jitter).
#include "sim/workload/training.hpp"

#include <algorithm>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

namespace ddlsim::workload {

std::vector<std::uint32_t> gossip_neighbours(GossipGraph graph, std::uint32_t p, std::uint32_t r)
{
  std::vector<std::uint32_t> out;
  auto add = [&](std::uint64_t n) {
    out.push_back(static_cast<std::uint32_t>(n % p));
  };
  switch (graph) {
  case GossipGraph::ring:
    add(r + 1);
    add(r + p - 1);
    break;
  case GossipGraph::torus: {
    std::uint32_t rows = static_cast<std::uint32_t>(std::sqrt(double(p)));
    while (p % rows != 0)
      --rows;
    const std::uint32_t cols = p / rows, row = r / cols, col = r % cols;
    out.push_back(row * cols + (col + 1) % cols);
    out.push_back(row * cols + (col + cols - 1) % cols);
    out.push_back(((row + 1) % rows) * cols + col);
    out.push_back(((row + rows - 1) % rows) * cols + col);
    break;
  }
  case GossipGraph::exponential:
    for (std::uint64_t hop = 1; hop < p; hop *= 2)
      add(r + hop);
    break;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  out.erase(std::remove(out.begin(), out.end(), r), out.end());
  return out;
}

namespace {

/// A uniform double in [0, 1) from (seed, a, b): SplitMix64, the same on every platform.
double uniform(std::uint64_t seed, std::uint64_t a, std::uint64_t b)
{
  std::uint64_t z = seed ^ (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL);
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return double(z >> 11) * 0x1.0p-53;
}

}  // namespace

double compute_factor(const Scenario& s, std::uint32_t r, int it)
{
  const ComputeConfig& c = s.training.compute;
  double f = std::binary_search(c.slow_ranks.begin(), c.slow_ranks.end(), r) ? c.slowdown : 1.0;
  if (c.jitter > 0)
    f *= 1 + c.jitter * (2 * uniform(s.seed, r, static_cast<std::uint64_t>(it)) - 1);
  return f;
}

}  // namespace ddlsim::workload
