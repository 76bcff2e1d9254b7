// Pipeline schedules and stage partitioning as pure data: this file is built into
// ddlsim_pure_tests, which links sim/workload without SimGrid (ARCHITECTURE.md, "Layers").
#include "sim/workload/pipeline_schedule.hpp"
#include "sim/workload/stage_partition.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace ddlsim::scenario;
using namespace ddlsim::workload;

namespace {

std::string order_text(const std::vector<PipelineStep>& order)
{
  std::string text;
  for (const PipelineStep& step : order)
    text += (text.empty() ? "" : " ") + std::string(step.forward ? "F" : "B") + std::to_string(step.microbatch);
  return text;
}

}  // namespace

TEST_CASE("pipeline orders: GPipe runs every forward then every backward, 1F1B warms up P - 1 - s forwards")
{
  CHECK(order_text(pipeline_order(PipelineSchedule::gpipe, 4, 3, 1)) == "F0 F1 F2 B2 B1 B0");
  CHECK(order_text(pipeline_order(PipelineSchedule::one_f_one_b, 4, 6, 0)) == "F0 F1 F2 F3 B0 F4 B1 F5 B2 B3 B4 B5");
  CHECK(order_text(pipeline_order(PipelineSchedule::one_f_one_b, 4, 6, 2)) == "F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 B5");
  CHECK(order_text(pipeline_order(PipelineSchedule::one_f_one_b, 4, 6, 3)) == "F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5");
  // Fewer micro-batches than stages: the warm-up is every micro-batch.
  CHECK(order_text(pipeline_order(PipelineSchedule::one_f_one_b, 4, 2, 0)) == "F0 F1 B0 B1");
  for (int s = 0; s < 4; ++s) {
    CHECK(micro_batches_in_flight(pipeline_order(PipelineSchedule::one_f_one_b, 4, 6, s)) == 4 - s);
    CHECK(micro_batches_in_flight(pipeline_order(PipelineSchedule::gpipe, 4, 6, s)) == 6);
  }
}

TEST_CASE("stage partition: least slowest stage, contiguous and non-empty")
{
  const auto costs = [](std::vector<double> w) {
    std::vector<LayerCost> c;
    for (double x : w)
      c.push_back({x / 3, 2 * x / 3});
    return c;
  };
  CHECK(partition_layers(costs({1, 1, 1, 1, 4}), 2) == std::vector<std::size_t>{0, 4});
  CHECK(partition_layers(costs({3, 1, 1, 1, 1, 1}), 3) == std::vector<std::size_t>{0, 1, 4});
  CHECK(partition_layers(costs({1, 1, 1, 1}), 4) == std::vector<std::size_t>{0, 1, 2, 3});
  // The bound is met with two stages; the third takes the last layer rather than staying empty.
  CHECK(partition_layers(costs({2, 2, 2, 2}), 3) == std::vector<std::size_t>{0, 2, 3});
  CHECK_THROWS_AS(partition_layers(costs({1, 1}), 3), std::invalid_argument);
}
