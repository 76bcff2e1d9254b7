#pragma once
// Pipeline schedules (GPipe, 1F1B) as data, without a task graph or SimGrid: each stage's order of
// steps, how many micro-batches it keeps in flight, and the ideal iteration of an order.
#include "sim/scenario/scenario.hpp"
#include "sim/workload/pipeline_stage.hpp"

#include <vector>

namespace ddlsim::workload {

/// One step of a stage: the forward or the backward of a micro-batch.
struct PipelineStep {
  bool forward;
  int microbatch;
};

/// Stage `stage`'s steps of one iteration, in order:
/// - gpipe: every forward, then every backward (last micro-batch first);
/// - 1f1b: min(P - 1 - stage, m) forwards, then alternately one forward and one backward, then
///   the remaining backwards (oldest first).
std::vector<PipelineStep> pipeline_order(scenario::PipelineSchedule schedule, int stages, int microbatches, int stage);

/// Most micro-batches of an order whose forward ran and backward did not yet.
int micro_batches_in_flight(const std::vector<PipelineStep>& order);

/// End of one iteration's compute when stages exchange for free and wait for nothing else: each
/// step starts when its stage is free and its input is there (the previous stage's forward of the
/// micro-batch, or the next stage's backward).
double pipeline_compute_seconds(const std::vector<PipelineStage>& stages, scenario::PipelineSchedule schedule,
                                int microbatches);

}  // namespace ddlsim::workload
