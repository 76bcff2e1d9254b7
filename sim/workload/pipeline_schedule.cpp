// Pipeline schedules as data: each stage's order of forwards and backwards, and the ideal
// iteration that order gives.
#include "sim/workload/pipeline_schedule.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ddlsim::workload {

using scenario::PipelineSchedule;

std::vector<PipelineStep> pipeline_order(PipelineSchedule schedule, int stages, int m, int stage)
{
  std::vector<PipelineStep> order;
  if (schedule == PipelineSchedule::gpipe) {
    for (int j = 0; j < m; ++j)
      order.push_back({true, j});
    for (int j = m; j-- > 0;)
      order.push_back({false, j});
    return order;
  }
  const int warmup = std::min(stages - 1 - stage, m);
  for (int j = 0; j < warmup; ++j)
    order.push_back({true, j});
  for (int k = 0; k + warmup < m; ++k) {
    order.push_back({true, warmup + k});
    order.push_back({false, k});
  }
  for (int j = m - warmup; j < m; ++j)
    order.push_back({false, j});
  return order;
}

int micro_batches_in_flight(const std::vector<PipelineStep>& order)
{
  int now = 0, most = 0;
  for (const PipelineStep& step : order) {
    now += step.forward ? 1 : -1;
    most = std::max(most, now);
  }
  return most;
}

double pipeline_compute_seconds(const std::vector<PipelineStage>& stages, PipelineSchedule schedule, int m)
{
  const auto p = static_cast<int>(stages.size());
  constexpr double UNKNOWN = -1;
  std::vector<std::vector<double>> forward_end(stages.size(), std::vector<double>(std::size_t(m), UNKNOWN));
  std::vector<std::vector<double>> backward_end = forward_end;
  std::vector<std::vector<PipelineStep>> orders;
  for (int s = 0; s < p; ++s)
    orders.push_back(pipeline_order(schedule, p, m, s));
  std::vector<std::size_t> next(stages.size(), 0);
  std::vector<double> free_at(stages.size(), 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (int s = 0; s < p; ++s) {
      const auto u = static_cast<std::size_t>(s);
      for (; next[u] < orders[u].size(); ++next[u]) {
        const PipelineStep step = orders[u][next[u]];
        const auto j = static_cast<std::size_t>(step.microbatch);
        double input = 0;
        if (step.forward && s > 0)
          input = forward_end[u - 1][j];
        else if (!step.forward)
          input = s + 1 < p ? backward_end[u + 1][j] : forward_end[u][j];
        if (input == UNKNOWN)
          break;
        const double start = std::max(free_at[u], input);
        free_at[u] = start + (step.forward ? stages[u].forward_seconds : stages[u].backward_seconds);
        (step.forward ? forward_end : backward_end)[u][j] = free_at[u];
        progress = true;
      }
    }
  }
  for (std::size_t u = 0; u < stages.size(); ++u)
    if (next[u] < orders[u].size())
      throw std::logic_error("pipeline schedule deadlocks at stage " + std::to_string(u));
  return *std::max_element(free_at.begin(), free_at.end());
}

}  // namespace ddlsim::workload
