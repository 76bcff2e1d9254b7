#pragma once
// `ddlsim calibrate`: the GPU microbenchmarks (calibration/cuda) into a profile, a network
// calibration fitted from nccl-tests logs, or a measured single-GPU iteration into a profile.
#include <string>
#include <vector>

namespace ddlsim::cli {

struct NcclCalibrationRequest {
  std::vector<std::string> logs;
  std::string op = "all_reduce";
  int ranks = 0;      ///< 0: from the log's rank lines
  std::string scope;  ///< empty: intra_node for one host, inter_node for several
  bool in_place = false;
  std::string output;  ///< network calibration file; its other scopes are kept
  std::string command;
};

/// Fits each log, writes `output`, and returns the readable summary. Throws ScenarioError for
/// unreadable or malformed logs (with the line), a scope given twice, an unknown operation.
std::string calibrate_from_nccl_tests(const NcclCalibrationRequest& request);

struct IterationRecord {
  std::string profile;  ///< a profile file (.json) or a shipped name
  std::string model;
  int batch = 0;
  std::string precision = "fp32";
  double seconds = 0;
  std::string source;
};

/// Adds (or replaces) a measured iteration in the profile file; returns what was written.
std::string calibrate_from_iteration(const IterationRecord& record);

/// The microbenchmark program built with this ddlsim, or empty when it was built without CUDA.
std::string gpu_benchmark_program();

}  // namespace ddlsim::cli
