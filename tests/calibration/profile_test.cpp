// GPU profile queries (GEMM grid, bandwidth curves, measured iterations) and their errors.
#include "calibration/gpu_profile.hpp"
#include "sim/scenario/error.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "calibration/profile_json.hpp"

#include <cmath>

using namespace ddlsim::scenario;

using namespace ddlsim;

namespace {

/// A rate that is a product of powers of m, n and k: log-linear in (log m, log n, log k), so the
/// grid's interpolation reproduces it exactly between grid points.
double power_rate(double m, double n, double k)
{
  return 1e12 * std::pow(m / 256, 0.25) * std::pow(n / 256, 0.125) * std::pow(k / 256, 0.5);
}

nlohmann::json power_grid()
{
  nlohmann::json points = nlohmann::json::array();
  for (double m : {256.0, 4096.0})
    for (double n : {256.0, 4096.0})
      for (double k : {256.0, 4096.0})
        points.push_back(
            {{"m", m}, {"n", n}, {"k", k}, {"time", test::seconds_text(2 * m * n * k / power_rate(m, n, k))}});
  return points;
}

}  // namespace

TEST_CASE("GEMM grid: throughput interpolated in log space between shapes, held at the grid's edges")
{
  nlohmann::json p = test::profile_json();
  p["peak"]["fp16"] = "100TFLOPS";
  p["gemm"]["fp16"] = power_grid();
  const GpuProfile g = load_profile(test::write_profile("grid", p));
  for (const auto& [m, n, k] :
       std::vector<std::array<double, 3>>{{1024, 512, 2048}, {300, 4000, 1000}, {4096, 256, 256}}) {
    CAPTURE(m);
    CAPTURE(n);
    CAPTURE(k);
    CHECK(g.gemm_seconds("fp16", m, n, k) == test::Rel(2 * m * n * k / power_rate(m, n, k)).epsilon(1e-9));
  }
  // Outside the grid the edge throughput holds: m = 64 runs at m = 256's rate, k = 65536 at k = 4096's.
  CHECK(g.gemm_seconds("fp16", 64, 1024, 65536) ==
        test::Rel(2 * 64.0 * 1024 * 65536 / power_rate(256, 1024, 4096)).epsilon(1e-9));
  // A tiny product takes at least one launch (1 us).
  CHECK(g.gemm_seconds("fp16", 1, 1, 1) == test::Rel(1e-6).epsilon(1e-12));
  // Without a grid for the dtype: gemm_efficiency (0.5) x its peak (10 TFLOP/s).
  CHECK(g.gemm_seconds("fp32", 1000, 1000, 1000) == test::Rel(2e9 / 5e12).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(g.gemm_seconds("bf16", 10, 10, 10), doctest::Contains("has no bf16 peak or GEMM measurements"),
                       std::invalid_argument);
}

TEST_CASE("GEMM grid: m may have other values than n and k, as the microbenchmarks measure them")
{
  // The microbenchmarks' grid reaches m = 131,072 rows (convolutions' batch x pixels) while n and k
  // stop at 8,192: three m values by two n by two k here.
  nlohmann::json points = nlohmann::json::array();
  for (double m : {128.0, 2048.0, 131072.0})
    for (double n : {64.0, 8192.0})
      for (double k : {64.0, 8192.0})
        points.push_back(
            {{"m", m}, {"n", n}, {"k", k}, {"time", test::seconds_text(2 * m * n * k / power_rate(m, n, k))}});
  nlohmann::json p = test::profile_json();
  p["peak"]["fp16"] = "100TFLOPS";
  p["gemm"]["fp16"] = points;
  const GpuProfile g = load_profile(test::write_profile("tall-grid", p));
  for (const auto& [m, n, k] :
       std::vector<std::array<double, 3>>{{50176, 64, 147}, {8192, 768, 2304}, {131072, 8192, 64}}) {
    CAPTURE(m);
    CHECK(g.gemm_seconds("fp16", m, n, k) == test::Rel(2 * m * n * k / power_rate(m, n, k)).epsilon(1e-9));
  }
  // ResNet-50's first convolution at batch 64 (m = 64 x 112 x 112 = 802,816, n = 64, k = 147) runs
  // at the rate of m = 131,072, the grid's edge.
  CHECK(g.gemm_seconds("fp16", 802816, 64, 147) ==
        test::Rel(2 * 802816.0 * 64 * 147 / power_rate(131072, 64, 147)).epsilon(1e-9));
}

TEST_CASE("bandwidth curves: linear in log(bytes) between points, the copy bandwidth without a curve")
{
  nlohmann::json p = test::profile_json();
  p["bandwidth"]["read"] = {{{"bytes", 1024}, {"bandwidth", "10GBps"}},
                            {{"bytes", 1048576}, {"bandwidth", "1000GBps"}}};
  const GpuProfile g = load_profile(test::write_profile("bw", p));
  CHECK(g.memory_bandwidth("read", 32768) == test::Rel(505e9).epsilon(1e-12));  // halfway in log2: 10 -> 15 -> 20
  CHECK(g.memory_bandwidth("read", 10) == test::Rel(10e9).epsilon(1e-12));
  CHECK(g.memory_bandwidth("read", 1e12) == test::Rel(1000e9).epsilon(1e-12));
  CHECK(g.memory_bandwidth("copy", 1e6) == test::Rel(1e9).epsilon(1e-12));  // the scalar copy_bandwidth
}

TEST_CASE("measured iterations are found by model, batch and precision")
{
  nlohmann::json p = test::profile_json();
  p["iterations"] = {{{"model", "resnet50"}, {"batch", 64}, {"precision", "fp32"}, {"time", "180ms"}, {"source", "t"}}};
  const GpuProfile g = load_profile(test::write_profile("its", p));
  REQUIRE(g.iteration("resnet50", 64, "fp32"));
  CHECK(g.iteration("resnet50", 64, "fp32")->seconds == test::Rel(0.18).epsilon(1e-15));
  CHECK_FALSE(g.iteration("resnet50", 32, "fp32"));
  CHECK_FALSE(g.iteration("resnet50", 64, "fp16"));
}

TEST_CASE("malformed measured curves name the file and JSON path")
{
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> patch;
    const char* message;
  };
  const std::vector<Case> cases{
      {"a grid with a shape missing",
       [](nlohmann::json& p) {
         p["gemm"]["fp32"] = power_grid();
         p["gemm"]["fp32"].erase(3);
       },
       "/gemm/fp32: expected a full grid of shapes (2 m x 2 n x 2 k values = 8 points); found 7 points"},
      {"a shape twice",
       [](nlohmann::json& p) {
         p["gemm"]["fp32"] = power_grid();
         p["gemm"]["fp32"].push_back(p["gemm"]["fp32"][0]);
       },
       "/gemm/fp32/8: expected each (m, n, k) once; this shape is measured twice"},
      {"GEMMs of a dtype without a peak", [](nlohmann::json& p) { p["gemm"]["bf16"] = power_grid(); },
       "/gemm/bf16: expected a 'bf16' peak in 'peak' for these measurements"},
      {"bytes not increasing",
       [](nlohmann::json& p) {
         p["bandwidth"]["copy"] = {{{"bytes", 2048}, {"bandwidth", "1GBps"}},
                                   {{"bytes", 1024}, {"bandwidth", "1GBps"}}};
       },
       "/bandwidth/copy/1/bytes: found 1024; expected more bytes than the point before (2048)"},
      {"an unknown kind", [](nlohmann::json& p) { p["bandwidth"]["peer"] = nlohmann::json::array(); },
       "/bandwidth/peer: unknown key 'peer'; expected one of: copy, read, write, h2d, d2h"},
      {"an iteration twice",
       [](nlohmann::json& p) {
         const nlohmann::json it = {
             {"model", "m"}, {"batch", 1}, {"precision", "fp32"}, {"time", "1s"}, {"source", "s"}};
         p["iterations"] = {it, it};
       },
       "/iterations/1: expected one measurement per model, batch and precision; m batch 1 fp32 is here twice"},
  };
  for (const Case& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    nlohmann::json p = test::profile_json();
    c.patch(p);
    const std::string file = test::write_profile("bad", p);
    CHECK_THROWS_WITH_AS(load_profile(file), doctest::Contains((file + ": " + c.message).c_str()), ScenarioError);
  }
}

TEST_CASE("the reduction's memory rate comes from the measured a += b curve, else the copy bandwidth")
{
  nlohmann::json p = test::profile_json();
  CHECK(load_profile(test::write_profile("no-reduce", p)).reduction_bandwidth() == 1e9);
  // 2^20 more elements take 10 us more: 12 bytes an element over 10 us.
  p["reduce"] = {{{"elements", 1024}, {"time", "3us"}}, {{"elements", 1049600}, {"time", "13us"}}};
  CHECK(load_profile(test::write_profile("reduce", p)).reduction_bandwidth() ==
        test::Rel(12.0 * 1048576 / 10e-6).epsilon(1e-12));
}
