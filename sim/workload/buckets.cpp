// Gradient buckets: which layers' gradients a scheduling policy synchronises together, and when.
#include "sim/workload/training.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

namespace ddlsim::workload {

namespace {

Bucket merged(const Bucket& a, const Bucket& b)
{
  // b comes later in backward order, so earlier in forward order.
  return {a.forward_seconds + b.forward_seconds,  a.backward_seconds + b.backward_seconds,
          a.gradient_bytes + b.gradient_bytes,    a.layers + b.layers,
          std::min(a.first_layer, b.first_layer), 0};
}

/// One unit per layer with parameters, with the parameter-free layers after it in forward order;
/// a trailing unit (in backward order) holds the parameter-free layers before the first one.
std::vector<Bucket> layer_units(const model::Model& model, const std::vector<LayerCost>& costs, double element_bytes)
{
  std::vector<Bucket> units;
  Bucket current{0, 0, 0, 0, 0, 0};
  for (std::size_t i = model.layers.size(); i-- > 0;) {
    const model::Layer& l = model.layers[i];
    current.forward_seconds += costs[i].forward_seconds;
    current.backward_seconds += costs[i].backward_seconds;
    current.gradient_bytes += double(l.params) * element_bytes;
    current.first_layer = i;
    ++current.layers;
    if (l.params > 0) {
      units.push_back(current);
      current = {0, 0, 0, 0, 0, 0};
    }
  }
  if (current.layers > 0)
    units.push_back(current);
  return units;
}

/// Greedy fusion: consecutive units until a bucket holds at least `bytes`.
std::vector<Bucket> fuse(const std::vector<Bucket>& units, double bytes)
{
  std::vector<Bucket> buckets;
  std::optional<Bucket> current;
  for (const Bucket& u : units) {
    current = current ? merged(*current, u) : u;
    if (u.gradient_bytes > 0 && current->gradient_bytes >= bytes) {
      buckets.push_back(*current);
      current.reset();
    }
  }
  if (current)
    buckets.push_back(*current);  // the rest, or parameter-free layers at the input (backward only)
  return buckets;
}

/// Horovod: a background cycle every `cycle` seconds (from backward's start) sends what is ready.
std::vector<Bucket> fuse_by_cycle(const std::vector<Bucket>& units, double bytes, double cycle)
{
  std::vector<Bucket> buckets;
  std::optional<Bucket> current;
  double ready = 0;         // backward seconds done when the unit just added is
  double current_tick = 0;  // the tick the open bucket goes at
  auto close = [&](double last_ready) {
    current->release_delay_seconds = current->gradient_bytes > 0 ? current_tick - last_ready : 0;
    buckets.push_back(*current);
    current.reset();
  };
  for (const Bucket& u : units) {
    const double before = ready;
    ready += u.backward_seconds;
    // The first tick at or after `ready` (a gradient ready exactly at a tick goes with it).
    const double tick = std::ceil(ready / cycle - 1e-12) * cycle;
    if (current && current->gradient_bytes > 0 && tick > current_tick + 1e-15)
      close(before);  // the open bucket's tick passed before this unit was ready
    current = current ? merged(*current, u) : u;
    current_tick = tick;
    if (u.gradient_bytes > 0 && bytes > 0 && current->gradient_bytes >= bytes)
      close(ready);
  }
  if (current)
    close(ready);
  return buckets;
}

/// mg_wfbp: the optimal merge of consecutive units (see make_buckets).
std::vector<Bucket> merge_optimally(const std::vector<Bucket>& units, const CommCostFn& cost)
{
  // Units with gradients take part; a trailing parameter-free unit is appended unchanged.
  std::size_t n = units.size();
  const bool tail = n > 0 && units.back().gradient_bytes == 0;
  if (tail)
    --n;
  std::vector<double> ready(n + 1, 0), bytes(n + 1, 0);
  for (std::size_t j = 1; j <= n; ++j) {
    ready[j] = ready[j - 1] + units[j - 1].backward_seconds;
    bytes[j] = bytes[j - 1] + units[j - 1].gradient_bytes;
  }
  std::vector<double> end(n + 1, std::numeric_limits<double>::infinity());
  std::vector<std::size_t> from(n + 1, 0);
  end[0] = 0;
  for (std::size_t j = 1; j <= n; ++j)
    for (std::size_t i = 0; i < j; ++i) {
      const double e = std::max(ready[j], end[i]) + cost(bytes[j] - bytes[i]);
      if (e < end[j]) {  // ties: the earlier start, the larger merge
        end[j] = e;
        from[j] = i;
      }
    }
  std::vector<std::size_t> cuts;
  for (std::size_t j = n; j > 0; j = from[j])
    cuts.push_back(j);
  std::reverse(cuts.begin(), cuts.end());
  std::vector<Bucket> buckets;
  std::size_t begin = 0;
  for (std::size_t cut : cuts) {
    Bucket b = units[begin];
    for (std::size_t k = begin + 1; k < cut; ++k)
      b = merged(b, units[k]);
    buckets.push_back(b);
    begin = cut;
  }
  if (tail)
    buckets.push_back(units.back());
  return buckets;
}

}  // namespace

std::vector<Bucket> make_buckets(const model::Model& model, const std::vector<LayerCost>& costs,
                                 const TrainingConfig& t, const CommCostFn& cost)
{
  const std::vector<Bucket> units = layer_units(model, costs, bytes_per_element(t.precision));
  switch (t.policy) {
  case SchedulingPolicy::none: return fuse(units, std::numeric_limits<double>::infinity());
  case SchedulingPolicy::wfbp:
  case SchedulingPolicy::priority: return units;
  case SchedulingPolicy::fusion:
    return t.cycle_seconds > 0 ? fuse_by_cycle(units, t.bucket_bytes, t.cycle_seconds) : fuse(units, t.bucket_bytes);
  case SchedulingPolicy::mg_wfbp:
    if (!cost)
      throw std::invalid_argument("mg_wfbp needs a communication cost model");
    return merge_optimally(units, cost);
  }
  return units;
}

double predicted_comm_end(const std::vector<Bucket>& buckets, const CommCostFn& cost)
{
  double ready = 0, end = 0;
  for (const Bucket& b : buckets) {
    ready += b.backward_seconds;
    if (b.gradient_bytes > 0)
      end = std::max(ready, end) + cost(b.gradient_bytes);
  }
  return end;
}

std::vector<Slice> priority_order(const std::vector<Bucket>& buckets, double partition, int window,
                                  const CommCostFn& cost)
{
  std::vector<Slice> pending;
  std::vector<double> ready_at;
  double ready = 0;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    ready += buckets[b].backward_seconds;
    double left = buckets[b].gradient_bytes;
    while (left > 0) {
      const double bytes = std::min(left, partition);
      pending.push_back({b, bytes});
      ready_at.push_back(ready);
      left -= bytes;
    }
  }
  std::vector<Slice> order;
  std::vector<bool> taken(pending.size(), false);
  std::vector<double> free_at(static_cast<std::size_t>(window), 0);
  for (std::size_t n = 0; n < pending.size(); ++n) {
    auto slot = std::min_element(free_at.begin(), free_at.end());
    double now = *slot;
    double earliest = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < pending.size(); ++i)
      if (!taken[i])
        earliest = std::min(earliest, ready_at[i]);
    now = std::max(now, earliest);
    // Highest priority: the largest bucket index (nearest the input); within a bucket, in order.
    std::size_t best = pending.size();
    for (std::size_t i = 0; i < pending.size(); ++i)
      if (!taken[i] && ready_at[i] <= now && (best == pending.size() || pending[i].bucket > pending[best].bucket))
        best = i;
    taken[best] = true;
    order.push_back(pending[best]);
    *slot = now + cost(pending[best].bytes);
  }
  return order;
}

}  // namespace ddlsim::workload
