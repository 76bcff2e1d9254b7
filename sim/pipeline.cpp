#include "sim/pipeline.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace ddlsim {

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

std::vector<PipelineStep> pipeline_order(PipelineSchedule schedule, int stages, int m, int stage)
{
  std::vector<PipelineStep> order;
  if (schedule == PipelineSchedule::gpipe) {
    for (int j = 0; j < m; ++j)
      order.push_back({true, j});
    for (int j = m; j-- > 0;)
      order.push_back({false, j});
    return order;
  }
  const int warmup = std::min(stages - 1 - stage, m);
  for (int j = 0; j < warmup; ++j)
    order.push_back({true, j});
  for (int k = 0; k + warmup < m; ++k) {
    order.push_back({true, warmup + k});
    order.push_back({false, k});
  }
  for (int j = m - warmup; j < m; ++j)
    order.push_back({false, j});
  return order;
}

int micro_batches_in_flight(const std::vector<PipelineStep>& order)
{
  int now = 0, most = 0;
  for (const PipelineStep& step : order) {
    now += step.forward ? 1 : -1;
    most = std::max(most, now);
  }
  return most;
}

double pipeline_compute_seconds(const std::vector<PipelineStage>& stages, PipelineSchedule schedule, int m)
{
  const auto p = static_cast<int>(stages.size());
  constexpr double UNKNOWN = -1;
  std::vector<std::vector<double>> forward_end(stages.size(), std::vector<double>(std::size_t(m), UNKNOWN));
  std::vector<std::vector<double>> backward_end = forward_end;
  std::vector<std::vector<PipelineStep>> orders;
  for (int s = 0; s < p; ++s)
    orders.push_back(pipeline_order(schedule, p, m, s));
  std::vector<std::size_t> next(stages.size(), 0);
  std::vector<double> free_at(stages.size(), 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (int s = 0; s < p; ++s) {
      const auto u = static_cast<std::size_t>(s);
      for (; next[u] < orders[u].size(); ++next[u]) {
        const PipelineStep step = orders[u][next[u]];
        const auto j = static_cast<std::size_t>(step.microbatch);
        double input = 0;
        if (step.forward && s > 0)
          input = forward_end[u - 1][j];
        else if (!step.forward)
          input = s + 1 < p ? backward_end[u + 1][j] : forward_end[u][j];
        if (input == UNKNOWN)
          break;
        const double start = std::max(free_at[u], input);
        free_at[u] = start + (step.forward ? stages[u].forward_seconds : stages[u].backward_seconds);
        (step.forward ? forward_end : backward_end)[u][j] = free_at[u];
        progress = true;
      }
    }
  }
  for (std::size_t u = 0; u < stages.size(); ++u)
    if (next[u] < orders[u].size())
      throw std::logic_error("pipeline schedule deadlocks at stage " + std::to_string(u));
  return *std::max_element(free_at.begin(), free_at.end());
}

