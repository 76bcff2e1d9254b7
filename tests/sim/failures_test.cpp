// Failures and checkpoints of a long job: Daly's expected efficiency, its optimum interval, and
// the report's estimate.
#include "sim/engine/child_process.hpp"
#include "sim/report/outputs.hpp"
#include "sim/report/summary.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/workload/failures.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "approx.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::report;
using namespace ddlsim::runner;

using namespace ddlsim;
using nlohmann::json;

namespace {

/// Mean wall time per period of tau + delta, by running the process: failures at exponential
/// times of mean M (memoryless, so drawn afresh at each start); a failure loses the period and
/// costs a restart of R, which a failure may itself interrupt.
double simulated_period_seconds(double tau, double delta, double restart, double mtbf, int periods)
{
  std::mt19937_64 rng(12345);
  const auto next_failure = [&] {
    return -mtbf * std::log1p(-std::generate_canonical<double, 53>(rng));
  };
  double wall = 0;
  for (int k = 0; k < periods; ++k)
    for (;;) {
      const double x = next_failure();
      if (x >= tau + delta) {
        wall += tau + delta;
        break;
      }
      wall += x;
      for (;;) {  // the restart, until one completes
        const double y = next_failure();
        if (y >= restart) {
          wall += restart;
          break;
        }
        wall += y;
      }
    }
  return wall / periods;
}

json failing_chain()
{
  json layers = json::array();
  for (int i = 0; i < 4; ++i)
    layers.push_back({{"name", "l" + std::to_string(i)}, {"params", 25'000'000}, {"forward_flops", 1e9}});
  return {{"schema", 1},
          {"name", "failing"},
          {"model", {{"name", "chain"}, {"layers", layers}}},
          {"gpu", {{"peak", "1TFLOPS"}, {"efficiency", 1}}},
          {"cluster", {{"nodes", 4}, {"network", {{"link", {{"bandwidth", "10GBps"}, {"latency", "1us"}}}}}}},
          {"workload",
           {{"kind", "training"},
            {"batch_per_gpu", 2},
            {"iterations", 2},
            {"fidelity", "step"},
            {"scheduling", {{"policy", "none"}}},
            {"failures", {{"mtbf", "400h"}, {"restart", "5min"}, {"checkpoint_bandwidth", "1GB/s"}}}}}};
}

}  // namespace

