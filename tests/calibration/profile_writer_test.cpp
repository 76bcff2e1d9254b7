// The microbenchmarks' profile writer (calibration/cuda/profile_writer.cpp, plain C++) against the
// loader: what a GPU run writes must load, with the datasheet peaks and the derived scalars.
#include "calibration/cuda/bench.hpp"
#include "calibration/gpu_profile.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cstdlib>
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

TEST_CASE("derive_profile.py scales a measured profile to another GPU by its peaks and bandwidth")
{
  gpubench::Results r;
  r.device = {"NVIDIA H100 80GB HBM3", 132, 9, 0, 85899345920.0, "CUDA driver API 13.0", "13.0"};
  for (long m : {512L, 4096L})
    for (long n : {512L, 4096L})
      for (long k : {512L, 4096L}) {
        r.gemm.push_back({"bf16", m, n, k, 2.0 * m * n * k / 600e12});
        r.gemm.push_back({"fp8", m, n, k, 2.0 * m * n * k / 1200e12});
      }
  r.bandwidth = {{"copy", 1073741824.0, 2.9e12}, {"h2d", 1073741824.0, 50e9}};
  r.launch_seconds = 2.5e-6;
  r.codecs.push_back({"signsgd", {{1024, 10e-6}, {16777216, 110e-6}}, {{1024, 5e-6}, {16777216, 45e-6}}, 0, "pack"});
  gpubench::Options o;
  const auto dir = std::filesystem::temp_directory_path();
  o.output = (dir / (std::to_string(getpid()) + "-h100-measured.json")).string();
  gpubench::write_profile(o, r);
  const std::string derived = (dir / (std::to_string(getpid()) + "-a100-derived.json")).string();
  const std::string command = "python3 " + std::string(DDLSIM_SOURCE_DIR) + "/calibration/derive_profile.py " +
                              o.output + " a100-sxm4 > " + derived;
  REQUIRE(std::system(command.c_str()) == 0);

  const GpuProfile a = load_profile(derived);
  CHECK_FALSE(a.measured);
  CHECK(a.derived_from == "h100-sxm");
  CHECK(a.peak("bf16") == test::Rel(312e12).epsilon(1e-12));
  CHECK(a.gemm.count("fp8") == 0);  // the A100 has no fp8
  // bf16 GEMM: 600 TFLOP/s on a 989.4 peak is the same fraction of A100's 312.
  CHECK(a.gemm_seconds("bf16", 4096, 4096, 4096) ==
        test::Rel(2.0 * 4096 * 4096 * 4096 / (600e12 * 312 / 989.4)).epsilon(1e-5));
  CHECK(a.copy_bandwidth_bytes_per_s == test::Rel(2.9e12 * 2039 / 3350).epsilon(1e-5));
  CHECK(a.memory_bandwidth("h2d", 1e9) == test::Rel(50e9 * 32 / 64).epsilon(1e-5));  // PCIe 4.0 against 5.0
  // Codec: the launch-bound first point kept, the rest slower by HBM 3350 / 2039.
  CHECK(a.codec("signsgd")->encode.at(1024) == test::Rel(10e-6).epsilon(1e-5));
  CHECK(a.codec("signsgd")->encode.at(16777216) == test::Rel(10e-6 + 100e-6 * 3350 / 2039).epsilon(1e-5));
  CHECK(a.launch_seconds == test::Rel(2.5e-6).epsilon(1e-5));

  // Only measurements are derived from.
  const std::string estimate = "python3 " + std::string(DDLSIM_SOURCE_DIR) + "/calibration/derive_profile.py " +
                               profile_dir() + "/v100-sxm2.json a100-sxm4 > /dev/null 2>&1";
  CHECK(std::system(estimate.c_str()) != 0);
}