namespace {

class PipelineBuilder {
public:
  PipelineBuilder(const Scenario& s, const model::Model& model, const std::vector<coll::GroupShape>& groups)
      : s_(s), t_(s.training), groups_(groups), stages_(static_cast<std::uint32_t>(t_.pipeline_parallel)),
        d_(static_cast<std::uint32_t>(t_.data_parallel)), m_(t_.microbatches)
  {
    if (groups_.size() != stages_)
      throw std::invalid_argument("one data-parallel group per pipeline stage expected");
    const std::vector<LayerCost> costs = layer_costs(model, t_, s.gpu, s.profile.get());
    // Stages are cut between blocks (a residual block, a transformer block, an Inception module).
    const std::vector<std::size_t> starts = model.block_starts();
    std::vector<LayerCost> block_costs(starts.size(), {0, 0});
    for (std::size_t k = 0; k < starts.size(); ++k)
      for (std::size_t l = starts[k]; l < (k + 1 < starts.size() ? starts[k + 1] : costs.size()); ++l) {
        block_costs[k].forward_seconds += costs[l].forward_seconds;
        block_costs[k].backward_seconds += costs[l].backward_seconds;
      }
    std::vector<std::size_t> firsts = partition_layers(block_costs, t_.pipeline_parallel);
    for (std::size_t& f : firsts)
      f = starts[f];
    const double e = bytes_per_element(t_.precision);
    const double batch = t_.batch_per_gpu;
    TrainingPlan& plan = result_.plan;
    plan.forward_seconds = plan.compute_seconds = plan.gradient_bytes = 0;
    plan.fidelity = coll::ScheduleFidelity::step;
    for (std::uint32_t s = 0; s < stages_; ++s) {
      PipelineStage st;
      st.first_layer = firsts[s];
      st.layers = (s + 1 < stages_ ? firsts[s + 1] : model.layers.size()) - st.first_layer;
      model::Model sub{model.name, {}};
      std::vector<LayerCost> sub_costs;
      for (std::size_t l = st.first_layer; l < st.first_layer + st.layers; ++l) {
        const model::Layer& layer = model.layers[l];
        sub.layers.push_back(layer);
        sub_costs.push_back(costs[l]);
        st.forward_seconds += costs[l].forward_seconds;
        st.backward_seconds += costs[l].backward_seconds;
        st.gradient_bytes += double(layer.params) * e;
        st.activation_bytes += layer.activation_elements_per_sample * batch * e;
      }
      if (s + 1 < stages_)
        st.send_bytes = sub.layers.back().elements_across_cut() * batch * e;
      orders_.push_back(pipeline_order(t_.pipeline_schedule, t_.pipeline_parallel, m_, static_cast<int>(s)));
      st.in_flight = micro_batches_in_flight(orders_.back());
      buckets_.push_back(make_buckets(sub, sub_costs, t_));
      std::size_t synced = 0;
      for (Bucket b : buckets_.back()) {
        synced += b.gradient_bytes > 0 ? 1 : 0;
        b.first_layer += st.first_layer;
        plan.buckets.push_back(b);
      }
      plan.slices = std::max(plan.slices, synced);
      plan.forward_seconds += st.forward_seconds;
      plan.compute_seconds += st.forward_seconds + st.backward_seconds;
      plan.gradient_bytes += st.gradient_bytes;
      if (m_ * (st.forward_seconds + st.backward_seconds) > result_.busiest_compute_seconds) {
        result_.busiest_compute_seconds = m_ * (st.forward_seconds + st.backward_seconds);
        result_.busiest_forward_seconds = m_ * st.forward_seconds;
      }
      result_.stages.push_back(st);
    }
    result_.ideal_seconds = pipeline_compute_seconds(result_.stages, t_.pipeline_schedule, m_);
    // Task labels, made once rather than per GPU and micro-batch (16,384 GPUs build millions of tasks).
    for (int j = 0; j < m_; ++j) {
      forward_labels_.push_back("forward micro-batch " + std::to_string(j));
      backward_labels_.push_back("backward micro-batch " + std::to_string(j));
    }
    for (std::uint32_t s = 0; s < stages_; ++s) {
      const std::string last = backward_labels_[std::size_t(orders_[s].back().microbatch)];
      segment_labels_.emplace_back();
      for (std::size_t b = 0; b < buckets_[s].size(); ++b)
        segment_labels_.back().push_back(last + " bucket " + std::to_string(b));
    }
  }

