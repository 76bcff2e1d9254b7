// The microbenchmarks' profile writer (calibration/cuda/profile_writer.cpp, plain C++) against the
// loader: what a GPU run writes must load, with the datasheet peaks and the derived scalars.
#include "calibration/cuda/bench.hpp"
#include "calibration/gpu_profile.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <filesystem>
#include <unistd.h>

using namespace ddlsim;

TEST_CASE("a measured H100 run's results are written as a profile the simulator loads")
{
  gpubench::Results r;
  r.device = {"NVIDIA H100 80GB HBM3", 132, 9, 0, 85899345920.0, "CUDA driver API 13.0", "13.0"};
  for (const char* dtype : {"fp32", "bf16"})
    for (long m : {512L, 4096L})
      for (long n : {512L, 4096L})
        for (long k : {512L, 4096L}) {
          const double rate =
              (std::string(dtype) == "fp32" ? 50e12 : 700e12) * (m * n * k == 4096L * 4096 * 4096 ? 1 : 0.5);
          r.gemm.push_back({dtype, m, n, k, 2.0 * m * n * k / rate});
        }
  for (double bytes : {4096.0, 1048576.0, 1073741824.0}) {
    r.bandwidth.push_back({"copy", bytes, bytes < 1e9 ? 1e12 : 2.9e12});
    r.bandwidth.push_back({"read", bytes, 3.0e12});
  }
  r.reduce = {{1024, 3e-6}, {1048576, 5e-6}};
  r.launch_seconds = 2.5e-6;
  r.gpu_launch_seconds = 1.5e-6;
  r.sync_seconds = 9e-6;
  // Timing noise: the second point is faster than the first; the writer keeps times non-decreasing.
  r.codecs.push_back({"topk",
                      {{1024, 30e-6}, {65536, 28e-6}, {16777216, 900e-6}},
                      {{1024, 4e-6}, {16777216, 40e-6}},
                      0.01,
                      "radix sort"});
  r.checks = {"GEMM fp32: ok"};
  gpubench::Options o;
  o.output = (std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "-h100.json")).string();
  o.command = "ddlsim calibrate";
  gpubench::write_profile(o, r);

  const GpuProfile p = load_profile(o.output);
  CHECK(p.name == "h100-sxm");
  CHECK(p.measured);
  CHECK(p.peak("bf16") == test::Rel(989.4e12).epsilon(1e-12));  // the datasheet's dense peak
  CHECK(p.peak("fp8") == test::Rel(1978.9e12).epsilon(1e-12));
  CHECK(p.memory_bandwidth_bytes_per_s == test::Rel(3.35e12).epsilon(1e-12));
  CHECK(p.copy_bandwidth_bytes_per_s == test::Rel(2.9e12).epsilon(1e-5));  // the largest copy
  CHECK(p.gemm_efficiency == test::Rel(50.0 / 67).epsilon(1e-5));          // best fp32 / peak
  CHECK(p.launch_seconds == test::Rel(2.5e-6).epsilon(1e-5));
  CHECK(p.gemm_seconds("bf16", 4096, 4096, 4096) == test::Rel(2.0 * 4096 * 4096 * 4096 / 700e12).epsilon(1e-5));
  CHECK(p.memory_bandwidth("read", 1e6) == test::Rel(3e12).epsilon(1e-5));
  REQUIRE(p.codec("topk"));
  CHECK(p.codec("topk")->encode.at(65536) == test::Rel(30e-6).epsilon(1e-5));
  CHECK(p.codec("topk")->ratio == 0.01);
  CHECK(p.codec("topk")->source.find("measured on NVIDIA H100 80GB HBM3") == 0);
}
