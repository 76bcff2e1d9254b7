#pragma once
// The sections of a training run's report.json that describe its configuration, its parallel
// layout and its estimates; the runner (sim/runner/training_run.cpp) adds the simulated times.
// training_sections.cpp: configuration, throughput, statistics; parallel_sections.cpp: pipeline,
// tensor, expert, ZeRO; estimates.cpp: memory and failures.
#include "sim/engine/executor.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/pipeline.hpp"
#include "sim/workload/training.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <vector>

namespace ddlsim::report {

/// The names of the algorithms a run used, in order.
nlohmann::json algorithm_names(const std::vector<coll::Algorithm>& used);

/// Where layer times come from, as the report says it.
std::string compute_model_name(const scenario::Scenario& s);

/// Samples per second, and tokens per second for sequence models.
nlohmann::json throughput_json(double samples_per_s, int sequence);

/// Mean, min and max of the iterations after the first (warm-up: nothing to overlap with yet), or
/// of the first when there is only one.
nlohmann::json steady_stats(const std::vector<double>& v);

/// The workload's architecture, sync scheme, scheduling and compression as they ran.
nlohmann::json training_config_json(const scenario::Scenario& s, const workload::TrainingPlan& plan);

/// The sync scheme's statistics. Staleness (ssp, asp): when worker w's pull of iteration i
/// completes, how many iterations (i + 1 minus those every worker has pushed) its parameters lag
/// behind. `p`: the workers.
nlohmann::json statistics_json(const scenario::TrainingConfig& t, const workload::TrainingPlan& plan,
                               const engine::Timeline& tl, std::uint32_t p);

nlohmann::json pipeline_json(const scenario::Scenario& s, const model::Model& model,
                             const workload::PipelineTraining& pt);
nlohmann::json tensor_json(const scenario::Scenario& s, const workload::PipelineTraining& pt);
nlohmann::json expert_json(const scenario::Scenario& s, const model::Model& model,
                           const workload::PipelineTraining& pt);
/// ZeRO's stage, all-gathers per iteration and what the busiest stage's GPUs keep.
nlohmann::json zero_json(const scenario::TrainingConfig& t, const workload::TrainingPlan& plan,
                         const workload::PipelineTraining& pt);

/// What one GPU keeps in device memory at its peak, from what the simulator knows of the model:
/// the weights and their gradients in the training precision, Adam's state, ZeRO's shards of them
/// over the d replicas, the layer outputs its micro-batches in flight keep for backward, and a
/// codec's residuals. `stages`: (parameters' bytes, activation bytes of a micro-batch, micro-batches
/// in flight, bytes that recomputation re-creates at once, and of the parameters' bytes its experts'
/// under expert parallelism) per pipeline stage of a GPU; the stage that needs the most is
/// reported. An estimate: without recomputation every layer's output and attention's probabilities
/// (flash attention: its row log-sum-exps) count as kept (in-place ReLUs keep less), and framework
/// workspace and fragmentation are not counted. ZeRO stage 3 keeps a 1/d shard of the weights plus
/// the two units it may have gathered at once (`units`: each unit's bytes), and a 1/d shard of the
/// gradients plus the full gradient of the unit being reduce-scattered.
nlohmann::json memory_json(const scenario::Scenario& s, const std::vector<std::array<double, 5>>& stages,
                           double codec_bytes, std::vector<double> units = {});

/// The expected share of wall time a long job trains between failures, restarts and checkpoints
/// (sim/workload/failures.hpp), and the throughput that leaves. A checkpoint holds one copy of the
/// weights in the training precision and of Adam's state, however they are sharded over the GPUs.
nlohmann::json failures_json(const scenario::Scenario& s, const model::Model& model, double iteration_seconds,
                             double samples_per_s);

}  // namespace ddlsim::report
