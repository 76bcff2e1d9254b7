// A staged training's tasks: each iteration's compute per GPU, activations between stages, the
// tensor- and expert-parallel collectives, gradient synchronisation and ZeRO's gathers.
#include "sim/workload/pipeline_builder.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace ddlsim::workload {

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

PipelineTraining PipelineBuilder::build()
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

PipelineBuilder::Gathers PipelineBuilder::gather_parameters(std::vector<std::vector<std::uint32_t>>& waits)
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

void PipelineBuilder::limit_gathers(const std::vector<std::size_t>& order,
                                    const std::vector<std::vector<std::uint32_t>>& gates,
                                    const std::vector<std::vector<std::uint32_t>>& gathers)
{
  for (std::uint32_t k = 0; k < tp_; ++k)
    for (std::size_t p = 1; p < order.size(); ++p)
      if (gathers[k][order[p]] != NONE)
        after(gates[k][order[p - 1]], gathers[k][order[p]]);
}

std::uint32_t PipelineBuilder::gpu_of(std::uint32_t stage, std::uint32_t replica, std::uint32_t k) const
{
  return (stage * d_ + replica) * tp_ + k;
}

std::uint32_t PipelineBuilder::lane_gpu(std::uint32_t stage, std::uint32_t replica, std::uint32_t m) const
{
  return gpu_of(stage, replica + m / tp_, m % tp_);
}

void PipelineBuilder::after(std::uint32_t before, std::uint32_t task)
{
  if (before != NONE)
    result_.plan.graph.add_dependency(before, task);
}

std::vector<std::uint32_t> PipelineBuilder::group_collective(coll::Op op, coll::Algorithm algorithm, TensorComm comm,
                                                             const coll::GroupShape& group, double bytes,
                                                             double seconds, double concurrent,
                                                             const std::string& label,
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

std::vector<std::uint32_t> PipelineBuilder::tensor_collective(std::uint32_t s, std::uint32_t i, coll::Op op,
                                                              double bytes, bool forward,
                                                              const std::vector<std::uint32_t>& last)
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

std::vector<std::uint32_t> PipelineBuilder::expert_alltoall(std::uint32_t s, std::uint32_t i, double bytes, bool back,
                                                            bool forward, const std::vector<std::uint32_t>& last)
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

std::vector<std::uint32_t> PipelineBuilder::run_segments(std::uint32_t s, std::uint32_t i,
                                                         const std::vector<Segment>& segments, bool forward,
                                                         const std::string& label, const std::vector<double>& factors,
                                                         std::vector<std::uint32_t>& last,
                                                         std::vector<std::vector<std::uint32_t>>* bucket_ready)
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

void PipelineBuilder::add_stage_compute(std::uint32_t s, std::uint32_t i, int it, Lanes& lanes)
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

void PipelineBuilder::p2p(std::uint32_t from, std::uint32_t to, std::uint32_t stage, std::uint32_t produced,
                          std::uint32_t consumer, const std::string& label)
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

void PipelineBuilder::synchronise_stages(int it, const std::vector<std::vector<std::uint32_t>>& ready,
                                         std::vector<std::vector<std::uint32_t>>& waits,
                                         std::vector<std::vector<std::uint32_t>>& ends)
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

}  // namespace ddlsim::workload
