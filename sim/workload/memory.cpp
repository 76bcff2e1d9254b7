#include "sim/workload/memory.hpp"

namespace ddlsim::workload {

using namespace ddlsim::scenario;

double adam_bytes_per_parameter(Precision precision)
{
  return precision == Precision::fp32 || precision == Precision::tf32 ? 8 : 12;
}

ZeroShares zero_shares(const TrainingConfig& t, double weights, double experts)
{
  const auto shares = [&](double bytes, double d) {
    const double params = bytes / bytes_per_element(t.precision);
    return ZeroShares{t.zero_stage >= 3 ? bytes / d : bytes, t.zero_stage >= 2 ? bytes / d : bytes,
                      adam_bytes_per_parameter(t.precision) * params / (t.zero_stage >= 1 ? d : 1)};
  };
  const double d = t.data_parallel;
  const ZeroShares dense = shares(weights - experts, d), own = shares(experts, d / t.expert_parallel);
  return {dense.parameters + own.parameters, dense.gradients + own.gradients,
          dense.optimizer_states + own.optimizer_states};
}

}  // namespace ddlsim::workload
