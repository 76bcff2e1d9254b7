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

/// Measured GEMM times of one dtype over a full grid of shapes (every m x every n x every k),
/// C(m x n) = A(m x k) B(k x n). Throughput between grid points is interpolated linearly in
/// (log2 m, log2 n, log2 k) on log(flop/s), and held at the edge value outside the grid.
struct GemmGrid {
  std::vector<double> m, n, k;      ///< increasing
  std::vector<double> flops_per_s;  ///< index (i * n.size() + j) * k.size() + l
  double rate(double m, double n, double k) const;
};

/// Bandwidth as a function of transfer size, through measured points (bytes increasing):
/// linear in log(bytes) between points, held at the edge values outside.
struct BandwidthCurve {
  std::vector<double> bytes;
  std::vector<double> bytes_per_s;
  double at(double size) const;
};

/// A single-GPU iteration measured for a model (`ddlsim calibrate --from-iteration`).
struct MeasuredIteration {
  std::string model;
  int batch = 0;
  std::string precision;
  double seconds = 0;
  std::string source;
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
  // Optional measured curves (calibration/cuda); without them the scalars above stand in.
  std::map<std::string, GemmGrid, std::less<>> gemm;             ///< by dtype
  std::map<std::string, BandwidthCurve, std::less<>> bandwidth;  ///< copy, read, write, h2d, d2h
  CostCurve reduce;         ///< summing one received fp32 buffer into another (elements, seconds)
  double sync_seconds = 0;  ///< a launch and a host synchronisation, round trip (0: not measured)
  std::vector<MeasuredIteration> iterations;

  /// Peak of `dtype`, 0 when the GPU has none.
  double peak(std::string_view dtype) const;
  /// Where its numbers come from, as reports say it: "measured", "derived from the measured NAME"
  /// or "estimated".
  std::string provenance() const;
  /// Seconds of one GEMM of this shape: the measured grid's throughput when there is one for
  /// `dtype`, else gemm_efficiency x the dtype's peak; never below one launch. Throws
  /// std::invalid_argument when the GPU has no peak for `dtype`.
  double gemm_seconds(std::string_view dtype, double m, double n, double k) const;
  /// Device memory bandwidth of a `kind` pass (copy, read, write) over `bytes`: the measured
  /// curve, else copy_bandwidth.
  double memory_bandwidth(std::string_view kind, double bytes) const;
  /// Memory traffic rate of the all-reduce reduction (a += b moves 12 bytes an fp32 element): from
  /// the last segment of the measured `reduce` curve, else copy_bandwidth.
  double reduction_bandwidth() const;
  /// The measured iteration of `model` at `batch` and `precision`, or nullptr.
  const MeasuredIteration* iteration(std::string_view model, int batch, std::string_view precision) const;
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
/// The profile file a command-line option names (a shipped name, or a .json path relative to the
/// working directory); ScenarioError "OPTION: found ...; expected ..." when there is none.
std::string profile_option(const std::string& reference, const std::string& option);

}  // namespace ddlsim
