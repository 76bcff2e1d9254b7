#include "sim/workload/pipeline.hpp"

#include "sim/workload/pipeline_builder.hpp"

namespace ddlsim::workload {

using namespace ddlsim::scenario;

double tensor_allreduce_seconds(const coll::GroupShape& group, double bytes, double reduce_seconds_per_byte)
{
  const double t = group.ranks;
  return coll::predicted_seconds(coll::Op::allreduce, coll::Algorithm::ring, group, bytes) +
         (t - 1) * bytes / t * reduce_seconds_per_byte;
}

PipelineTraining build_pipeline_training(const Scenario& s, const model::Model& model,
                                         const std::vector<coll::GroupShape>& stage_groups,
                                         const std::vector<coll::GroupShape>& tensor_groups,
                                         const ExpertGroups& expert_groups)
{
  return PipelineBuilder(s, model, stage_groups, tensor_groups, expert_groups).build();
}

}  // namespace ddlsim::workload
