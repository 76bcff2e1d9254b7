// Cutting a model's layers into pipeline stages of balanced compute.
#include "sim/workload/stage_partition.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ddlsim::workload {

std::vector<std::size_t> partition_layers(const std::vector<LayerCost>& costs, int stages)
{
  const std::size_t n = costs.size();
  if (stages < 1 || n < static_cast<std::size_t>(stages))
    throw std::invalid_argument("cannot cut " + std::to_string(n) + " layers into " + std::to_string(stages) +
                                " non-empty stages");
  const auto runs = static_cast<std::size_t>(stages);
  std::vector<double> w(n);
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = costs[i].forward_seconds + costs[i].backward_seconds;
    lo = std::max(lo, w[i]);
    hi += w[i];
  }
  // Runs that greedy packing needs when no run may exceed `bound`; the least feasible bound is
  // found by bisection (a run of one layer is always within it, as bound >= the largest layer).
  const auto runs_needed = [&](double bound) {
    std::size_t count = 1;
    double sum = 0;
    for (double x : w) {
      if (sum + x > bound) {
        ++count;
        sum = 0;
      }
      sum += x;
    }
    return count;
  };
  if (runs_needed(lo) <= runs)
    hi = lo;
  for (int k = 0; k < 200; ++k) {
    const double mid = lo + (hi - lo) / 2;
    if (!(mid > lo && mid < hi))
      break;
    (runs_needed(mid) <= runs ? hi : lo) = mid;
  }
  // Greedy under the bound, cutting early only where the layers left are just enough for the runs left.
  std::vector<std::size_t> firsts{0};
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t left = runs - firsts.size();
    if (i > 0 && left > 0 && (sum + w[i] > hi || n - i == left)) {
      firsts.push_back(i);
      sum = 0;
    }
    sum += w[i];
  }
  return firsts;
}

}  // namespace ddlsim::workload
