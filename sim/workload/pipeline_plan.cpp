// A staged training's plan: what each stage runs and holds, and its compute cut into segments
// between collectives.
#include "sim/workload/pipeline_builder.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace ddlsim::workload {

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

PipelineBuilder::PipelineBuilder(const Scenario& s, const model::Model& model,
                                 const std::vector<coll::GroupShape>& groups,
                                 const std::vector<coll::GroupShape>& tensor_groups, const ExpertGroups& experts)
    : s_(s), t_(s.training), groups_(groups), tensor_groups_(tensor_groups), experts_(experts),
      stages_(static_cast<std::uint32_t>(t_.pipeline_parallel)), d_(static_cast<std::uint32_t>(t_.data_parallel)),
      tp_(static_cast<std::uint32_t>(t_.tensor_parallel)), ep_(static_cast<std::uint32_t>(t_.expert_parallel)),
      lanes_(tp_ * ep_), m_(t_.microbatches)
{
  check_groups();
  // What one GPU runs: its share of each split layer and its experts. A measured single-GPU
  // iteration scales the shares by measured / modelled of the whole model.
  const model::Model shard =
      model::expert_shard(model::tensor_shard(model, t_.tensor_parallel, t_.sequence_parallel), t_.expert_parallel);
  const std::vector<LayerCost> full = layer_costs(model, t_, s.gpu, s.profile.get());
  const std::vector<LayerCost> costs = tp_ > 1 ? shard_costs(model, shard) : full;
  set_routing_skew();
  hottest_ = *std::max_element(expert_load_.begin(), expert_load_.end());
  TrainingPlan& plan = result_.plan;
  plan.forward_seconds = plan.compute_seconds = plan.gradient_bytes = 0;
  for (const LayerCost& c : full) {
    plan.forward_seconds += c.forward_seconds;
    plan.compute_seconds += c.forward_seconds + c.backward_seconds;
  }
  plan.fidelity = coll::ScheduleFidelity::step;
  const std::vector<std::size_t> firsts = stage_firsts(model, costs);
  double busiest = -1;
  for (std::uint32_t st_index = 0; st_index < stages_; ++st_index) {
    model::Model sub{model.name, {}};
    std::vector<LayerCost> sub_costs;
    PipelineStage st = stage_layers(st_index, firsts, model, shard, costs, sub, sub_costs);
    plan_buckets(st, st_index, sub, sub_costs);
    if (tp_ > 1)
      count_tensor_collectives(st, st_index);
    if (ep_ > 1)
      count_alltoalls(st, st_index);
    record_stage(st, st_index, busiest);
  }
  std::vector<PipelineStage> with_tensor = result_.stages;
  for (PipelineStage& st : with_tensor) {
    st.forward_seconds +=
        st.tensor_forward_seconds + st.alltoall_forward_seconds + st.expert_forward_seconds * (hottest_ - 1);
    st.backward_seconds +=
        st.tensor_backward_seconds + st.alltoall_backward_seconds + st.expert_backward_seconds * (hottest_ - 1);
  }
  result_.ideal_seconds = pipeline_compute_seconds(with_tensor, t_.pipeline_schedule, m_);
  make_labels();
}

void PipelineBuilder::check_groups() const
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
}

std::vector<LayerCost> PipelineBuilder::shard_costs(const model::Model& model, const model::Model& shard) const
{
  TrainingConfig unscaled = t_;
  unscaled.compute.iteration_seconds = 0;
  unscaled.recompute = Recompute::none;
  std::vector<LayerCost> costs = layer_costs(shard, unscaled, s_.gpu, s_.profile.get());
  if (t_.compute.iteration_seconds > 0) {
    double modelled = 0;
    for (const LayerCost& c : layer_costs(model, unscaled, s_.gpu, s_.profile.get()))
      modelled += c.forward_seconds + c.backward_seconds;
    for (LayerCost& c : costs) {
      c.forward_seconds *= t_.compute.iteration_seconds / modelled;
      c.backward_seconds *= t_.compute.iteration_seconds / modelled;
    }
  }
  add_recomputation(shard, t_.recompute, costs);
  return costs;
}

void PipelineBuilder::set_routing_skew()
{
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
}

PipelineStage PipelineBuilder::stage_layers(std::uint32_t st_index, const std::vector<std::size_t>& firsts,
                                            const model::Model& model, const model::Model& shard,
                                            const std::vector<LayerCost>& costs, model::Model& sub,
                                            std::vector<LayerCost>& sub_costs) const
{
  const double e = bytes_per_element(t_.precision);
  const double batch = t_.batch_per_gpu;
  PipelineStage st;
  st.first_layer = firsts[st_index];
  st.layers = (st_index + 1 < stages_ ? firsts[st_index + 1] : model.layers.size()) - st.first_layer;
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
  return st;
}

