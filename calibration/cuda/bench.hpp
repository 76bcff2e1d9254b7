#pragma once
// The GPU microbenchmarks' shared pieces: results (plain C++, written to a profile by
// profile_writer.cpp), error checks, CUDA-event timing, deterministic non-zero inputs.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpubench {

struct Options {
  bool quick = false;  ///< fewer sizes and repetitions (a smoke run, not a profile to ship)
  std::string output;  ///< profile file; empty: profile_dir/NAME.json
  std::string profile_dir = ".";
  std::string command;
};

struct DeviceInfo {
  std::string name;
  int sm_count = 0, cc_major = 0, cc_minor = 0;
  double memory_bytes = 0;
  std::string driver, runtime;
};

struct GemmPoint {
  std::string dtype;
  long m, n, k;
  double seconds;
};

struct BandwidthPoint {
  std::string kind;  ///< copy (bytes read + written per second), read, write, h2d, d2h
  double bytes;      ///< buffer size
  double bytes_per_s;
};

struct CurvePoint {
  double elements;
  double seconds;
};

struct CodecResult {
  std::string name;
  std::vector<CurvePoint> encode, decode;
  double ratio = 0;  ///< sparsifiers: the fraction kept in these runs
  std::string method;
};

struct Results {
  DeviceInfo device;
  std::vector<GemmPoint> gemm;
  std::vector<std::string> gemm_skipped;  ///< dtype: why
  std::vector<BandwidthPoint> bandwidth;
  std::vector<CurvePoint> reduce;
  double launch_seconds = 0, sync_seconds = 0, gpu_launch_seconds = 0;
  std::vector<CodecResult> codecs;
  std::vector<std::string> checks;  ///< correctness checks passed, for the log
};

/// Thrown when a kernel's result disagrees with the CPU reference: a fast wrong kernel is worthless.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Keeps the GPU busy copying memory for about a second (a fifth with --quick), so that the first
/// measurements do not run at idle clocks.
void warm_up(const Options& o);
void run_gemm(const Options& o, Results& r);
void run_memory(const Options& o, Results& r);
void run_codecs(const Options& o, Results& r);
void write_profile(const Options& o, const Results& r);

/// The NVIDIA driver's version ("580.159.04"): NVML's answer (libnvidia-ml, opened at run time, so
/// the binary needs no NVML to start), else /proc/driver/nvidia/version's; empty if neither answers.
std::string nvidia_driver_version();

/// The driver version in the first line of /proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX
/// x86_64 Kernel Module  580.159.04  ..."): its first token of dot-separated digits; empty if none.
std::string parse_nvrm_version(const std::string& text);

/// The profile's `driver`: "580.159.04 (CUDA driver API 13.0)" from the driver's version and
/// cudaDriverGetVersion's number (1000 major + 10 minor).
std::string driver_description(const std::string& version, int cuda_driver_api);

}  // namespace gpubench