  PipelineTraining build()
  {
    const std::uint32_t gpus = stages_ * d_;
    const auto mb = static_cast<std::size_t>(m_);
    std::vector<std::uint32_t> compute(gpus, NONE);
    std::vector<std::vector<std::uint32_t>> waits(gpus);
    for (int it = 0; it < t_.iterations; ++it) {
      // Per GPU and micro-batch: its forward; the backward task that waits for the incoming gradient
      // and the one after which the outgoing gradient is there (the same but for the last backward,
      // cut into the buckets' segments). Per GPU and bucket: the task after which it may be sent.
      std::vector<std::vector<std::uint32_t>> forward(gpus), backward_in(gpus), backward_out(gpus), ready(gpus);
      for (std::uint32_t s = 0; s < stages_; ++s)
        for (std::uint32_t i = 0; i < d_; ++i) {
          const std::uint32_t gpu = s * d_ + i;
          forward[gpu].assign(mb, NONE);
          backward_in[gpu].assign(mb, NONE);
          backward_out[gpu].assign(mb, NONE);
          add_stage_compute(gpu, s, it, compute[gpu], waits[gpu], forward[gpu], backward_in[gpu], backward_out[gpu],
                            ready[gpu]);
        }
      for (std::uint32_t s = 0; s + 1 < stages_; ++s)
        for (std::uint32_t i = 0; i < d_; ++i)
          for (std::size_t j = 0; j < mb; ++j) {
            const std::uint32_t a = s * d_ + i, b = a + d_;
            p2p(a, b, forward[a][j], forward[b][j], ACTIVATIONS_LABEL);
            p2p(b, a, backward_out[b][j], backward_in[a][j], GRADIENTS_LABEL);
          }
      std::vector<std::vector<std::uint32_t>> ends(gpus);
      for (std::uint32_t gpu = 0; gpu < gpus; ++gpu)
        ends[gpu].push_back(compute[gpu]);
      if (d_ > 1)
        synchronise_stages(it, ready, waits, ends);
      result_.plan.iteration_end.push_back(std::move(ends));
    }
    return std::move(result_);
  }

private:
  static constexpr std::uint32_t NONE = UINT32_MAX;
  inline static const std::string ACTIVATIONS_LABEL = "activations to the next stage";
  inline static const std::string GRADIENTS_LABEL = "activation gradients to the previous stage";

  void after(std::uint32_t before, std::uint32_t task)
  {
    if (before != NONE)
      result_.plan.graph.add_dependency(before, task);
  }

  /// GPU `gpu`'s steps of stage s in iteration `it`, on its compute lane after `last`; the first
  /// waits for `waits` (the previous iteration's synchronisation), which it then clears.
  void add_stage_compute(std::uint32_t gpu, std::uint32_t s, int it, std::uint32_t& last,
                         std::vector<std::uint32_t>& waits, std::vector<std::uint32_t>& forward,
                         std::vector<std::uint32_t>& backward_in, std::vector<std::uint32_t>& backward_out,
                         std::vector<std::uint32_t>& ready)
  {
    TaskGraph& g = result_.plan.graph;
    const PipelineStage& st = result_.stages[s];
    const double factor = compute_factor(s_, gpu, it);
    const std::vector<PipelineStep>& order = orders_[s];
    const auto add = [&](double seconds, const std::string& label) {
      const std::uint32_t task = g.add_delay(gpu, Stream::compute, seconds * factor, label);
      after(last, task);
      last = task;
      return task;
    };
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto j = static_cast<std::size_t>(order[k].microbatch);
      if (order[k].forward) {
        forward[j] = add(st.forward_seconds, forward_labels_[j]);
        if (k == 0) {
          for (std::uint32_t w : waits)
            g.add_dependency(w, forward[j]);
          waits.clear();
        }
      } else if (k + 1 < order.size()) {
        backward_in[j] = backward_out[j] = add(st.backward_seconds, backward_labels_[j]);
      } else {
        // The last backward makes the gradients final: bucket by bucket, each released as it is done.
        const std::vector<Bucket>& buckets = buckets_[s];
        ready.assign(buckets.size(), NONE);
        for (std::size_t b = 0; b < buckets.size(); ++b) {
          const std::uint32_t seg = add(buckets[b].backward_seconds, segment_labels_[s][b]);
          if (b == 0)
            backward_in[j] = seg;
          backward_out[j] = ready[b] = seg;
          if (buckets[b].release_delay_seconds > 0 && d_ > 1) {
            const std::uint32_t tick =
                g.add_delay(gpu, Stream::none, buckets[b].release_delay_seconds, "fusion cycle wait");
            g.add_dependency(seg, tick);
            ready[b] = tick;
          }
        }
      }
    }
  }

