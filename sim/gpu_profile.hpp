#pragma once
// A GPU profile (calibration/profiles/*.json): what one GPU was measured to do, or what is
// estimated for it, with the metadata that says which. The simulator takes codec costs (and,
// where a scenario asks, peaks and memory bandwidth) from it. Format: calibration/profiles/README.md.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ddlsim {

/// Seconds as a function of elements, through measured points (elements increasing): linear
/// between points, the first point's time below it (launch-bound), and the last segment's slope
/// beyond the last point (bandwidth-bound).
struct CostCurve {
  std::vector<double> elements;
  std::vector<double> seconds;
  double at(double n) const;
};

/// Encode and decode cost of one codec on one GPU. Decode is one payload turned back into a dense
/// gradient and added into the accumulator.
struct CodecCost {
  CostCurve encode, decode;
  double ratio = 0;    ///< sparsifiers: the ratio the curves were taken at (decode scales with it)
  std::string source;  ///< how the numbers were obtained
};

struct GpuProfile {
  std::string file;  ///< where it was read from
  std::string name, gpu;
  bool measured = false;     ///< false: estimates (source says from what)
  std::string derived_from;  ///< the measured profile this one was scaled from, or empty
  std::string source, date, command, driver, cuda;
  int sm_count = 0;
  double memory_bytes = 0;
  std::map<std::string, double, std::less<>> peak_flops_per_s;  ///< by dtype: fp32, tf32, fp16, bf16, fp8
  double memory_bandwidth_bytes_per_s = 0;                      ///< peak (datasheet) HBM bandwidth
  double copy_bandwidth_bytes_per_s = 0;                        ///< reached by a device-to-device copy
  double launch_seconds = 0;                                    ///< one kernel launch
  double gemm_efficiency = 0;                                   ///< fraction of peak a large GEMM reaches
  std::map<std::string, CodecCost, std::less<>> codecs;

  /// Peak of `dtype`, 0 when the GPU has none.
  double peak(std::string_view dtype) const;
  /// The codec's cost, or nullptr when the profile has none for it.
  const CodecCost* codec(std::string_view name) const;
};

/// Reads and checks a profile; throws ScenarioError naming the file and JSON path.
GpuProfile load_profile(const std::string& path);

/// The folder of shipped profiles: $DDLSIM_PROFILE_DIR, else the source tree's calibration/profiles.
std::string profile_dir();
/// Names of the shipped profiles, sorted.
std::vector<std::string> shipped_profiles();
/// The file a scenario's `gpu.profile` names: a shipped name ("v100-sxm2"), or a path ending in
/// ".json", relative to the scenario's folder. Empty when a name is not shipped.
std::string resolve_profile(const std::string& reference, const std::string& scenario_file);

}  // namespace ddlsim
