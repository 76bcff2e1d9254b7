#include "sim/workload/failures.hpp"

#include <algorithm>
#include <cmath>

using namespace ddlsim::scenario;

namespace ddlsim::workload {

double checkpoint_efficiency(double interval, double checkpoint, double restart, double mtbf)
{
  // expm1 keeps the precision of e^x - 1 when the period is far shorter than the MTBF.
  return interval / (mtbf * std::exp(restart / mtbf) * std::expm1((interval + checkpoint) / mtbf));
}

double optimal_checkpoint_interval(double checkpoint, double mtbf)
{
  // f(tau) = e^((tau + delta)/M) (1 - tau/M) - 1: f(0) = e^(delta/M) - 1 > 0, f(M) = -1, and
  // f'(tau) = -e^((tau + delta)/M) tau / M^2 < 0, so one root. Written as expm1 terms to keep
  // precision: e^x (1 - t) - 1 = expm1(x) - t e^x.
  const auto f = [&](double tau) {
    const double x = (tau + checkpoint) / mtbf;
    return std::expm1(x) - tau / mtbf * std::exp(x);
  };
  double lo = 0, hi = mtbf;
  for (int i = 0; i < 200; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (!(mid > lo && mid < hi))
      break;
    (f(mid) > 0 ? lo : hi) = mid;
  }
  return lo + (hi - lo) / 2;
}

FailureEstimate estimate_failures(const FailureConfig& c, int gpus, double state_bytes, double iteration_seconds)
{
  FailureEstimate e{};
  e.job_mtbf_seconds = c.gpu_mtbf_seconds / gpus;
  e.failures_per_day = 86400 / e.job_mtbf_seconds;
  e.state_bytes = state_bytes;
  e.checkpoint_seconds = c.checkpoint_seconds > 0 ? c.checkpoint_seconds : state_bytes / c.checkpoint_bytes_per_s;
  e.restart_seconds = c.restart_seconds;
  e.young_interval_seconds = std::sqrt(2 * e.checkpoint_seconds * e.job_mtbf_seconds);
  e.optimal = c.interval_seconds <= 0;
  const double wanted =
      e.optimal ? optimal_checkpoint_interval(e.checkpoint_seconds, e.job_mtbf_seconds) : c.interval_seconds;
  // Checkpoints fall between iterations: the nearest whole number of them, at least one.
  e.interval_iterations = iteration_seconds > 0 ? std::max(1LL, std::llround(wanted / iteration_seconds)) : 0;
  e.interval_seconds = iteration_seconds > 0 ? double(e.interval_iterations) * iteration_seconds : wanted;
  e.efficiency = checkpoint_efficiency(e.interval_seconds, e.checkpoint_seconds, e.restart_seconds, e.job_mtbf_seconds);
  return e;
}

}  // namespace ddlsim::workload
