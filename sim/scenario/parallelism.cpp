// workload.parallelism: data, tensor, pipeline, ZeRO and expert parallelism, each checked against
// the cluster and against the others.
#include "sim/scenario/sections.hpp"

#include "sim/scenario/error.hpp"

#include <fmt/format.h>

namespace ddlsim::scenario {

namespace {

/// The expert-parallel options (expert_comm, expert_zipf), which apply only with expert above 1,
/// and expert parallelism's limits.
void parse_expert(const JsonNode& par, int gpus_per_node, TrainingConfig& t)
{
  if (t.expert_parallel > 1) {
    const JsonNode e = par.child("expert");
    const int ep = t.expert_parallel;
    if (t.data_parallel % ep != 0)
      e.fail(fmt::format("found {}; an expert-parallel group is {} of the {} data-parallel replicas; expected a "
                         "divisor of data ({})",
                         ep, ep, t.data_parallel, t.data_parallel));
    if (ep % gpus_per_node != 0 && gpus_per_node % ep != 0)
      e.fail(fmt::format("found {}; an expert-parallel group runs on {} consecutive GPUs, which must fill whole "
                         "nodes or divide one; expected a multiple or a divisor of gpus_per_node ({})",
                         ep, ep, gpus_per_node));
    if (t.tensor_parallel > 1)
      e.fail(fmt::format("found {} with tensor {}; expert parallelism with tensor parallelism is not modelled; "
                         "expected tensor 1, or expert 1 (with tensor parallelism alone every GPU holds 1/t of "
                         "every expert)",
                         ep, t.tensor_parallel));
    if (t.zero_stage == 3)
      e.fail(fmt::format("found {} with ZeRO stage 3; ZeRO stage 3 with expert parallelism is not modelled; "
                         "expected zero 0, 1 or 2",
                         ep));
    t.expert_comm = static_cast<TensorComm>(par.choice_or("expert_comm", {"simulate", "alpha_beta"}, 0));
    t.expert_zipf = par.number_or("expert_zipf", 0, Bound::non_negative);
  } else {
    for (const char* key : {"expert_comm", "expert_zipf"})
      if (par.has(key))
        par.child(key).fail(fmt::format("'{}' applies to expert parallelism; expected 'expert' above 1", key));
  }
}

/// microbatches and schedule, which apply only with pipeline stages.
void parse_pipeline(const JsonNode& par, TrainingConfig& t)
{
  if (t.pipeline_parallel == 1) {
    if (par.has("schedule"))
      par.child("schedule").fail("'schedule' applies to pipeline parallelism; expected 'pipeline' above 1");
    if (const long long m = par.integer_or("microbatches", 1, 1); m != 1)
      par.child("microbatches")
          .fail(fmt::format("found {}; without pipeline stages (pipeline 1) a replica runs its batch as one "
                            "micro-batch (gradient accumulation is not modelled); expected 1",
                            m));
  } else {
    if (!par.has("microbatches"))
      par.fail(fmt::format("pipeline {} needs 'microbatches' (micro-batches of batch_per_gpu samples that each "
                           "data-parallel replica runs through its stages per iteration; expected a whole number, "
                           "typically a few times the stages)",
                           t.pipeline_parallel));
    t.microbatches = par.int_value("microbatches", 1);
    t.pipeline_schedule = static_cast<PipelineSchedule>(par.choice_or("schedule", {"1f1b", "gpipe"}, 0));
  }
}

}  // namespace

void parse_parallelism(const JsonNode& par, int gpus, int gpus_per_node, TrainingConfig& t)
{
  par.allow_keys({"data", "tensor", "pipeline", "microbatches", "schedule", "tensor_comm", "sequence", "zero", "expert",
                  "expert_comm", "expert_zipf"});
  t.data_parallel = par.int_or("data", gpus, 1);
  t.tensor_parallel = par.int_or("tensor", 1, 1);
  t.pipeline_parallel = par.int_or("pipeline", 1, 1);
  const long long product = 1LL * t.data_parallel * t.tensor_parallel * t.pipeline_parallel;
  if (product != gpus)
    par.fail(fmt::format("data {} x tensor {} x pipeline {} = {} GPUs, but the cluster has {} GPUs", t.data_parallel,
                         t.tensor_parallel, t.pipeline_parallel, product, gpus));
  if (t.tensor_parallel > 1 && gpus_per_node % t.tensor_parallel != 0)
    par.child("tensor").fail(fmt::format(
        "found {}; a tensor-parallel group runs inside one node (its all-reduces, several per layer, need the "
        "node's links); expected a divisor of gpus_per_node ({})",
        t.tensor_parallel, gpus_per_node));
  t.zero_stage = par.int_or("zero", 0, 0);
  if (t.zero_stage > 3)
    par.child("zero").fail(fmt::format("found {}; expected a ZeRO stage: 0, 1, 2 or 3", t.zero_stage));
  if (t.zero_stage == 3 && t.pipeline_parallel > 1)
    par.child("zero").fail(fmt::format(
        "found 3 with pipeline {}; ZeRO stage 3 (FSDP) with pipeline stages is not modelled (each stage would "
        "gather its parameters for every micro-batch); expected pipeline 1, or ZeRO stage 0, 1 or 2",
        t.pipeline_parallel));
  t.expert_parallel = par.int_or("expert", 1, 1);
  parse_expert(par, gpus_per_node, t);
  if (t.tensor_parallel > 1) {
    t.tensor_comm = static_cast<TensorComm>(par.choice_or("tensor_comm", {"simulate", "alpha_beta"}, 0));
    t.sequence_parallel = par.boolean_or("sequence", false);
  } else {
    for (const char* key : {"tensor_comm", "sequence"})
      if (par.has(key))
        par.child(key).fail(fmt::format("'{}' applies to tensor parallelism; expected 'tensor' above 1", key));
  }
  parse_pipeline(par, t);
  // GPU (s d + i) t + k runs tensor rank k of stage s of replica i (Megatron-LM's order: tensor,
  // data, then pipeline); each stage's d t GPUs must be whole nodes or part of one.
  const int stage_gpus = t.data_parallel * t.tensor_parallel;
  if (t.model_parallel() > 1 && stage_gpus % gpus_per_node != 0 && gpus_per_node % stage_gpus != 0)
    par.child("data").fail(fmt::format(
        "found {}; each pipeline stage runs on data x tensor = {} consecutive GPUs, which must fill whole nodes "
        "or divide one; expected data x tensor to be a multiple or a divisor of gpus_per_node ({})",
        t.data_parallel, stage_gpus, gpus_per_node));
}

}  // namespace ddlsim::scenario