void PipelineBuilder::plan_buckets(PipelineStage& st, std::uint32_t st_index, const model::Model& sub,
                                   const std::vector<LayerCost>& sub_costs)
{
  const double e = bytes_per_element(t_.precision);
  const double batch = t_.batch_per_gpu;
  TrainingPlan& plan = result_.plan;
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
}

void PipelineBuilder::count_tensor_collectives(PipelineStage& st, std::uint32_t st_index) const
{
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

void PipelineBuilder::count_alltoalls(PipelineStage& st, std::uint32_t st_index) const
{
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
  count(backward_segments_.back(), st.alltoalls_backward, st.alltoall_bytes_backward, st.alltoall_backward_seconds);
}

void PipelineBuilder::record_stage(const PipelineStage& st, std::uint32_t st_index, double& busiest)
{
  // The hottest GPU's experts (GPU 0's with routing skew) take `hottest_` times their balanced time.
  const double compute = m_ * (st.forward_seconds + st.backward_seconds +
                               (st.expert_forward_seconds + st.expert_backward_seconds) * (hottest_ - 1));
  const double tensor = m_ * (st.tensor_forward_seconds + st.tensor_backward_seconds);
  const double alltoall = m_ * (st.alltoall_forward_seconds + st.alltoall_backward_seconds);
  if (compute + tensor + alltoall > busiest) {
    busiest = compute + tensor + alltoall;
    result_.busiest_stage = st_index;
    result_.busiest_compute_seconds = compute;
    result_.busiest_forward_seconds = m_ * (st.forward_seconds + st.expert_forward_seconds * (hottest_ - 1));
    result_.busiest_tensor_seconds = tensor;
    result_.busiest_alltoall_seconds = alltoall;
  }
  result_.stages.push_back(st);
}

void PipelineBuilder::make_labels()
{
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

std::vector<std::size_t> PipelineBuilder::stage_firsts(const model::Model& model,
                                                       const std::vector<LayerCost>& costs) const
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

namespace {

/// What a layer of a stage exchanges around its compute, in bytes per GPU for one micro-batch.
struct LayerTraffic {
  std::uint32_t tp, ep;
  bool sequence_parallel;
  double bytes_per_element_per_sample;

  /// A split layer's tensor-parallel all-reduce: of its output (row split) forward, of its input's
  /// gradient (column split) backward.
  double allreduce(const model::Layer& l, bool forward) const
  {
    const bool splits = tp > 1 && l.split != model::TensorSplit::none && l.split_allreduce_elements_per_sample > 0 &&
                        (l.split == model::TensorSplit::column) != forward;
    return splits ? l.split_allreduce_elements_per_sample * bytes_per_element_per_sample : 0.0;
  }
  /// Expert parallelism: tokens go to their experts' GPUs before an expert layer that dispatches,
  /// and come back after one that combines (backward: their gradients, the other way round).
  double dispatch(const model::Layer& l) const
  {
    return ep > 1 ? l.dispatch_elements_per_sample * bytes_per_element_per_sample : 0.0;
  }
  double combine(const model::Layer& l) const
  {
    return ep > 1 ? l.combine_elements_per_sample * bytes_per_element_per_sample : 0.0;
  }
  /// Sequence parallelism: a column layer's backward first gathers its sharded input.
  double input_gather(const model::Layer& l) const
  {
    const bool gathers = tp > 1 && sequence_parallel && l.split == model::TensorSplit::column &&
                         l.split_allreduce_elements_per_sample > 0;
    return gathers ? l.split_allreduce_elements_per_sample * bytes_per_element_per_sample : 0.0;
  }
};

/// Per layer of a stage: the bucket whose first layer it is, and whose last (-1: none).
struct BucketEdges {
  std::vector<int> from, top;
};

BucketEdges bucket_edges(std::size_t layers, const std::vector<Bucket>& buckets)
{
  BucketEdges edges{std::vector<int>(layers, -1), std::vector<int>(layers, -1)};
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    edges.from[buckets[b].first_layer] = static_cast<int>(b);
    edges.top[buckets[b].first_layer + buckets[b].layers - 1] = static_cast<int>(b);
  }
  return edges;
}

/// One micro-batch's forward as segments, first layer first. `gathered(b)`: whether bucket b's
/// parameters are all-gathered before it runs (ZeRO stage 3). `experts`: whether the layer is
/// between a dispatch and its combine (false to start; backward_runs goes on from where it ends).
template <class Gathered>
std::vector<Segment> forward_runs(const model::Model& sub, const std::vector<LayerCost>& costs,
                                  const LayerTraffic& traffic, const BucketEdges& edges, const Gathered& gathered,
                                  bool& experts)
{
  std::vector<Segment> fwd;
  Segment run;
  for (std::size_t l = 0; l < sub.layers.size(); ++l) {
    if (gathered(edges.from[l])) {
      if (run.seconds > 0 || run.gather >= 0)
        fwd.push_back(run);
      run = {};
      run.gather = edges.from[l];
    }
    if (const double bytes = traffic.dispatch(sub.layers[l]); bytes > 0) {
      run.alltoall_bytes = bytes;
      fwd.push_back(std::exchange(run, {}));
      experts = true;
    }
    run.seconds += costs[l].forward_seconds;
    if (experts)
      run.expert_seconds += costs[l].forward_seconds;
    if (const double bytes = traffic.allreduce(sub.layers[l], true); bytes > 0) {
      run.allreduce_bytes = bytes;
      fwd.push_back(run);
      run = {};
    }
    if (const double bytes = traffic.combine(sub.layers[l]); bytes > 0) {
      run.alltoall_bytes = bytes;
      run.alltoall_back = true;
      fwd.push_back(std::exchange(run, {}));
      experts = false;
    }
  }
  if (run.seconds > 0 || run.gather >= 0 || fwd.empty())
    fwd.push_back(run);
  return fwd;
}

/// One micro-batch's backward as segments, last layer first: `bwd` as every micro-batch but the
/// last runs it, `last` also cut where a bucket's gradients are complete.
template <class Gathered>
std::pair<std::vector<Segment>, std::vector<Segment>>
backward_runs(const model::Model& sub, const std::vector<LayerCost>& costs, const LayerTraffic& traffic,
              const BucketEdges& edges, const Gathered& gathered, bool experts)
{
  std::vector<Segment> bwd, last;
  Segment plain, cut;
  for (std::size_t l = sub.layers.size(); l-- > 0;) {
    if (gathered(edges.top[l])) {
      if (cut.seconds > 0 || cut.gather >= 0)
        last.push_back(cut);
      cut = {};
      cut.gather = edges.top[l];
    }
    if (const double g = traffic.input_gather(sub.layers[l]); g > 0) {
      if (plain.seconds > 0)
        bwd.push_back(std::exchange(plain, {}));
      if (cut.seconds > 0)
        last.push_back(std::exchange(cut, {}));
      plain.tensor_gather_bytes = cut.tensor_gather_bytes = g;
    }
    if (const double a = traffic.combine(sub.layers[l]); a > 0) {  // the outputs' gradients to the experts
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
    const double bytes = traffic.allreduce(sub.layers[l], false);
    const double back = traffic.dispatch(sub.layers[l]);  // the inputs' gradients back to the tokens' GPUs
    if (back > 0)
      experts = false;
    if (bytes > 0 || back > 0) {
      plain.allreduce_bytes = bytes;
      plain.alltoall_bytes = back;
      plain.alltoall_back = back > 0;
      bwd.push_back(plain);
      plain = {};
    }
    if (bytes > 0 || back > 0 || edges.from[l] >= 0) {
      cut.allreduce_bytes = bytes;
      cut.alltoall_bytes = back;
      cut.alltoall_back = back > 0;
      cut.bucket = edges.from[l];
      last.push_back(cut);
      cut = {};
    }
  }
  if (plain.seconds > 0 || bwd.empty())
    bwd.push_back(plain);
  if (cut.seconds > 0 || cut.gather >= 0 || last.empty())
    last.push_back(cut);
  return {std::move(bwd), std::move(last)};
}

}  // namespace

void PipelineBuilder::make_segments(const model::Model& sub, const std::vector<LayerCost>& costs,
                                    const std::vector<Bucket>& buckets, double bytes_per_element_per_sample)
{
  const LayerTraffic traffic{tp_, ep_, t_.sequence_parallel, bytes_per_element_per_sample};
  const BucketEdges edges = bucket_edges(sub.layers.size(), buckets);
  // ZeRO stage 3 gathers a bucket's parameters before its first layer runs forward and before its
  // last layer runs backward (buckets without parameters need none).
  const auto gathered = [&](int b) {
    return t_.zero_stage == 3 && b >= 0 && buckets[std::size_t(b)].gradient_bytes > 0;
  };
  bool experts = false;
  forward_segments_.push_back(forward_runs(sub, costs, traffic, edges, gathered, experts));
  auto [bwd, last] = backward_runs(sub, costs, traffic, edges, gathered, experts);
  backward_segments_.push_back(std::move(bwd));
  last_segments_.push_back(std::move(last));
}

double PipelineBuilder::tensor_seconds(coll::Op op, const coll::GroupShape& group, double bytes) const
{
  return op == coll::Op::allreduce ? tensor_allreduce_seconds(group, bytes, s_.gpu.reduce_seconds_per_byte())
                                   : coll::predicted_seconds(op, coll::Algorithm::ring, group, bytes);
}

coll::GroupShape PipelineBuilder::alltoall_group(std::uint32_t s, std::uint32_t i, bool back) const
{
  coll::GroupShape group = experts_.alltoall[s * (d_ / ep_) + i / ep_];
  if (dispatch_shares_)
    group.alltoall_shares = back ? combine_shares_ : dispatch_shares_;
  return group;
}

}  // namespace ddlsim::workload
