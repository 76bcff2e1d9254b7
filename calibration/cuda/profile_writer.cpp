// Writes the microbenchmarks' results as a GPU profile (calibration/profiles/README.md): measured
// curves, plus the datasheet peaks the efficiencies are taken against.
#include "calibration/cuda/bench.hpp"
#include "calibration/utc_date.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace gpubench {

namespace {

struct Datasheet {
  const char* match;  ///< a substring of the CUDA device name
  const char* profile;
  std::map<std::string, double> peak_tflops;  ///< dense
  double memory_gbps;
  const char* source;
  const char* unless = nullptr;  ///< a substring of other variants' names, which this row must not claim
};

// Dense peaks (the datasheets' tensor figures are "with sparsity", twice these).
const std::vector<Datasheet>& datasheets()
{
  static const std::vector<Datasheet> table{
      // NVIDIA H200 Tensor Core GPU datasheet (2024), SXM: compute as H100 SXM, HBM3e 4.8 TB/s. The
      // PCIe cards (H200 NVL, H100 NVL) run at lower power and clocks, with other peaks: they are
      // not in this table, so their profiles take the measured peaks.
      {"H200",
       "h200-sxm",
       {{"fp32", 67}, {"tf32", 494.7}, {"fp16", 989.4}, {"bf16", 989.4}, {"fp8", 1978.9}},
       4800,
       "NVIDIA H200 datasheet, SXM (dense)",
       "NVL"},
      // NVIDIA H100 Tensor Core GPU datasheet (2023), PCIe: fp32 51, tf32 378, fp16/bf16 756.5, fp8
      // 1513 TFLOPS dense (756, 1,513 and 3,026 with sparsity); HBM2e 2 TB/s. Before "H100": its
      // CUDA name ("NVIDIA H100 PCIe") contains that too.
      {"H100 PCIe",
       "h100-pcie",
       {{"fp32", 51}, {"tf32", 378}, {"fp16", 756.5}, {"bf16", 756.5}, {"fp8", 1513}},
       2000,
       "NVIDIA H100 datasheet, PCIe (dense)"},
      // NVIDIA H100 Tensor Core GPU datasheet (2023), SXM5: fp32 67, tf32 494.7, fp16/bf16 989.4,
      // fp8 1978.9 TFLOPS dense; HBM3 3.35 TB/s.
      {"H100",
       "h100-sxm",
       {{"fp32", 67}, {"tf32", 494.7}, {"fp16", 989.4}, {"bf16", 989.4}, {"fp8", 1978.9}},
       3350,
       "NVIDIA H100 datasheet, SXM5 (dense)",
       "NVL"},
      // NVIDIA A100 Tensor Core GPU datasheet (2021), 80GB SXM: fp32 19.5, tf32 156, fp16/bf16 312;
      // HBM2e 2,039 GB/s.
      {"A100",
       "a100-sxm4",
       {{"fp32", 19.5}, {"tf32", 156}, {"fp16", 312}, {"bf16", 312}},
       2039,
       "NVIDIA A100 datasheet, 80GB SXM (dense)"},
  };
  return table;
}

std::string us(double seconds)
{
  return fmt::format("{:.6g}us", seconds * 1e6);
}

/// Times that never fall as sizes grow (timing noise at launch-bound sizes), as the loader requires.
nlohmann::json curve(const std::vector<CurvePoint>& points)
{
  nlohmann::json out = nlohmann::json::array();
  double floor = 0;
  for (const CurvePoint& p : points) {
    floor = std::max(floor, p.seconds);
    out.push_back({{"elements", p.elements}, {"time", us(floor)}});
  }
  return out;
}

}  // namespace

std::string parse_nvrm_version(const std::string& text)
{
  std::istringstream line(text.substr(0, text.find('\n')));
  for (std::string token; line >> token;) {
    const bool digits_and_dots = std::all_of(
        token.begin(), token.end(), [](char c) { return c == '.' || std::isdigit(static_cast<unsigned char>(c)); });
    if (digits_and_dots && token.find('.') != std::string::npos && std::isdigit(static_cast<unsigned char>(token[0])) &&
        std::isdigit(static_cast<unsigned char>(token.back())))
      return token;
  }
  return "";
}

std::string nvidia_driver_version()
{
  if (void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    using Init = int (*)();
    using Version = int (*)(char*, unsigned);
    const auto init = reinterpret_cast<Init>(dlsym(nvml, "nvmlInit_v2"));
    const auto version = reinterpret_cast<Version>(dlsym(nvml, "nvmlSystemGetDriverVersion"));
    const auto shutdown = reinterpret_cast<Init>(dlsym(nvml, "nvmlShutdown"));
    std::string found;
    if (init && version && shutdown && init() == 0) {  // NVML_SUCCESS
      char text[96] = {};
      if (version(text, sizeof text) == 0)
        found = text;
      shutdown();
    }
    dlclose(nvml);
    if (!found.empty())
      return found;
  }
  std::ifstream proc("/proc/driver/nvidia/version");
  std::string first;
  std::getline(proc, first);
  return parse_nvrm_version(first);
}

std::string driver_description(const std::string& version, int cuda_driver_api)
{
  return fmt::format("{} (CUDA driver API {}.{})", version.empty() ? "NVIDIA driver of unknown version" : version,
                     cuda_driver_api / 1000, cuda_driver_api % 1000 / 10);
}

