#include "sim/pipeline.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

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

double tensor_allreduce_seconds(const coll::GroupShape& group, double bytes, double reduce_seconds_per_byte)
{
  const double t = group.ranks;
  return coll::predicted_seconds(coll::Op::allreduce, coll::Algorithm::ring, group, bytes) +
         (t - 1) * bytes / t * reduce_seconds_per_byte;
}

namespace {

/// A run of one micro-batch's compute on a stage, then (bucket >= 0) the release of a gradient
/// bucket, then (allreduce_bytes > 0) a tensor-parallel all-reduce that the next run waits for.
struct Segment {
  double seconds = 0;
  double allreduce_bytes = 0;
  int bucket = -1;
  /// ZeRO stage 3: the bucket whose parameters must be all-gathered before this run starts (-1: none).
  int gather = -1;
  /// Sequence parallelism, backward: bytes the tensor-parallel group all-gathers before this run (a
  /// column layer's input, kept sharded, which its weight gradient needs whole).
  double tensor_gather_bytes = 0;
  /// Expert parallelism: bytes each GPU sends in the expert-parallel group's all-to-all after this
  /// run (after its all-reduce, if any), which the next run waits for; `alltoall_back`: from the
  /// experts' GPUs to the tokens' (combine, or dispatch's gradient), the routing's transpose.
  double alltoall_bytes = 0;
  bool alltoall_back = false;
  /// Of `seconds`, the experts' compute (from dispatch to combine), which routing skew scales per GPU.
  double expert_seconds = 0;
};

class PipelineBuilder {
public:
  PipelineBuilder(const Scenario& s, const model::Model& model, const std::vector<coll::GroupShape>& groups,
                  const std::vector<coll::GroupShape>& tensor_groups, const ExpertGroups& experts)
      : s_(s), t_(s.training), groups_(groups), tensor_groups_(tensor_groups), experts_(experts),
        stages_(static_cast<std::uint32_t>(t_.pipeline_parallel)), d_(static_cast<std::uint32_t>(t_.data_parallel)),
        tp_(static_cast<std::uint32_t>(t_.tensor_parallel)), ep_(static_cast<std::uint32_t>(t_.expert_parallel)),
        lanes_(tp_ * ep_), m_(t_.microbatches)
  {
    if (groups_.size() != stages_ * tp_)
      throw std::invalid_argument("one data-parallel group per pipeline stage and tensor rank expected");
    if (tp_ > 1 && tensor_groups_.size() != stages_ * d_)
      throw std::invalid_argument("one tensor-parallel group per pipeline stage and replica expected");
    if (ep_ > 1 && (tp_ > 1 || t_.zero_stage == 3 || d_ % ep_ != 0 || experts_.alltoall.size() != stages_ * d_ / ep_ ||
                    experts_.gradients.size() != stages_ * ep_))
      throw std::invalid_argument("expert parallelism: tensor 1, no ZeRO 3, expert dividing data, and one all-to-all "
                                  "group per stage and d / e replicas, one gradient group per stage and expert rank "
                                  "expected");
    // What one GPU runs: its share of each split layer and its experts. A measured single-GPU
    // iteration scales the shares by measured / modelled of the whole model.
    const model::Model shard =
        model::expert_shard(model::tensor_shard(model, t_.tensor_parallel, t_.sequence_parallel), t_.expert_parallel);
    const std::vector<LayerCost> full = layer_costs(model, t_, s.gpu, s.profile.get());
    std::vector<LayerCost> costs = full;
    if (tp_ > 1) {
      TrainingConfig unscaled = t_;
      unscaled.compute.iteration_seconds = 0;
      unscaled.recompute = Recompute::none;
      costs = layer_costs(shard, unscaled, s.gpu, s.profile.get());
      if (t_.compute.iteration_seconds > 0) {
        double modelled = 0;
        for (const LayerCost& c : layer_costs(model, unscaled, s.gpu, s.profile.get()))
          modelled += c.forward_seconds + c.backward_seconds;
        for (LayerCost& c : costs) {
          c.forward_seconds *= t_.compute.iteration_seconds / modelled;
          c.backward_seconds *= t_.compute.iteration_seconds / modelled;
        }
      }
      add_recomputation(shard, t_.recompute, costs);
    }
    // Routing skew: every GPU sends GPU j of its expert group the share w_j / sum(w) of its tokens,
    // so GPU j's experts take e w_j / sum(w) times the balanced compute.
    expert_load_.assign(lanes_, 1.0);
    if (ep_ > 1 && t_.expert_zipf > 0) {
      const std::vector<double> w = coll::zipf_weights(ep_, t_.expert_zipf);
      dispatch_shares_ = std::make_shared<const std::vector<double>>(coll::alltoall_shares(ep_, w));
      std::vector<double> back(std::size_t(ep_) * ep_);
      for (std::uint32_t r = 0; r < ep_; ++r)
        for (std::uint32_t d = 0; d < ep_; ++d)
          back[std::size_t(d) * ep_ + r] = (*dispatch_shares_)[std::size_t(r) * ep_ + d];
      combine_shares_ = std::make_shared<const std::vector<double>>(std::move(back));
      for (std::uint32_t j = 0; j < ep_; ++j) {
        double received = 0;
        for (std::uint32_t r = 0; r < ep_; ++r)
          received += (*dispatch_shares_)[std::size_t(r) * ep_ + j];
        expert_load_[j] = received;
      }
    }
    const double hottest = *std::max_element(expert_load_.begin(), expert_load_.end());
    TrainingPlan& plan = result_.plan;
    plan.forward_seconds = plan.compute_seconds = plan.gradient_bytes = 0;
    for (const LayerCost& c : full) {
      plan.forward_seconds += c.forward_seconds;
      plan.compute_seconds += c.forward_seconds + c.backward_seconds;
    }
    plan.fidelity = coll::ScheduleFidelity::step;
    const std::vector<std::size_t> firsts = stage_firsts(model, costs);
    const double e = bytes_per_element(t_.precision);
    const double batch = t_.batch_per_gpu;
    double busiest = -1;
    for (std::uint32_t st_index = 0; st_index < stages_; ++st_index) {
      PipelineStage st;
      st.first_layer = firsts[st_index];
      st.layers = (st_index + 1 < stages_ ? firsts[st_index + 1] : model.layers.size()) - st.first_layer;
      model::Model sub{model.name, {}};
      std::vector<LayerCost> sub_costs;
      for (std::size_t l = st.first_layer; l < st.first_layer + st.layers; ++l) {
        const model::Layer& layer = shard.layers[l];
        sub.layers.push_back(layer);
        sub_costs.push_back(costs[l]);
        st.forward_seconds += costs[l].forward_seconds;
        st.backward_seconds += costs[l].backward_seconds;
        st.gradient_bytes += double(layer.params) * e;
      }
      const KeptActivations kept = kept_activations(shard, st.first_layer, st.first_layer + st.layers, t_.recompute);
      st.activation_bytes = kept.kept * batch * e;
      st.recompute_peak_bytes = kept.peak * batch * e;
      if (st_index + 1 < stages_)
        st.send_bytes = model.layers[st.first_layer + st.layers - 1].elements_across_cut() * batch * e;
      orders_.push_back(pipeline_order(t_.pipeline_schedule, t_.pipeline_parallel, m_, static_cast<int>(st_index)));
      st.in_flight = micro_batches_in_flight(orders_.back());
      buckets_.push_back(make_buckets(sub, sub_costs, t_));
      // Expert layers' share of each bucket: with expert parallelism synchronised over its own groups.
      expert_bytes_.emplace_back(buckets_.back().size(), 0.0);
      for (std::size_t b = 0; b < buckets_.back().size(); ++b) {
        const Bucket& bucket = buckets_.back()[b];
        for (std::size_t l = bucket.first_layer; l < bucket.first_layer + bucket.layers; ++l)
          if (sub.layers[l].experts > 0) {
            st.expert_gradient_bytes += double(sub.layers[l].params) * e;
            if (ep_ > 1)
              expert_bytes_.back()[b] += double(sub.layers[l].params) * e;
          }
      }
      std::size_t synced = 0;
      for (std::size_t b = 0; b < buckets_.back().size(); ++b) {
        Bucket bucket = buckets_.back()[b];
        const double experts_part = expert_bytes_.back()[b];
        synced += (bucket.gradient_bytes - experts_part > 0 ? 1 : 0) + (experts_part > 0 && d_ / ep_ > 1 ? 1 : 0);
        bucket.first_layer += st.first_layer;
        plan.buckets.push_back(bucket);
      }
      plan.slices = std::max(plan.slices, synced);
      plan.gradient_bytes += st.gradient_bytes;
      make_segments(sub, sub_costs, buckets_.back(), batch * e);
      if (tp_ > 1) {
        const coll::GroupShape& group = tensor_groups_[st_index * d_];
        for (const Segment& seg : forward_segments_.back())
          if (seg.allreduce_bytes > 0) {
            ++st.tensor_allreduces_forward;
            st.tensor_bytes_forward += seg.allreduce_bytes;
            st.tensor_forward_seconds += tensor_seconds(coll::Op::allreduce, group, seg.allreduce_bytes);
          }
        for (const Segment& seg : backward_segments_.back()) {
          if (seg.allreduce_bytes > 0) {
            ++st.tensor_allreduces_backward;
            st.tensor_bytes_backward += seg.allreduce_bytes;
            st.tensor_backward_seconds += tensor_seconds(coll::Op::allreduce, group, seg.allreduce_bytes);
          }
          if (seg.tensor_gather_bytes > 0) {
            ++st.tensor_allgathers_backward;
            st.tensor_gather_bytes_backward += seg.tensor_gather_bytes;
            st.tensor_backward_seconds += tensor_seconds(coll::Op::allgather, group, seg.tensor_gather_bytes);
          }
        }
      }
      if (ep_ > 1) {
        const auto count = [&](const std::vector<Segment>& segments, int& n, double& bytes, double& seconds) {
          for (const Segment& seg : segments)
            if (seg.alltoall_bytes > 0) {
              ++n;
              bytes += seg.alltoall_bytes;
              seconds += coll::predicted_seconds(coll::Op::alltoall, coll::Algorithm::direct,
                                                 alltoall_group(st_index, 0, seg.alltoall_back), seg.alltoall_bytes);
            }
        };
        for (const Segment& seg : forward_segments_.back())
          st.expert_forward_seconds += seg.expert_seconds;
        for (const Segment& seg : backward_segments_.back())
          st.expert_backward_seconds += seg.expert_seconds;
        count(forward_segments_.back(), st.alltoalls_forward, st.alltoall_bytes_forward, st.alltoall_forward_seconds);
        count(backward_segments_.back(), st.alltoalls_backward, st.alltoall_bytes_backward,
              st.alltoall_backward_seconds);
      }
      // The hottest GPU's experts (GPU 0's with routing skew) take `hottest` times their balanced time.
      const double compute = m_ * (st.forward_seconds + st.backward_seconds +
                                   (st.expert_forward_seconds + st.expert_backward_seconds) * (hottest - 1));
      const double tensor = m_ * (st.tensor_forward_seconds + st.tensor_backward_seconds);
      const double alltoall = m_ * (st.alltoall_forward_seconds + st.alltoall_backward_seconds);
      if (compute + tensor + alltoall > busiest) {
        busiest = compute + tensor + alltoall;
        result_.busiest_stage = st_index;
        result_.busiest_compute_seconds = compute;
        result_.busiest_forward_seconds = m_ * (st.forward_seconds + st.expert_forward_seconds * (hottest - 1));
        result_.busiest_tensor_seconds = tensor;
        result_.busiest_alltoall_seconds = alltoall;
      }
      result_.stages.push_back(st);
    }
    std::vector<PipelineStage> with_tensor = result_.stages;
    for (PipelineStage& st : with_tensor) {
      st.forward_seconds +=
          st.tensor_forward_seconds + st.alltoall_forward_seconds + st.expert_forward_seconds * (hottest - 1);
      st.backward_seconds +=
          st.tensor_backward_seconds + st.alltoall_backward_seconds + st.expert_backward_seconds * (hottest - 1);
    }
    result_.ideal_seconds = pipeline_compute_seconds(with_tensor, t_.pipeline_schedule, m_);
    // Task labels, made once rather than per GPU and micro-batch (16,384 GPUs build millions of tasks).
    for (int j = 0; j < m_; ++j) {
      forward_labels_.push_back("forward micro-batch " + std::to_string(j));
      backward_labels_.push_back("backward micro-batch " + std::to_string(j));
    }
    for (std::uint32_t st_index = 0; st_index < stages_; ++st_index) {
      const std::string last = backward_labels_[std::size_t(orders_[st_index].back().microbatch)];
      segment_labels_.emplace_back();
      allreduce_labels_.emplace_back();
      allgather_labels_.emplace_back();
      expert_labels_.emplace_back();
      expert_allgather_labels_.emplace_back();
      for (std::size_t b = 0; b < buckets_[st_index].size(); ++b) {
        segment_labels_.back().push_back(last + " bucket " + std::to_string(b));
        const std::string where = "stage " + std::to_string(st_index) + " bucket " + std::to_string(b);
        allreduce_labels_.back().push_back((t_.zero_stage > 0 ? "reduce-scatter " : "allreduce ") + where);
        allgather_labels_.back().push_back("allgather parameters " + where);
        expert_labels_.back().push_back(
            (t_.zero_stage > 0 ? "reduce-scatter expert gradients " : "allreduce expert gradients ") + where);
        expert_allgather_labels_.back().push_back("allgather expert parameters " + where);
      }
    }
    if (t_.zero_stage == 3) {
      if (stages_ != 1 || m_ != 1)
        throw std::logic_error("ZeRO stage 3 is modelled with one stage and one micro-batch");
      const std::size_t n = buckets_[0].size();
      for (std::size_t b = 0; b < n; ++b) {
        gather_forward_labels_.push_back("allgather parameters for forward, bucket " + std::to_string(b));
        gather_backward_labels_.push_back("allgather parameters for backward, bucket " + std::to_string(b));
      }
      gather_forward_.assign(tp_, std::vector<std::uint32_t>(n, NONE));
      gather_backward_ = gate_forward_ = gate_backward_ = gather_forward_;
    }
  }

