#pragma once
// A minimal valid GPU profile as JSON, for tests to patch: fp32 peak 10 TFLOP/s at GEMM
// efficiency 0.5, copy bandwidth 1 GB/s, 1 us launches, no codecs.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

namespace ddlsim::test {

inline nlohmann::json profile_json()
{
  return {{"schema", 1},
          {"name", "test"},
          {"gpu", "Test GPU"},
          {"sm_count", 1},
          {"memory", "1GiB"},
          {"measured", false},
          {"source", "a test"},
          {"date", "2026-11-22"},
          {"command", "none"},
          {"driver", "none"},
          {"cuda", "none"},
          {"peak", {{"fp32", "10TFLOPS"}}},
          {"memory_bandwidth", "2GBps"},
          {"copy_bandwidth", "1GBps"},
          {"launch_overhead", "1us"},
          {"gemm_efficiency", 0.5}};
}

/// Exact text of a duration in seconds ("1.2345678901234567e-05s").
inline std::string seconds_text(double s)
{
  return fmt::format("{:.17g}s", s);
}

inline std::string write_profile(const std::string& name, const nlohmann::json& profile)
{
  const auto path = std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "-" + name + ".json");
  std::ofstream(path) << profile.dump(2);
  return path.string();
}

}  // namespace ddlsim::test