  /// A micro-batch's activations (or their gradients) from GPU `from` to GPU `to`: sent once
  /// `produced` ends, needed before `consumer` starts. The receive is posted ahead (it is not
  /// the receiver's communication time, only its wait).
  void p2p(std::uint32_t from, std::uint32_t to, std::uint32_t produced, std::uint32_t consumer,
           const std::string& label)
  {
    TaskGraph& g = result_.plan.graph;
    const double bytes = result_.stages[std::min(from, to) / d_].send_bytes;
    coll::Schedule sched(2);
    sched.add_step({{0, 1, bytes, 1, 0}});
    const std::uint32_t c = g.add_collective(std::move(sched), {from, to}, label);
    const CollectiveInstance& inst = g.collective(c);
    g.add_dependency(produced, inst.tasks[0]);
    g.add_dependency(inst.tasks[1], consumer);
    g.set_stream(inst.tasks[1], Stream::none);
  }

  /// Each stage's buckets all-reduced over its data-parallel group, one after another per GPU;
  /// the next iteration's first forward waits for the last.
  void synchronise_stages(int it, const std::vector<std::vector<std::uint32_t>>& ready,
                          std::vector<std::vector<std::uint32_t>>& waits, std::vector<std::vector<std::uint32_t>>& ends)
  {
    TaskGraph& g = result_.plan.graph;
    TrainingPlan& plan = result_.plan;
    for (std::uint32_t s = 0; s < stages_; ++s) {
      std::vector<std::uint32_t> last(d_, NONE);
      const std::vector<Bucket>& buckets = buckets_[s];
      for (std::size_t b = 0; b < buckets.size(); ++b) {
        if (!(buckets[b].gradient_bytes > 0))
          continue;
        PlannedCollective planned =
            plan_collective(coll::Op::allreduce, t_.algorithm, t_.fidelity, groups_[s], buckets[b].gradient_bytes);
        if (it == 0)
          plan.algorithms.push_back(planned.algorithm);
        if (planned.fidelity == coll::ScheduleFidelity::flow)
          plan.fidelity = planned.fidelity;
        const std::uint32_t c =
            g.add_collective(std::move(planned.schedule), std::move(planned.hosts),
                             "allreduce stage " + std::to_string(s) + " bucket " + std::to_string(b));
        for (std::uint32_t i = 0; i < d_; ++i) {
          const std::uint32_t part = g.collective(c).tasks[i];
          g.add_dependency(ready[s * d_ + i][b], part);
          after(last[i], part);
          last[i] = part;
        }
      }
      for (std::uint32_t i = 0; i < d_; ++i)
        if (last[i] != NONE) {
          ends[s * d_ + i].push_back(last[i]);
          waits[s * d_ + i].push_back(last[i]);
        }
    }
  }

  const Scenario& s_;
  const TrainingConfig& t_;
  const std::vector<coll::GroupShape>& groups_;
  const std::uint32_t stages_, d_;
  const int m_;
  std::vector<std::vector<PipelineStep>> orders_;              ///< per stage
  std::vector<std::vector<Bucket>> buckets_;                   ///< per stage, first_layer within the stage
  std::vector<std::string> forward_labels_, backward_labels_;  ///< per micro-batch
  std::vector<std::vector<std::string>> segment_labels_;       ///< per stage and bucket: the last backward's
  PipelineTraining result_;
};

}  // namespace

PipelineTraining build_pipeline_training(const Scenario& s, const model::Model& model,
                                         const std::vector<coll::GroupShape>& stage_groups)
{
  return PipelineBuilder(s, model, stage_groups).build();
}

}  // namespace ddlsim
