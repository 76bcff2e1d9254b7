#include "sim/report/training_sections.hpp"

#include "sim/workload/memory.hpp"

#include <fmt/format.h>

namespace ddlsim::report {

using namespace ddlsim::scenario;
using namespace ddlsim::workload;
using nlohmann::json;

json pipeline_json(const Scenario& s, const model::Model& model, const PipelineTraining& pt)
{
  const TrainingConfig& t = s.training;
  json stages = json::array();
  for (const PipelineStage& st : pt.stages)
    stages.push_back({{"layers", st.layers},
                      {"first_layer", model.layers[st.first_layer].name},
                      {"last_layer", model.layers[st.first_layer + st.layers - 1].name},
                      {"forward_s", st.forward_seconds},
                      {"backward_s", st.backward_seconds},
                      {"gradient_bytes", st.gradient_bytes},
                      {"send_bytes", st.send_bytes},
                      {"micro_batches_in_flight", st.in_flight},
                      {"activation_bytes_in_flight", st.in_flight * st.activation_bytes}});
  return {{"stages", t.pipeline_parallel},
          {"microbatches", t.microbatches},
          {"schedule", to_string(t.pipeline_schedule)},
          {"samples_per_iteration", double(t.batch_per_gpu) * t.microbatches * t.data_parallel},
          {"ideal_iteration_s", pt.ideal_seconds},
          {"bubble_fraction", 1 - pt.busiest_compute_seconds / pt.ideal_seconds},
          {"per_stage", stages}};
}

json tensor_json(const Scenario& s, const PipelineTraining& pt)
{
  const TrainingConfig& t = s.training;
  json stages = json::array();
  for (const PipelineStage& st : pt.stages)
    stages.push_back({{"allreduces_forward", st.tensor_allreduces_forward},
                      {"allreduces_backward", st.tensor_allreduces_backward},
                      {"bytes_forward", st.tensor_bytes_forward},
                      {"bytes_backward", st.tensor_bytes_backward},
                      {"alpha_beta_forward_s", st.tensor_forward_seconds},
                      {"alpha_beta_backward_s", st.tensor_backward_seconds},
                      {"allgathers_backward", st.tensor_allgathers_backward},
                      {"allgather_bytes_backward", st.tensor_gather_bytes_backward}});
  return {{"size", t.tensor_parallel},
          {"comm", to_string(t.tensor_comm)},
          {"sequence_parallel", t.sequence_parallel},
          {"algorithm", "ring"},
          {"note", t.sequence_parallel
                       ? "per micro-batch and GPU: the tensor-parallel group's reduce-scatters and all-gathers, costed "
                         "as the all-reduces they add up to (two per transformer block each way, the embedding's in "
                         "forward, the LM head's input gradient in backward), plus in backward an all-gather of each "
                         "column-parallel layer's sharded input; on the compute stream"
                       : "per micro-batch and GPU: the tensor-parallel group's all-reduces (Megatron-LM's split: two "
                         "per transformer block each way, the embedding's in forward, the LM head's input gradient in "
                         "backward), on the compute stream"},
          {"per_stage", stages}};
}

json expert_json(const Scenario& s, const model::Model& model, const PipelineTraining& pt)
{
  const TrainingConfig& t = s.training;
  int layers = 0;
  for (const model::Layer& l : model.layers)
    layers += l.dispatch_elements_per_sample > 0 ? 1 : 0;
  json stages = json::array();
  for (const PipelineStage& st : pt.stages)
    stages.push_back({{"alltoalls_forward", st.alltoalls_forward},
                      {"alltoalls_backward", st.alltoalls_backward},
                      {"bytes_forward", st.alltoall_bytes_forward},
                      {"bytes_backward", st.alltoall_bytes_backward},
                      {"alpha_beta_forward_s", st.alltoall_forward_seconds},
                      {"alpha_beta_backward_s", st.alltoall_backward_seconds},
                      {"expert_gradient_bytes", st.expert_gradient_bytes}});
  return {{"size", t.expert_parallel},
          {"experts_per_layer", model::max_experts(model)},
          {"experts_per_gpu", model::max_experts(model) / t.expert_parallel},
          {"moe_layers", layers},
          {"algorithm", "direct"},
          {"comm", to_string(t.expert_comm)},
          {"zipf", t.expert_zipf},
          {"gradient_group", t.data_parallel / t.expert_parallel},
          {"note", "per micro-batch and GPU: the expert-parallel group's all-to-alls (dispatch before and combine "
                   "after each mixture-of-experts feed-forward, their gradients in backward; bytes: what a GPU sends, "
                   "its own share included), on the compute stream; expert gradients are all-reduced over the "
                   "gradient_group replicas that hold the same experts"},
          {"per_stage", stages}};
}

json zero_json(const TrainingConfig& t, const TrainingPlan& plan, const PipelineTraining& pt)
{
  const auto d = static_cast<std::uint32_t>(t.data_parallel);
  // What the busiest stage's GPUs keep of its parameters, gradients and Adam's state.
  const PipelineStage& busiest = pt.stages[pt.busiest_stage];
  const ZeroShares shares = zero_shares(t, busiest.gradient_bytes, busiest.expert_gradient_bytes);
  // Per GPU and iteration: one all-gather per bucket with parameters (stage 3: two, but for the
  // unit that keeps its parameters from forward to backward); none without replicas.
  long long units = 0;
  for (const Bucket& b : plan.buckets)
    units += b.gradient_bytes > 0 ? 1 : 0;
  // With expert parallelism a bucket's experts are gathered over their own replicas: one more.
  const long long gathers = d < 2 || units == 0     ? 0
                            : t.zero_stage == 3     ? 2 * units - 1
                            : t.expert_parallel > 1 ? static_cast<long long>(plan.slices)
                                                    : units;
  return {{"stage", t.zero_stage},
          {"allgathers_per_iteration", gathers},
          {"note", t.zero_stage == 3
                       ? "each bucket is a unit whose parameters are all-gathered over the data-parallel group before "
                         "its forward and again before its backward (the last unit of the forward keeps them), "
                         "at most two units gathered at once; its gradients are reduce-scattered as backward "
                         "releases it; each GPU keeps and updates a 1/d shard of parameters, gradients and "
                         "optimizer states"
                       : "each bucket is reduce-scattered over the data-parallel group as backward releases it; once "
                         "all are, each GPU updates its 1/d shard and the buckets' parameters are all-gathered "
                         "before the next forward"},
          {"bytes_per_gpu",
           {{"parameters", shares.parameters},
            {"gradients", shares.gradients},
            {"optimizer_states", shares.optimizer_states}}}};
}

}  // namespace ddlsim::report