void write_profile(const Options& o, const Results& r)
{
  const Datasheet* sheet = nullptr;
  for (const Datasheet& d : datasheets())
    if (r.device.name.find(d.match) != std::string::npos &&
        !(d.unless && r.device.name.find(d.unless) != std::string::npos)) {
      sheet = &d;
      break;
    }
  std::string name;
  if (sheet) {
    name = sheet->profile;
  } else {
    for (char c : r.device.name)
      name += std::isalnum(static_cast<unsigned char>(c)) ? char(std::tolower(static_cast<unsigned char>(c))) : '-';
  }
  const std::string date = ddlsim::utc_date();

  std::map<std::string, double> best;  // measured GEMM rate by dtype
  nlohmann::json gemm = nlohmann::json::object();
  for (const GemmPoint& g : r.gemm) {
    best[g.dtype] = std::max(best[g.dtype], 2.0 * g.m * g.n * g.k / g.seconds);
    gemm[g.dtype].push_back({{"m", g.m}, {"n", g.n}, {"k", g.k}, {"time", fmt::format("{:.6g}s", g.seconds)}});
  }
  nlohmann::json peak = nlohmann::json::object();
  double memory_bandwidth = 0;
  std::string peak_source;
  if (sheet) {
    for (const auto& [dtype, tflops] : sheet->peak_tflops)
      peak[dtype] = fmt::format("{}TFLOPS", tflops);
    memory_bandwidth = sheet->memory_gbps * 1e9;
    peak_source = std::string("peaks and memory bandwidth: ") + sheet->source;
  } else {
    for (const auto& [dtype, rate] : best)
      peak[dtype] = fmt::format("{:.6g}TFLOPS", rate / 1e12);
    for (const BandwidthPoint& b : r.bandwidth)
      if (b.kind == "read")
        memory_bandwidth = std::max(memory_bandwidth, b.bytes_per_s);
    peak_source = "peaks: the best measured GEMM rate, memory bandwidth: the best measured read (GPU not in the "
                  "datasheet table of calibration/cuda/profile_writer.cpp)";
  }
  double copy = 0, copy_bytes = 0;
  nlohmann::json bandwidth = nlohmann::json::object();
  for (const BandwidthPoint& b : r.bandwidth) {
    bandwidth[b.kind].push_back({{"bytes", b.bytes}, {"bandwidth", fmt::format("{:.6g}GB/s", b.bytes_per_s / 1e9)}});
    if (b.kind == "copy" && b.bytes > copy_bytes)
      copy = b.bytes_per_s, copy_bytes = b.bytes;
  }
  // Fraction of the peak a large GEMM reaches: fp32's, or the best of the dtypes measured without it.
  double efficiency = 0;
  for (const auto& [dtype, rate] : best) {
    const double p = sheet && sheet->peak_tflops.count(dtype) ? sheet->peak_tflops.at(dtype) * 1e12 : rate;
    if (dtype == "fp32" || !best.count("fp32"))
      efficiency = std::max(efficiency, std::min(1.0, rate / p));
  }
  if (efficiency <= 0)
    efficiency = 1;  // no GEMM measured: the profile's peaks stand as they are
  nlohmann::json codecs = nlohmann::json::object();
  for (const CodecResult& c : r.codecs) {
    nlohmann::json e = {{"source", fmt::format("measured on {} on {}: {}", r.device.name, date, c.method)},
                        {"encode", curve(c.encode)},
                        {"decode", curve(c.decode)}};
    if (c.ratio > 0)
      e["ratio"] = c.ratio;
    codecs[c.name] = e;
  }
  nlohmann::json doc = {
      {"schema", 1},
      {"name", name},
      {"gpu", r.device.name},
      {"sm_count", r.device.sm_count},
      {"memory", fmt::format("{}B", r.device.memory_bytes)},
      {"measured", true},
      {"source",
       fmt::format("ddlsim GPU microbenchmarks (calibration/cuda): CUDA events, median after warm-up, "
                   "results checked against the CPU; {}{}",
                   peak_source,
                   r.gemm_skipped.empty() ? "" : fmt::format("; not measured: {}", fmt::join(r.gemm_skipped, "; ")))},
      {"date", date},
      {"command", o.command},
      {"driver", r.device.driver},
      {"cuda", r.device.runtime},
      {"peak", peak},
      {"memory_bandwidth", fmt::format("{:.6g}GB/s", memory_bandwidth / 1e9)},
      {"copy_bandwidth", fmt::format("{:.6g}GB/s", copy / 1e9)},
      {"launch_overhead", us(std::max(r.launch_seconds, r.gpu_launch_seconds))},
      {"gemm_efficiency", efficiency},
      {"gemm", gemm},
      {"bandwidth", bandwidth},
      {"codecs", codecs},
      {"checks", r.checks}};
  if (r.sync_seconds > 0)
    doc["sync_round_trip"] = us(r.sync_seconds);
  if (!r.reduce.empty())
    doc["reduce"] = curve(r.reduce);
  const std::string path = !o.output.empty() ? o.output : o.profile_dir + "/" + name + ".json";
  std::ofstream out(path);
  out << doc.dump(2) << "\n";
  if (!out)
    throw std::runtime_error("cannot write " + path);
  std::fprintf(stdout, "wrote %s (%s, measured %s)\n", path.c_str(), r.device.name.c_str(), date.c_str());
  for (const auto& [dtype, rate] : best)
    std::fprintf(stdout, "  best %s GEMM: %.1f TFLOP/s%s\n", dtype.c_str(), rate / 1e12,
                 sheet && sheet->peak_tflops.count(dtype)
                     ? fmt::format(" ({:.0f} % of the datasheet's {})",
                                   100 * rate / (sheet->peak_tflops.at(dtype) * 1e12), sheet->peak_tflops.at(dtype))
                           .c_str()
                     : "");
  std::fprintf(stdout, "  copy %.0f GB/s (reads + writes) against %.0f GB/s HBM\n", copy / 1e9, memory_bandwidth / 1e9);
  for (const std::string& c : r.checks)
    std::fprintf(stdout, "  check: %s\n", c.c_str());
}

}  // namespace gpubench