  PipelineTraining build()
  {
    const std::uint32_t gpus = stages_ * d_ * tp_;
    const auto mb = static_cast<std::size_t>(m_);
    std::vector<std::uint32_t> compute(gpus, NONE);
    std::vector<std::vector<std::uint32_t>> waits(gpus);
    for (int it = 0; it < t_.iterations; ++it) {
      // Per GPU and micro-batch: the first and the last task of its forward; the backward task that waits for the
      // incoming gradient and the one after which the outgoing gradient is there. Per GPU and
      // bucket: the task after which it may be sent.
      std::vector<std::vector<std::uint32_t>> first_forward(gpus), forward(gpus), backward_in(gpus), backward_out(gpus),
          ready(gpus);
      for (std::uint32_t gpu = 0; gpu < gpus; ++gpu) {
        first_forward[gpu].assign(mb, NONE);
        forward[gpu].assign(mb, NONE);
        backward_in[gpu].assign(mb, NONE);
        backward_out[gpu].assign(mb, NONE);
      }
      Lanes lanes{compute, waits, first_forward, forward, backward_in, backward_out, ready};
      if (t_.zero_stage == 3 && d_ > 1) {
        const Gathers gathers = gather_parameters(waits);
        for (std::uint32_t i = 0; i < d_; ++i) {
          for (std::uint32_t k = 0; k < tp_; ++k) {
            gate_forward_[k].assign(buckets_[0].size(), NONE);
            gate_backward_[k].assign(buckets_[0].size(), NONE);
            for (std::size_t b = 0; b < buckets_[0].size(); ++b) {
              gather_forward_[k][b] = gathers.task(gathers.forward[k][b], i);
              gather_backward_[k][b] = gathers.task(gathers.backward[k][b], i);
            }
          }
          add_stage_compute(0, i, it, lanes);
          limit_gathers(gathers.forward_order, gate_forward_, gather_forward_);
          limit_gathers(gathers.backward_order, gate_backward_, gather_backward_);
        }
      } else {
        for (std::uint32_t s = 0; s < stages_; ++s)
          for (std::uint32_t i = 0; i < d_; i += ep_)  // an expert group's replicas are built together
            add_stage_compute(s, i, it, lanes);
      }
      for (std::uint32_t s = 0; s + 1 < stages_; ++s)
        for (std::uint32_t i = 0; i < d_; ++i)
          for (std::uint32_t k = 0; k < tp_; ++k)
            for (std::size_t j = 0; j < mb; ++j) {
              const std::uint32_t a = gpu_of(s, i, k), b = gpu_of(s + 1, i, k);
              p2p(a, b, s, forward[a][j], first_forward[b][j], ACTIVATIONS_LABEL);
              p2p(b, a, s, backward_out[b][j], backward_in[a][j], GRADIENTS_LABEL);
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
  inline static const std::string TENSOR_FORWARD_LABEL = "tensor-parallel all-reduce (forward)";
  inline static const std::string TENSOR_BACKWARD_LABEL = "tensor-parallel all-reduce (backward)";
  inline static const std::string SEQUENCE_GATHER_LABEL = "sequence-parallel all-gather of an input (backward)";
  inline static const std::string ALLTOALL_FORWARD_LABEL = "expert-parallel all-to-all (forward)";
  inline static const std::string ALLTOALL_BACKWARD_LABEL = "expert-parallel all-to-all (backward)";

  /// Per GPU: the last task of its compute stream, the tasks its next forward waits for, and per
  /// micro-batch and bucket the tasks that transfers and all-reduces attach to.
  struct Lanes {
    std::vector<std::uint32_t>& last;
    std::vector<std::vector<std::uint32_t>>& waits;
    std::vector<std::vector<std::uint32_t>>& first_forward;
    std::vector<std::vector<std::uint32_t>>& forward;
    std::vector<std::vector<std::uint32_t>>& backward_in;
    std::vector<std::vector<std::uint32_t>>& backward_out;
    std::vector<std::vector<std::uint32_t>>& ready;
  };

  /// ZeRO stage 3, one iteration: per tensor rank k and bucket b, the collective that all-gathers
  /// b's parameters over k's data-parallel group before b runs forward, and before it runs
  /// backward (NONE: not gathered), and the buckets in the order they are gathered each way.
  struct Gathers {
    std::vector<std::vector<std::uint32_t>> forward, backward;
    std::vector<std::size_t> forward_order, backward_order;
    const TaskGraph* graph;
    /// Replica i's part of collective c (NONE for none).
    std::uint32_t task(std::uint32_t c, std::uint32_t i) const
    {
      return c == NONE ? NONE : graph->collective(c).tasks[i];
    }
  };

  /// ZeRO stage 3: the iteration's all-gathers of parameters, one bucket at a time on each GPU, in
  /// the order forward, then backward, needs them: forward from the input's bucket on, backward
  /// from the output's, except that the bucket forward ran last keeps its parameters for backward.
  /// The first waits for the GPU's `waits` (its reduce-scatters of the previous iteration, which
  /// give its shard the update), which it then clears.
  Gathers gather_parameters(std::vector<std::vector<std::uint32_t>>& waits)
  {
    TaskGraph& g = result_.plan.graph;
    const std::vector<Bucket>& buckets = buckets_[0];
    Gathers out;
    out.graph = &g;
    for (std::size_t b = buckets.size(); b-- > 0;)
      if (buckets[b].gradient_bytes > 0)
        out.forward_order.push_back(b);
    for (std::size_t b = 0; b < buckets.size(); ++b)
      if (buckets[b].gradient_bytes > 0)
        out.backward_order.push_back(b);
    out.forward.assign(tp_, std::vector<std::uint32_t>(buckets.size(), NONE));
    out.backward = out.forward;
    for (std::uint32_t k = 0; k < tp_; ++k) {
      std::vector<std::uint32_t> last(d_, NONE);
      const auto add = [&](std::size_t b, const std::string& label) {
        PlannedCollective planned =
            plan_collective(coll::Op::allgather, t_.algorithm, t_.fidelity, groups_[k], buckets[b].gradient_bytes, tp_);
        if (planned.fidelity == coll::ScheduleFidelity::flow)
          result_.plan.fidelity = planned.fidelity;
        const std::uint32_t c = g.add_collective(std::move(planned.schedule), std::move(planned.hosts), label);
        for (std::uint32_t i = 0; i < d_; ++i) {
          const std::uint32_t part = g.collective(c).tasks[i];
          if (last[i] == NONE) {
            for (std::uint32_t w : waits[gpu_of(0, i, k)])
              g.add_dependency(w, part);
            waits[gpu_of(0, i, k)].clear();
          }
          after(last[i], part);
          last[i] = part;
        }
        return c;
      };
      for (std::size_t b : out.forward_order)
        out.forward[k][b] = add(b, gather_forward_labels_[b]);
      for (std::size_t p = 1; p < out.backward_order.size(); ++p)
        out.backward[k][out.backward_order[p]] =
            add(out.backward_order[p], gather_backward_labels_[out.backward_order[p]]);
    }
    return out;
  }

  /// ZeRO stage 3 keeps at most two buckets' parameters gathered on a GPU, the one computing and
  /// the next: the gather of the p-th bucket in `order` starts only once the (p - 1)-th may start
  /// computing (after `gates`, the compute task before it).
  void limit_gathers(const std::vector<std::size_t>& order, const std::vector<std::vector<std::uint32_t>>& gates,
                     const std::vector<std::vector<std::uint32_t>>& gathers)
  {
    for (std::uint32_t k = 0; k < tp_; ++k)
      for (std::size_t p = 1; p < order.size(); ++p)
        if (gathers[k][order[p]] != NONE)
          after(gates[k][order[p - 1]], gathers[k][order[p]]);
  }

  std::uint32_t gpu_of(std::uint32_t stage, std::uint32_t replica, std::uint32_t k) const
  {
    return (stage * d_ + replica) * tp_ + k;
  }

  /// The GPU of lane m of the team of stage s that starts at replica i: the team's replicas
  /// (expert parallelism's group, else one) times their tensor ranks.
  std::uint32_t lane_gpu(std::uint32_t stage, std::uint32_t replica, std::uint32_t m) const
  {
    return gpu_of(stage, replica + m / tp_, m % tp_);
  }

  /// Each stage's first layer: stages are cut between blocks (a residual block, a transformer
  /// block, an Inception module), balancing forward + backward.
  std::vector<std::size_t> stage_firsts(const model::Model& model, const std::vector<LayerCost>& costs) const
  {
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
    return firsts;
  }

  /// A stage's forward, backward and last backward (cut at its buckets) as segments: runs of its
  /// layers between the tensor-parallel all-reduces (none with t = 1).
  void make_segments(const model::Model& sub, const std::vector<LayerCost>& costs, const std::vector<Bucket>& buckets,
                     double bytes_per_element_per_sample)
  {
    const auto allreduce = [&](const model::Layer& l, bool forward) {
      const bool splits = tp_ > 1 && l.split != model::TensorSplit::none && l.split_allreduce_elements_per_sample > 0 &&
                          (l.split == model::TensorSplit::column) != forward;
      return splits ? l.split_allreduce_elements_per_sample * bytes_per_element_per_sample : 0.0;
    };
    // Expert parallelism: tokens go to their experts' GPUs before an expert layer that dispatches,
    // and come back after one that combines (backward: their gradients, the other way round).
    const auto dispatch = [&](const model::Layer& l) {
      return ep_ > 1 ? l.dispatch_elements_per_sample * bytes_per_element_per_sample : 0.0;
    };
    const auto combine = [&](const model::Layer& l) {
      return ep_ > 1 ? l.combine_elements_per_sample * bytes_per_element_per_sample : 0.0;
    };
    // Sequence parallelism: a column layer's backward first gathers its sharded input.
    const auto input_gather = [&](const model::Layer& l) {
      const bool gathers = tp_ > 1 && t_.sequence_parallel && l.split == model::TensorSplit::column &&
                           l.split_allreduce_elements_per_sample > 0;
      return gathers ? l.split_allreduce_elements_per_sample * bytes_per_element_per_sample : 0.0;
    };
    std::vector<int> bucket_from(sub.layers.size(), -1);  // the bucket whose first layer it is
    std::vector<int> bucket_top(sub.layers.size(), -1);   // the bucket whose last layer it is
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      bucket_from[buckets[b].first_layer] = static_cast<int>(b);
      bucket_top[buckets[b].first_layer + buckets[b].layers - 1] = static_cast<int>(b);
    }
    // ZeRO stage 3 gathers a bucket's parameters before its first layer runs forward and before its
    // last layer runs backward (buckets without parameters need none).
    const auto gathered = [&](int b) {
      return t_.zero_stage == 3 && b >= 0 && buckets[std::size_t(b)].gradient_bytes > 0;
    };
    std::vector<Segment> fwd, bwd, last;
    Segment run;
    bool experts = false;  // between a dispatch and its combine
    for (std::size_t l = 0; l < sub.layers.size(); ++l) {
      if (gathered(bucket_from[l])) {
        if (run.seconds > 0 || run.gather >= 0)
          fwd.push_back(run);
        run = {};
        run.gather = bucket_from[l];
      }
      if (const double bytes = dispatch(sub.layers[l]); bytes > 0) {
        run.alltoall_bytes = bytes;
        fwd.push_back(std::exchange(run, {}));
        experts = true;
      }
      run.seconds += costs[l].forward_seconds;
      if (experts)
        run.expert_seconds += costs[l].forward_seconds;
      if (const double bytes = allreduce(sub.layers[l], true); bytes > 0) {
        run.allreduce_bytes = bytes;
        fwd.push_back(run);
        run = {};
      }
      if (const double bytes = combine(sub.layers[l]); bytes > 0) {
        run.alltoall_bytes = bytes;
        run.alltoall_back = true;
        fwd.push_back(std::exchange(run, {}));
        experts = false;
      }
    }
    if (run.seconds > 0 || run.gather >= 0 || fwd.empty())
      fwd.push_back(run);
    Segment plain, cut;
    for (std::size_t l = sub.layers.size(); l-- > 0;) {
      if (gathered(bucket_top[l])) {
        if (cut.seconds > 0 || cut.gather >= 0)
          last.push_back(cut);
        cut = {};
        cut.gather = bucket_top[l];
      }
      if (const double g = input_gather(sub.layers[l]); g > 0) {
        if (plain.seconds > 0)
          bwd.push_back(std::exchange(plain, {}));
        if (cut.seconds > 0)
          last.push_back(std::exchange(cut, {}));
        plain.tensor_gather_bytes = cut.tensor_gather_bytes = g;
      }
      if (const double a = combine(sub.layers[l]); a > 0) {  // the outputs' gradients to the experts
        plain.alltoall_bytes = cut.alltoall_bytes = a;
        bwd.push_back(std::exchange(plain, {}));
        last.push_back(std::exchange(cut, {}));
        experts = true;
      }
      plain.seconds += costs[l].backward_seconds;
      cut.seconds += costs[l].backward_seconds;
      if (experts) {
        plain.expert_seconds += costs[l].backward_seconds;
        cut.expert_seconds += costs[l].backward_seconds;
      }
      const double bytes = allreduce(sub.layers[l], false);
      const double back = dispatch(sub.layers[l]);  // the inputs' gradients back to the tokens' GPUs
      if (back > 0)
        experts = false;
      if (bytes > 0 || back > 0) {
        plain.allreduce_bytes = bytes;
        plain.alltoall_bytes = back;
        plain.alltoall_back = back > 0;
        bwd.push_back(plain);
        plain = {};
      }
      if (bytes > 0 || back > 0 || bucket_from[l] >= 0) {
        cut.allreduce_bytes = bytes;
        cut.alltoall_bytes = back;
        cut.alltoall_back = back > 0;
        cut.bucket = bucket_from[l];
        last.push_back(cut);
        cut = {};
      }
    }
    if (plain.seconds > 0 || bwd.empty())
      bwd.push_back(plain);
    if (cut.seconds > 0 || cut.gather >= 0 || last.empty())
      last.push_back(cut);
    forward_segments_.push_back(std::move(fwd));
    backward_segments_.push_back(std::move(bwd));
    last_segments_.push_back(std::move(last));
  }

  void after(std::uint32_t before, std::uint32_t task)
  {
    if (before != NONE)
      result_.plan.graph.add_dependency(before, task);
  }

  /// Alpha-beta seconds of a ring `op` (allreduce, or sequence parallelism's allgather) of `bytes`
  /// over a tensor-parallel group, summing charged for the all-reduce.
  double tensor_seconds(coll::Op op, const coll::GroupShape& group, double bytes) const
  {
    return op == coll::Op::allreduce ? tensor_allreduce_seconds(group, bytes, s_.gpu.reduce_seconds_per_byte())
                                     : coll::predicted_seconds(op, coll::Algorithm::ring, group, bytes);
  }

  /// The tasks of a collective of `group`'s GPUs after each one's `last`: simulated by `algorithm`,
  /// or with `comm` alpha_beta one delay of `seconds` that all of them share (what GPU 0 would send
  /// in it then counts in alpha_beta_bytes_sent_gpu0). With `record`, the first GPU's task is added
  /// to it.
  std::vector<std::uint32_t> group_collective(coll::Op op, coll::Algorithm algorithm, TensorComm comm,
                                              const coll::GroupShape& group, double bytes, double seconds,
                                              double concurrent, const std::string& label,
                                              const std::vector<std::uint32_t>& last,
                                              std::vector<std::uint32_t>* record)
  {
    TaskGraph& g = result_.plan.graph;
    std::vector<std::uint32_t> tasks;
    if (comm == TensorComm::alpha_beta) {
      tasks.assign(last.size(), g.add_delay(group.first_gpu, Stream::communication, seconds, label));
      if (group.first_gpu == 0)
        result_.alpha_beta_bytes_sent_gpu0 += coll::make_schedule(op, algorithm, group, bytes).bytes_sent_by(0);
    } else {
      PlannedCollective planned = plan_collective(op, algorithm, t_.fidelity, group, bytes, concurrent);
      const std::uint32_t c = g.add_collective(std::move(planned.schedule), std::move(planned.hosts), label);
      tasks = g.collective(c).tasks;
    }
    for (std::size_t k = 0; k < last.size(); ++k)
      after(last[k], tasks[k]);
    if (record)
      record->push_back(tasks[0]);
    return tasks;
  }

  /// The tasks of the tensor-parallel all-reduce (or, with `op` allgather, the sequence-parallel
  /// all-gather) of `bytes` after each GPU's `last` (one per GPU; with alpha_beta one delay that
  /// all of them share).
  std::vector<std::uint32_t> tensor_collective(std::uint32_t s, std::uint32_t i, coll::Op op, double bytes,
                                               bool forward, const std::vector<std::uint32_t>& last)
  {
    const coll::GroupShape& group = tensor_groups_[s * d_ + i];
    const std::string& label = op == coll::Op::allgather ? SEQUENCE_GATHER_LABEL
                               : forward                 ? TENSOR_FORWARD_LABEL
                                                         : TENSOR_BACKWARD_LABEL;
    const bool busiest = s == result_.busiest_stage && i == 0;
    const bool charged = t_.tensor_comm == TensorComm::alpha_beta;
    return group_collective(op, coll::Algorithm::ring, t_.tensor_comm, group, bytes,
                            charged ? tensor_seconds(op, group, bytes) : 0.0, stages_ * d_, label, last,
                            busiest ? &result_.tensor_tasks : nullptr);
  }

  /// The expert group of stage s that starts at replica i, with routing skew its all-to-allv shares
  /// towards the experts' GPUs, or with `back` from them.
  coll::GroupShape alltoall_group(std::uint32_t s, std::uint32_t i, bool back) const
  {
    coll::GroupShape group = experts_.alltoall[s * (d_ / ep_) + i / ep_];
    if (dispatch_shares_)
      group.alltoall_shares = back ? combine_shares_ : dispatch_shares_;
    return group;
  }

  /// The tasks of the expert-parallel all-to-all of `bytes` per GPU among the team of stage s that
  /// starts at replica i, after each GPU's `last` (one per lane).
  std::vector<std::uint32_t> expert_alltoall(std::uint32_t s, std::uint32_t i, double bytes, bool back, bool forward,
                                             const std::vector<std::uint32_t>& last)
  {
    const coll::GroupShape group = alltoall_group(s, i, back);
    const bool busiest = s == result_.busiest_stage && i == 0;
    const bool charged = t_.expert_comm == TensorComm::alpha_beta;
    return group_collective(coll::Op::alltoall, coll::Algorithm::direct, t_.expert_comm, group, bytes,
                            charged ? coll::predicted_seconds(coll::Op::alltoall, coll::Algorithm::direct, group, bytes)
                                    : 0.0,
                            stages_ * d_ / ep_, forward ? ALLTOALL_FORWARD_LABEL : ALLTOALL_BACKWARD_LABEL, last,
                            busiest ? &result_.alltoall_tasks : nullptr);
  }

  /// Segments run by every GPU of the team of stage s that starts at replica i (a tensor-parallel
  /// group, or an expert-parallel group of replicas): each GPU's compute (times its factor), then
  /// the bucket release, then the tensor-parallel all-reduce, then the expert-parallel all-to-all.
  /// Returns each lane's first task; `last` ends as each lane's last. With `bucket_ready` (the last
  /// backward), `bucket_ready[m][b]` is set for released buckets, whose segments take their labels.
  std::vector<std::uint32_t> run_segments(std::uint32_t s, std::uint32_t i, const std::vector<Segment>& segments,
                                          bool forward, const std::string& label, const std::vector<double>& factors,
                                          std::vector<std::uint32_t>& last,
                                          std::vector<std::vector<std::uint32_t>>* bucket_ready = nullptr)
  {
    TaskGraph& g = result_.plan.graph;
    std::vector<std::uint32_t> first(lanes_, NONE);
    for (const Segment& seg : segments) {
      if (seg.tensor_gather_bytes > 0)
        last = tensor_collective(s, i, coll::Op::allgather, seg.tensor_gather_bytes, forward, last);
      for (std::uint32_t k = 0; k < lanes_; ++k) {
        const std::uint32_t gpu = lane_gpu(s, i, k);
        const std::string& name = seg.bucket >= 0 && bucket_ready ? segment_labels_[s][std::size_t(seg.bucket)] : label;
        const double seconds = seg.seconds + seg.expert_seconds * (expert_load_[k] - 1);
        const std::uint32_t task = g.add_delay(gpu, Stream::compute, seconds * factors[k], name);
        if (seg.gather >= 0) {
          const auto b = std::size_t(seg.gather);
          after((forward ? gather_forward_ : gather_backward_)[k][b], task);
          (forward ? gate_forward_ : gate_backward_)[k][b] = last[k];
        }
        after(last[k], task);
        last[k] = task;
        if (first[k] == NONE)
          first[k] = task;
        if (seg.bucket >= 0 && bucket_ready) {
          const Bucket& b = buckets_[s][std::size_t(seg.bucket)];
          std::uint32_t ready = task;
          if (b.release_delay_seconds > 0 && d_ > 1) {
            ready = g.add_delay(gpu, Stream::none, b.release_delay_seconds, "fusion cycle wait");
            g.add_dependency(task, ready);
          }
          (*bucket_ready)[k][std::size_t(seg.bucket)] = ready;
        }
      }
      if (seg.allreduce_bytes > 0)
        last = tensor_collective(s, i, coll::Op::allreduce, seg.allreduce_bytes, forward, last);
      if (seg.alltoall_bytes > 0)
        last = expert_alltoall(s, i, seg.alltoall_bytes, seg.alltoall_back, forward, last);
    }
    return first;
  }

  /// The steps of stage s of the team that starts at replica i in iteration `it`, on its GPUs'
  /// compute streams; each GPU's first forward waits for its `waits` (the previous iteration's
  /// synchronisation), which it then clears.
  void add_stage_compute(std::uint32_t s, std::uint32_t i, int it, Lanes& lanes)
  {
    TaskGraph& g = result_.plan.graph;
    const std::vector<PipelineStep>& order = orders_[s];
    std::vector<std::uint32_t> last(lanes_);
    for (std::uint32_t k = 0; k < lanes_; ++k)
      last[k] = lanes.last[lane_gpu(s, i, k)];
    std::vector<std::vector<std::uint32_t>> bucket_ready(lanes_, std::vector<std::uint32_t>(buckets_[s].size(), NONE));
    std::vector<double> factors(lanes_);  // per GPU, once per iteration: its straggler slowdown and jitter
    for (std::uint32_t k = 0; k < lanes_; ++k)
      factors[k] = compute_factor(s_, lane_gpu(s, i, k), it);
    for (std::size_t step = 0; step < order.size(); ++step) {
      const auto j = static_cast<std::size_t>(order[step].microbatch);
      std::vector<std::uint32_t> first;
      if (order[step].forward) {
        first = run_segments(s, i, forward_segments_[s], true, forward_labels_[j], factors, last);
        if (step == 0)
          for (std::uint32_t k = 0; k < lanes_; ++k) {
            std::vector<std::uint32_t>& waits = lanes.waits[lane_gpu(s, i, k)];
            for (std::uint32_t w : waits)
              g.add_dependency(w, first[k]);
            waits.clear();
          }
        for (std::uint32_t k = 0; k < lanes_; ++k) {
          lanes.first_forward[lane_gpu(s, i, k)][j] = first[k];
          lanes.forward[lane_gpu(s, i, k)][j] = last[k];
        }
      } else {
        const bool final = step + 1 == order.size();
        first = final ? run_segments(s, i, last_segments_[s], false, backward_labels_[j], factors, last, &bucket_ready)
                      : run_segments(s, i, backward_segments_[s], false, backward_labels_[j], factors, last);
        for (std::uint32_t k = 0; k < lanes_; ++k) {
          lanes.backward_in[lane_gpu(s, i, k)][j] = first[k];
          lanes.backward_out[lane_gpu(s, i, k)][j] = last[k];
        }
      }
    }
    for (std::uint32_t k = 0; k < lanes_; ++k) {
      lanes.last[lane_gpu(s, i, k)] = last[k];
      lanes.ready[lane_gpu(s, i, k)] = std::move(bucket_ready[k]);
    }
  }

  /// A micro-batch's activations (or their gradients) from GPU `from` to GPU `to`, between
  /// stages `stage` and `stage + 1`: sent once `produced` ends, needed before `consumer` starts.
  /// The receive is posted ahead (it is not the receiver's communication time, only its wait).
  void p2p(std::uint32_t from, std::uint32_t to, std::uint32_t stage, std::uint32_t produced, std::uint32_t consumer,
           const std::string& label)
  {
    TaskGraph& g = result_.plan.graph;
    coll::Schedule sched(2);
    sched.add_step({{0, 1, result_.stages[stage].send_bytes, 1, 0}});
    const std::uint32_t c = g.add_collective(std::move(sched), {from, to}, label);
    const CollectiveInstance& inst = g.collective(c);
    g.add_dependency(produced, inst.tasks[0]);
    g.add_dependency(inst.tasks[1], consumer);
    g.set_stream(inst.tasks[1], Stream::none);
  }

  /// Each stage's buckets all-reduced over the data-parallel group of each of its tensor ranks,
  /// one after another per GPU; the next iteration's first forward waits for the last. With ZeRO
  /// stage 1 or 2 each bucket is reduce-scattered instead (each GPU keeps the sum of its 1/d);
  /// once all are, each GPU updates its shard and the buckets' parameters are all-gathered. With
  /// stage 3 the parameters are gathered bucket by bucket next iteration (gather_parameters).
  void synchronise_stages(int it, const std::vector<std::vector<std::uint32_t>>& ready,
                          std::vector<std::vector<std::uint32_t>>& waits, std::vector<std::vector<std::uint32_t>>& ends)
  {
    TaskGraph& g = result_.plan.graph;
    TrainingPlan& plan = result_.plan;
    for (std::uint32_t s = 0; s < stages_; ++s)
      for (std::uint32_t k = 0; k < tp_; ++k) {
        std::vector<std::uint32_t> last(d_, NONE);
        const std::vector<Bucket>& buckets = buckets_[s];
        // Bucket b's `bytes` over `group`, whose j-th rank is replica `first` + j `stride`.
        const auto add_over = [&](coll::Op op, std::size_t b, const std::string& label, bool released, double bytes,
                                  const coll::GroupShape& group, std::uint32_t first, std::uint32_t stride,
                                  double concurrent) {
          PlannedCollective planned = plan_collective(op, t_.algorithm, t_.fidelity, group, bytes, concurrent);
          if (it == 0 && k == 0 && first == 0 && op != coll::Op::allgather)
            plan.algorithms.push_back(planned.algorithm);
          if (planned.fidelity == coll::ScheduleFidelity::flow)
            plan.fidelity = planned.fidelity;
          const std::uint32_t c = g.add_collective(std::move(planned.schedule), std::move(planned.hosts), label);
          for (std::uint32_t j = 0; j < group.ranks; ++j) {
            const std::uint32_t i = first + j * stride;
            const std::uint32_t part = g.collective(c).tasks[j];
            if (released)
              g.add_dependency(ready[gpu_of(s, i, k)][b], part);
            after(last[i], part);
            last[i] = part;
          }
        };
        // Bucket b: expert parallelism sends the experts' share over the replicas that hold the
        // same experts, the rest over all of them (expert_bytes_ is 0 without it).
        const auto sync = [&](coll::Op op, std::size_t b, const std::string& label, const std::string& expert_label,
                              bool released) {
          const double experts = expert_bytes_[s][b], dense = buckets[b].gradient_bytes - experts;
          if (dense > 0)
            add_over(op, b, label, released, dense, groups_[s * tp_ + k], 0, 1, stages_ * tp_);
          for (std::uint32_t r = 0; experts > 0 && r < ep_ && d_ / ep_ > 1; ++r)
            add_over(op, b, expert_label, released, experts, experts_.gradients[s * ep_ + r], r, ep_, stages_ * ep_);
        };
        const bool zero = t_.zero_stage > 0;
        for (std::size_t b = 0; b < buckets.size(); ++b)
          sync(zero ? coll::Op::reduce_scatter : coll::Op::allreduce, b, allreduce_labels_[s][b], expert_labels_[s][b],
               true);
        for (std::size_t b = 0; zero && t_.zero_stage < 3 && b < buckets.size(); ++b)
          sync(coll::Op::allgather, b, allgather_labels_[s][b], expert_allgather_labels_[s][b], false);
        for (std::uint32_t i = 0; i < d_; ++i)
          if (last[i] != NONE) {
            ends[gpu_of(s, i, k)].push_back(last[i]);
            waits[gpu_of(s, i, k)].push_back(last[i]);
          }
      }
  }

  const Scenario& s_;
  const TrainingConfig& t_;
  const std::vector<coll::GroupShape>& groups_;
  const std::vector<coll::GroupShape>& tensor_groups_;
  const ExpertGroups& experts_;
  /// ep_: expert-parallel group size, the replicas whose compute is built together (a team);
  /// lanes_: GPUs of a team (tp_ ep_, one of them 1).
  const std::uint32_t stages_, d_, tp_, ep_, lanes_;
  const int m_;
  std::vector<std::vector<PipelineStep>> orders_;  ///< per stage
  std::vector<std::vector<Bucket>> buckets_;       ///< per stage, first_layer within the stage
  /// Per stage: one micro-batch's forward, backward, and the last backward (cut at buckets too).
  std::vector<std::vector<Segment>> forward_segments_, backward_segments_, last_segments_;
  std::vector<std::string> forward_labels_, backward_labels_;      ///< per micro-batch
  std::vector<std::vector<std::string>> segment_labels_;           ///< per stage and bucket: the last backward's
  std::vector<std::vector<std::string>> allreduce_labels_;         ///< per stage and bucket (reduce-scatter with ZeRO)
  std::vector<std::vector<std::string>> allgather_labels_;         ///< per stage and bucket (ZeRO 1 and 2)
  std::vector<std::vector<std::string>> expert_labels_;            ///< per stage and bucket (expert parallelism)
  std::vector<std::vector<std::string>> expert_allgather_labels_;  ///< per stage and bucket (with ZeRO 1 and 2)
  /// Per stage and bucket: the bytes of expert layers' gradients in it (0 with expert 1).
  std::vector<std::vector<double>> expert_bytes_;
  /// Routing skew: per lane, its experts' compute over the balanced one (1 without skew), and the
  /// all-to-allv shares towards the experts' GPUs and back (null without skew).
  std::vector<double> expert_load_;
  std::shared_ptr<const std::vector<double>> dispatch_shares_, combine_shares_;
  std::vector<std::string> gather_forward_labels_, gather_backward_labels_;  ///< per bucket (ZeRO 3)
  /// ZeRO stage 3, per tensor rank and bucket, for the replica being built: its part of the
  /// all-gather that forward (backward) waits for (NONE: none), and the compute task before the
  /// bucket starts forward (backward).
  std::vector<std::vector<std::uint32_t>> gather_forward_, gather_backward_, gate_forward_, gate_backward_;
  PipelineTraining result_;
};

}  // namespace

PipelineTraining build_pipeline_training(const Scenario& s, const model::Model& model,
                                         const std::vector<coll::GroupShape>& stage_groups,
                                         const std::vector<coll::GroupShape>& tensor_groups,
                                         const ExpertGroups& expert_groups)
{
  return PipelineBuilder(s, model, stage_groups, tensor_groups, expert_groups).build();
}

}  // namespace ddlsim