TEST_CASE("failures: Daly's efficiency matches a run of the failure process")
{
  // Failures every 1000 s on average: a 300 s period with a 50 s checkpoint fails often.
  const double tau = 300, delta = 50, restart = 100, mtbf = 1000;
  const double expected = checkpoint_efficiency(tau, delta, restart, mtbf);
  CHECK(expected ==
        test::Rel(tau / (mtbf * std::exp(restart / mtbf) * (std::exp((tau + delta) / mtbf) - 1))).epsilon(1e-12));
  const double simulated = tau / simulated_period_seconds(tau, delta, restart, mtbf, 400'000);
  CHECK(simulated == test::Rel(expected).epsilon(5e-3));
  // No failures: only the checkpoints cost, tau / (tau + delta).
  CHECK(checkpoint_efficiency(tau, delta, restart, 1e15) == test::Rel(tau / (tau + delta)).epsilon(1e-9));
  // A restart scales it by e^(-R/M).
  CHECK(checkpoint_efficiency(tau, delta, 2 * restart, mtbf) ==
        test::Rel(expected * std::exp(-restart / mtbf)).epsilon(1e-12));
}

TEST_CASE("failures: the optimum interval is Daly's, close to Young's sqrt(2 delta M) when delta << M")
{
  for (const auto& [delta, mtbf] : {std::pair{60.0, 1e6}, std::pair{30.0, 11134.9}, std::pair{600.0, 3600.0}}) {
    CAPTURE(delta);
    CAPTURE(mtbf);
    const double best = optimal_checkpoint_interval(delta, mtbf);
    // The efficiency is highest there.
    for (double f : {0.99, 1.01})
      CHECK(checkpoint_efficiency(best, delta, 0, mtbf) > checkpoint_efficiency(f * best, delta, 0, mtbf));
    // Daly's higher-order estimate (his eq. for delta < 2M), good to O((delta/M)^(3/2)).
    const double r = delta / (2 * mtbf);
    const double daly = std::sqrt(2 * delta * mtbf) * (1 + std::sqrt(r) / 3 + r / 9) - delta;
    if (delta / mtbf < 0.01)
      CHECK(best == test::Rel(daly).epsilon(1e-4));
  }
  CHECK(optimal_checkpoint_interval(60, 1e6) == test::Rel(std::sqrt(2 * 60 * 1e6)).epsilon(1e-2));
}

TEST_CASE("failures: the job's estimate, checkpoints at whole iterations")
{
  FailureConfig c;
  c.enabled = true;
  c.gpu_mtbf_seconds = 3600.0 * 50000;
  c.restart_seconds = 600;
  c.checkpoint_bytes_per_s = 100e9;
  // 16,384 GPUs: a failure every 3.05 h; 2.45 TB of state at 100 GB/s, 24.5 s a checkpoint.
  FailureEstimate e = estimate_failures(c, 16384, 2.45e12, 7.3);
  CHECK(e.job_mtbf_seconds == test::Rel(3600.0 * 50000 / 16384).epsilon(1e-15));
  CHECK(e.failures_per_day == test::Rel(86400 * 16384 / (3600.0 * 50000)).epsilon(1e-12));
  CHECK(e.checkpoint_seconds == test::Rel(24.5).epsilon(1e-15));
  CHECK(e.optimal);
  const double best = optimal_checkpoint_interval(24.5, e.job_mtbf_seconds);
  CHECK(e.interval_iterations == std::llround(best / 7.3));
  CHECK(e.interval_seconds == test::Rel(7.3 * double(e.interval_iterations)).epsilon(1e-15));
  CHECK(e.efficiency ==
        test::Rel(checkpoint_efficiency(e.interval_seconds, 24.5, 600, e.job_mtbf_seconds)).epsilon(1e-15));
  // A given interval, and an iteration longer than it: one checkpoint per iteration.
  c.interval_seconds = 3;
  c.checkpoint_seconds = 10;
  e = estimate_failures(c, 8, 1e9, 7.3);
  CHECK_FALSE(e.optimal);
  CHECK(e.checkpoint_seconds == 10);
  CHECK(e.interval_iterations == 1);
  CHECK(e.interval_seconds == 7.3);
}

TEST_CASE("failures end to end: the report, the summary and bad input")
{
  json doc = failing_chain();
  const Scenario s = parse_scenario(doc, "failing.json");
  const json r = run_in_child([&] { return simulate(s).report; });
  const json& f = r["failures"];
  // 100 M fp32 parameters: 4 bytes of weights and 8 of Adam's state each, 1.2 GB in 1.2 s.
  CHECK(f["checkpoint_bytes"].get<double>() == 1.2e9);
  CHECK(f["checkpoint_s"].get<double>() == test::Rel(1.2).epsilon(1e-15));
  CHECK(f["job_mtbf_s"].get<double>() == test::Rel(400 * 3600.0 / 4).epsilon(1e-15));
  CHECK(f["efficiency"].get<double>() ==
        test::Rel(checkpoint_efficiency(f["interval_s"].get<double>(), 1.2, 300, 360000)).epsilon(1e-15));
  CHECK(f["effective_samples_per_s"].get<double>() ==
        test::Rel(r["throughput"]["samples_per_s"].get<double>() * f["efficiency"].get<double>()).epsilon(1e-15));
  const std::string text = summary_text(s, r);
  CHECK(text.find("failures            job MTBF 100.00 h (0.2 a day); a 1.200 s checkpoint every ") !=
        std::string::npos);
  CHECK(text.find("optimal); restart 5.0 min") != std::string::npos);
  // The resolved scenario keeps the keys.
  CHECK(parse_scenario(to_json(s), "again.json").training.failures.checkpoint_bytes_per_s == 1e9);

  doc["workload"]["failures"]["checkpoint_time"] = "30s";
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failing.json"),
                       doctest::Contains("failing.json: /workload/failures: expected exactly one of 'checkpoint_time'"),
                       ScenarioError);
  doc["workload"]["failures"].erase("checkpoint_bandwidth");
  doc["workload"]["failures"].erase("mtbf");
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failing.json"),
                       doctest::Contains("/workload/failures: missing required key 'mtbf'"), ScenarioError);
  doc["workload"]["failures"]["mtbf"] = "5";
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failing.json"),
                       doctest::Contains("/workload/failures/mtbf: found '5'; expected a duration with a unit"),
                       ScenarioError);
  doc["workload"]["failures"]["mtbf"] = "2000h";
  doc["workload"]["failures"]["interval"] = "-1min";
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failing.json"), doctest::Contains("/workload/failures/interval"),
                       ScenarioError);
}
