#pragma once
// A GPU profile for compression tests, written to a temporary file: linear codec costs chosen per
// test, a 1 TFLOP/s fp32 GEMM rate, 1 us launches and a copy bandwidth so high that reductions
// and PowerSGD's memory traffic cost nothing measurable.
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace ddlsim::test {

inline std::string temp_file(const std::string& name, const std::string& text)
{
  const auto path = std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

/// top-k (at ratio 0.01) encodes `encode` and decodes `decode` per million elements; signsgd and
/// error_feedback have fixed curves (see codec_test).
inline std::string test_profile(const std::string& encode = "100us", const std::string& decode = "10us")
{
  return temp_file("profile-" + encode + "-" + decode + ".json",
                   R"({"schema": 1, "name": "test", "gpu": "Test GPU", "sm_count": 1,
    "memory": "1GiB", "measured": false, "source": "made up for a test", "date": "2026-11-22",
    "command": "none", "driver": "none", "cuda": "none", "peak": {"fp32": "1TFLOPS"},
    "memory_bandwidth": "1TBps", "copy_bandwidth": "1e21Bps", "launch_overhead": "1us", "gemm_efficiency": 1,
    "codecs": {
      "topk": {"ratio": 0.01, "source": "test", "encode": [{"elements": 1e6, "time": ")" +
                       encode + R"("}],
               "decode": [{"elements": 1e6, "time": ")" +
                       decode + R"("}]},
      "signsgd": {"source": "test", "encode": [{"elements": 1000, "time": "5us"}, {"elements": 2000, "time": "7us"}],
                  "decode": [{"elements": 1000, "time": "1us"}]},
      "error_feedback": {"source": "test", "encode": [{"elements": 1e6, "time": "20us"}],
                         "decode": [{"elements": 1e6, "time": "30us"}]}}})");
}

}  // namespace ddlsim::test
