// The microbenchmarks' profile writer (calibration/cuda/profile_writer.cpp, plain C++) against the
// loader: what a GPU run writes must load, with the datasheet peaks and the derived scalars.
#include "calibration/cuda/bench.hpp"
#include "calibration/gpu_profile.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "e2e/cli_helpers.hpp"

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

  // The datasheet comparison for bench/README.md, from the profile just written.
  const std::string report = "python3 " + std::string(DDLSIM_SOURCE_DIR) + "/calibration/profile_report.py ";
  const test::Result table = test::run_command(report + o.output);
  REQUIRE(table.exit_code == 0);
  CHECK_MESSAGE(table.output.find("| GEMM bf16 (best: 4096 x 4096 x 4096) | 700.0 TFLOP/s | 989.4 TFLOP/s |") !=
                    std::string::npos,
                table.output);
  CHECK(table.output.find("| GEMM fp32 (best: 4096 x 4096 x 4096) | 50.0 TFLOP/s | 67.0 TFLOP/s | 74.6 % |") !=
        std::string::npos);
  CHECK(table.output.find("| device copy (bytes read + written) (at 1 GiB) | 2,900.0 GB/s | 3,350.0 GB/s HBM | "
                          "86.6 % |") != std::string::npos);
  // a += b on 2^20 elements in 5 us: 12 B x 1,048,576 / 5 us = 2,516.6 GB/s, 75.1 % of 3,350.
  CHECK(table.output.find("| reduction a += b, fp32 (at 1048576 elements, 12 B each) | 2,516.6 GB/s | 3,350.0 GB/s "
                          "HBM | 75.1 % |") != std::string::npos);
  CHECK(table.output.find("| launch + cudaDeviceSynchronize round trip | 9us |") != std::string::npos);
  // topk encodes 16,777,216 elements in 900 us: 4 B each, 74.6 GB/s.
  CHECK(table.output.find("| topk | 16777216 | 900us | 40us | 74.6 GB/s |") != std::string::npos);
  // Estimates are not compared with the datasheet they came from.
  const test::Result estimate = test::run_command(report + profile_dir() + "/v100-sxm2.json");
  CHECK(estimate.exit_code != 0);
  CHECK(estimate.output.find("is not a measured profile") != std::string::npos);
}

TEST_CASE("an H100 PCIe run takes the PCIe card's datasheet peaks, not the SXM module's")
{
  gpubench::Results r;
  r.device = {"NVIDIA H100 PCIe", 114, 9, 0, 85899345920.0, "580.159.04 (CUDA driver API 13.0)", "13.0"};
  r.bandwidth = {{"copy", 1073741824.0, 1.7e12}};
  r.launch_seconds = 2.5e-6;
  gpubench::Options o;
  o.output = (std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "-h100-pcie.json")).string();
  gpubench::write_profile(o, r);
  const GpuProfile p = load_profile(o.output);
  CHECK(p.name == "h100-pcie");
  CHECK(p.driver == "580.159.04 (CUDA driver API 13.0)");
  CHECK(p.peak("bf16") == test::Rel(756.5e12).epsilon(1e-12));
  CHECK(p.peak("fp32") == test::Rel(51e12).epsilon(1e-12));
  CHECK(p.memory_bandwidth_bytes_per_s == test::Rel(2e12).epsilon(1e-12));
}

TEST_CASE("an H200 NVL card is not taken for the SXM module: without a datasheet row, the measured peaks stand")
{
  gpubench::Results r;
  r.device = {"NVIDIA H200 NVL", 132, 9, 0, 150e9, "580.159.04 (CUDA driver API 13.0)", "13.0"};
  r.gemm = {{"fp32", 4096, 4096, 4096, 2.0 * 4096 * 4096 * 4096 / 50e12},
            {"bf16", 4096, 4096, 4096, 2.0 * 4096 * 4096 * 4096 / 600e12}};
  r.bandwidth = {{"copy", 1073741824.0, 4e12}, {"read", 1073741824.0, 4.2e12}};
  r.launch_seconds = 2.5e-6;
  gpubench::Options o;
  o.output = (std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "-h200-nvl.json")).string();
  gpubench::write_profile(o, r);
  const GpuProfile p = load_profile(o.output);
  CHECK(p.name == "nvidia-h200-nvl");
  CHECK(p.peak("bf16") == test::Rel(600e12).epsilon(1e-5));
  CHECK(p.memory_bandwidth_bytes_per_s == test::Rel(4.2e12).epsilon(1e-5));
  CHECK(p.source.find("not in the datasheet table") != std::string::npos);
  r.device.name = "NVIDIA H200";
  gpubench::write_profile(o, r);
  const GpuProfile sxm = load_profile(o.output);
  CHECK(sxm.name == "h200-sxm");
  CHECK(sxm.peak("bf16") == test::Rel(989.4e12).epsilon(1e-12));
  CHECK(sxm.memory_bandwidth_bytes_per_s == test::Rel(4.8e12).epsilon(1e-12));
  std::filesystem::remove(o.output);
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

TEST_CASE("the profile's driver field names the NVIDIA driver's version and the CUDA driver API")
{
  // /proc/driver/nvidia/version's first line, proprietary and open kernel modules.
  CHECK(gpubench::parse_nvrm_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 "
                                     "01:15:15 UTC 2023\nGCC version:  gcc version 11.4.0\n") == "535.104.05");
  CHECK(gpubench::parse_nvrm_version("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release "
                                     "Build  (dvs-builder@U16-I3-B03-4-3)  Thu Oct  2 2025") == "580.159.04");
  CHECK(gpubench::parse_nvrm_version("NVRM version: no number here\n1.2 on the second line") == "");
  CHECK(gpubench::parse_nvrm_version("") == "");
  CHECK(gpubench::driver_description("580.159.04", 13000) == "580.159.04 (CUDA driver API 13.0)");
  CHECK(gpubench::driver_description("", 12040) == "NVIDIA driver of unknown version (CUDA driver API 12.4)");
  // On this machine: whatever it finds is a version or nothing, never a crash without a driver.
  const std::string here = gpubench::nvidia_driver_version();
  CHECK((here.empty() || gpubench::parse_nvrm_version("v " + here) == here));
}
