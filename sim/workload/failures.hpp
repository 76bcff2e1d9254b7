#pragma once
// Failures of a long training job: with failures arriving at random (exponentially distributed
// times between them, mean M for the whole job), checkpoints of duration delta written every tau
// of training, and a restart of R after each failure that resumes from the last checkpoint, the
// expected wall time to do T_s of training is (Daly, "A higher order estimate of the optimum
// checkpoint interval for restart dumps", Future Generation Computer Systems 22(3), 2006)
//   T_w = M e^(R/M) (e^((tau + delta)/M) - 1) T_s / tau,
// so the fraction of wall time that trains is tau / (M e^(R/M) (e^((tau + delta)/M) - 1)).
#include "sim/scenario/scenario.hpp"

namespace ddlsim::workload {

/// The fraction of wall time spent training (Daly's T_s / T_w above); all in seconds, mtbf > 0.
double checkpoint_efficiency(double interval, double checkpoint, double restart, double mtbf);

/// The interval that maximises checkpoint_efficiency: the root of e^((tau + delta)/M) (1 - tau/M)
/// = 1 in (0, M), found by bisection (the left side falls with tau). Young's first-order
/// approximation of it is sqrt(2 delta M).
double optimal_checkpoint_interval(double checkpoint, double mtbf);

struct FailureEstimate {
  double job_mtbf_seconds;  ///< the GPU's MTBF over the job's GPUs
  double failures_per_day;
  double state_bytes;  ///< what a checkpoint holds: weights and optimizer states
  double checkpoint_seconds;
  double restart_seconds;
  double young_interval_seconds;  ///< sqrt(2 delta M), for reference
  double interval_seconds;        ///< used: given, or the optimum rounded to whole iterations
  long long interval_iterations;
  bool optimal;       ///< the interval is the optimum, not the scenario's
  double efficiency;  ///< checkpoint_efficiency at interval_seconds
};

/// The estimate for a job of `gpus` GPUs whose training state is `state_bytes` and whose
/// iterations take `iteration_seconds`; checkpoints are taken between iterations.
FailureEstimate estimate_failures(const scenario::FailureConfig& config, int gpus, double state_bytes,
                                  double iteration_seconds);

}  // namespace ddlsim::workload
