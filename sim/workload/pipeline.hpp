#pragma once
// Pipeline and tensor parallelism with data parallelism (Megatron-LM's 3D parallelism). The
// model's layers are cut into P stages, and each layer of a stage is split over a tensor-parallel
// group of t GPUs (model::tensor_shard); GPU (s d + i) t + k runs tensor rank k of stage s of
// data-parallel replica i (Megatron-LM's rank order: tensor, data, then pipeline). Each iteration
// a replica runs `microbatches` micro-batches of batch_per_gpu samples through its stages in the
// schedule's order (GPipe, or 1F1B as in PipeDream-Flush and Megatron-LM), sending a
// micro-batch's activations to the next stage after its forward and their gradients back after
// its backward (tensor rank k to tensor rank k); receives are posted ahead, so a transfer starts
// as soon as its sender has the data. Inside a stage, the tensor-parallel group all-reduces a
// split layer's partial outputs (forward) or its input's gradient (backward) before the next
// layer may run, on the compute stream, as Megatron-LM does. Each stage's gradients are
// all-reduced over its data-parallel group (the GPUs of one tensor rank) in buckets (the
// scheduling policy's, over the stage's layers) released during the last micro-batch's
// backward, when they are final; the next iteration's first forward waits for them.
//
// ZeRO (Rajbhandari et al., 2020) runs here too. Stages 1 and 2 reduce-scatter each bucket over
// the data-parallel group instead, and all-gather the updated parameters after the last. Stage 3
// (PyTorch FSDP with full sharding) keeps only a 1/d shard of every parameter: on one stage and
// one micro-batch, each bucket of the policy is a unit whose parameters are all-gathered before
// its forward and again before its backward (except the last unit of the forward, kept for
// backward), its gradients reduce-scattered once its backward ends. A GPU gathers one unit at a
// time, in the order compute needs them, and keeps at most two gathered: the next unit's gather
// starts once the unit before it may start computing (FSDP's prefetch of one unit, forward and
// backward). The next iteration's first gather waits for the GPU's last reduce-scatter.
//
// Expert parallelism (GShard; DeepSpeed-MoE): with expert e, each expert layer's experts are spread
// over e consecutive replicas of a stage, which exchange their tokens all-to-all (direct, as NCCL's
// grouped sends do) before the first expert layer (dispatch) and after the second (combine), and
// the gradients of those the other way in backward; the compute stream waits for each. Expert
// layers' gradients are all-reduced over the d / e replicas holding the same experts, the rest
// over all d, bucket by bucket.
#include "sim/workload/pipeline_schedule.hpp"
#include "sim/workload/pipeline_stage.hpp"
#include "sim/workload/stage_partition.hpp"
#include "sim/workload/training.hpp"

#include <vector>

namespace ddlsim::workload {

/// Alpha-beta seconds of a ring all-reduce of `bytes` over a tensor-parallel group inside a node:
/// 2 (t - 1) (alpha + bytes / (t B)) on the group's route, plus the (t - 1) bytes / t that each
/// GPU sums at `reduce_seconds_per_byte`, as the simulated ring charges them.
double tensor_allreduce_seconds(const coll::GroupShape& group, double bytes, double reduce_seconds_per_byte);

struct PipelineTraining {
  /// iteration_end per GPU; compute_seconds and forward_seconds: the whole model on one GPU
  TrainingPlan plan;
  std::vector<PipelineStage> stages;
  /// The stage of most compute and tensor-parallel communication per iteration.
  std::size_t busiest_stage = 0;
  /// Per GPU and iteration, the busiest stage's compute: m (forward + backward), and of it forward.
  double busiest_compute_seconds = 0;
  double busiest_forward_seconds = 0;
  /// Per GPU and iteration, the busiest stage's tensor-parallel all-reduces at their alpha-beta time.
  double busiest_tensor_seconds = 0;
  /// Per GPU and iteration, the busiest stage's expert-parallel all-to-alls at their alpha-beta time.
  double busiest_alltoall_seconds = 0;
  /// pipeline_compute_seconds of the stages, tensor-parallel all-reduces at their alpha-beta time
  /// included: the busiest stage's compute plus its all-reduces plus its bubble.
  double ideal_seconds = 0;
  /// The tasks in which the busiest stage's first GPU takes part in tensor-parallel all-reduces.
  std::vector<std::uint32_t> tensor_tasks;
  /// The tasks in which the busiest stage's first GPU takes part in expert-parallel all-to-alls.
  std::vector<std::uint32_t> alltoall_tasks;
  /// Bytes GPU 0 would send, over all iterations, in the tensor-parallel and expert-parallel
  /// collectives that alpha_beta charges as delays instead of simulating them.
  double alpha_beta_bytes_sent_gpu0 = 0;
};

/// Expert parallelism's groups, per pipeline stage s (with tensor 1): `alltoall[s (d / e) + g]` the
/// e consecutive replicas g e .. g e + e - 1 that exchange tokens (GPUs s d + g e ..), and
/// `gradients[s e + r]` the d / e replicas r, r + e, ... that hold the same experts and all-reduce
/// their gradients (GPUs s d + r + j e). Empty with expert 1.
struct ExpertGroups {
  std::vector<coll::GroupShape> alltoall, gradients;
};

/// The task graph of `scenario`'s pipeline- and tensor-parallel training. `stage_groups[s t + k]`
/// is the data-parallel group of tensor rank k of stage s (GPUs s d t + k + i t, i < d);
/// `tensor_groups[s d + i]` the tensor-parallel group of stage s of replica i (GPUs (s d + i) t ..
/// (s d + i) t + t - 1; none needed with t = 1).
PipelineTraining build_pipeline_training(const scenario::Scenario& scenario, const model::Model& model,
                                         const std::vector<coll::GroupShape>& stage_groups,
                                         const std::vector<coll::GroupShape>& tensor_groups = {},
                                         const ExpertGroups& expert_groups = {});

}  // namespace ddlsim::workload
