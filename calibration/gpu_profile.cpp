#include "calibration/gpu_profile.hpp"

#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

using namespace ddlsim::scenario;

namespace ddlsim {

double CostCurve::at(double n) const
{
  const std::size_t k = elements.size();
  if (k == 0)
    return 0;
  if (k == 1)  // one point: its time below it, proportional above
    return seconds.front() * std::max(1.0, n / elements.front());
  if (n <= elements.front())
    return seconds.front();
  std::size_t i = 1;
  while (i + 1 < k && elements[i] < n)
    ++i;
  const double slope = (seconds[i] - seconds[i - 1]) / (elements[i] - elements[i - 1]);
  return seconds[i - 1] + slope * (n - elements[i - 1]);
}

namespace {

/// Index of the segment [v[i], v[i+1]] holding x and the fraction of the way along it in log
/// space; x outside [v.front(), v.back()] is held at the edge.
std::pair<std::size_t, double> log_segment(const std::vector<double>& v, double x)
{
  if (v.size() == 1 || x <= v.front())
    return {0, 0.0};
  if (x >= v.back())
    return {v.size() - 2, 1.0};
  std::size_t i = 0;
  while (v[i + 1] < x)
    ++i;
  return {i, std::log(x / v[i]) / std::log(v[i + 1] / v[i])};
}

}  // namespace

double GemmGrid::rate(double mm, double nn, double kk) const
{
  const auto [i, fi] = log_segment(m, mm);
  const auto [j, fj] = log_segment(n, nn);
  const auto [l, fl] = log_segment(k, kk);
  const auto at = [&](std::size_t a, std::size_t b, std::size_t c) {
    a = std::min(a, m.size() - 1);
    b = std::min(b, n.size() - 1);
    c = std::min(c, k.size() - 1);
    return std::log(flops_per_s[(a * n.size() + b) * k.size() + c]);
  };
  double sum = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        const double w = (a ? fi : 1 - fi) * (b ? fj : 1 - fj) * (c ? fl : 1 - fl);
        if (w > 0)
          sum += w * at(i + a, j + b, l + c);
      }
  return std::exp(sum);
}

double BandwidthCurve::at(double size) const
{
  if (bytes.empty())
    return 0;
  const auto [i, f] = log_segment(bytes, size);
  if (bytes.size() == 1)
    return bytes_per_s.front();
  return bytes_per_s[i] + f * (bytes_per_s[i + 1] - bytes_per_s[i]);
}

std::string GpuProfile::provenance() const
{
  if (measured)
    return "measured";
  return derived_from.empty() ? "estimated" : "derived from the measured " + derived_from;
}

double GpuProfile::gemm_seconds(std::string_view dtype, double m, double n, double k) const
{
  const double flops = 2 * m * n * k;
  double rate = 0;
  if (const auto g = gemm.find(dtype); g != gemm.end())
    rate = g->second.rate(m, n, k);
  else if (peak(dtype) > 0)
    rate = peak(dtype) * gemm_efficiency;
  else
    throw std::invalid_argument(fmt::format("GPU profile {} has no {} peak or GEMM measurements", file, dtype));
  return std::max(flops / rate, launch_seconds);
}

double GpuProfile::memory_bandwidth(std::string_view kind, double bytes) const
{
  if (const auto c = bandwidth.find(kind); c != bandwidth.end())
    return c->second.at(bytes);
  return copy_bandwidth_bytes_per_s;
}

double GpuProfile::reduction_bandwidth() const
{
  const std::size_t n = reduce.elements.size();
  if (n < 2 || reduce.seconds[n - 1] <= reduce.seconds[n - 2])
    return copy_bandwidth_bytes_per_s;
  return 12 * (reduce.elements[n - 1] - reduce.elements[n - 2]) / (reduce.seconds[n - 1] - reduce.seconds[n - 2]);
}

const MeasuredIteration* GpuProfile::iteration(std::string_view model, int batch, std::string_view precision) const
{
  for (const MeasuredIteration& it : iterations)
    if (it.model == model && it.batch == batch && it.precision == precision)
      return &it;
  return nullptr;
}

double GpuProfile::peak(std::string_view dtype) const
{
  const auto it = peak_flops_per_s.find(dtype);
  return it == peak_flops_per_s.end() ? 0 : it->second;
}

const CodecCost* GpuProfile::codec(std::string_view name) const
{
  const auto it = codecs.find(name);
  return it == codecs.end() ? nullptr : &it->second;
}

namespace {

/// Points {x_key, y_key} with x strictly increasing (and y non-decreasing when `monotone`); y
/// a quantity of `y_dim`.
std::pair<std::vector<double>, std::vector<double>> parse_points(const JsonNode& node, const char* x_key,
                                                                 const char* y_key, Dimension y_dim, bool monotone,
                                                                 const char* example)
{
  const std::size_t n = node.array_size();
  if (n == 0)
    node.fail(fmt::format("expected at least one point {}", example));
  std::vector<double> xs, ys;
  for (std::size_t i = 0; i < n; ++i) {
    const JsonNode point = node.element(i);
    point.allow_keys({x_key, y_key});
    const double x = point.child(x_key).as_number(Bound::positive);
    const double y = point.quantity(y_key, y_dim, Bound::positive);
    if (!xs.empty() && x <= xs.back())
      point.child(x_key).fail(
          fmt::format("found {:g}; expected more {} than the point before ({:g})", x, x_key, xs.back()));
    if (monotone && !ys.empty() && y < ys.back())
      point.child(y_key).fail("expected a time no shorter than the point before (more elements take longer)");
    xs.push_back(x);
    ys.push_back(y);
  }
  return {std::move(xs), std::move(ys)};
}

CostCurve parse_curve(const JsonNode& node)
{
  auto [elements, seconds] =
      parse_points(node, "elements", "time", Dimension::seconds, true, "{\"elements\": 1048576, \"time\": \"25us\"}");
  return {std::move(elements), std::move(seconds)};
}

const std::vector<std::string_view> DTYPES{"fp32", "tf32", "fp16", "bf16", "fp8"};

/// `gemm.DTYPE`: points {m, n, k, time} covering a full grid of shapes.
GemmGrid parse_gemm(const JsonNode& node)
{
  const std::size_t count = node.array_size();
  if (count == 0)
    node.fail("expected at least one point {\"m\": 4096, \"n\": 4096, \"k\": 4096, \"time\": \"1.2ms\"}");
  std::map<std::array<double, 3>, double> points;
  std::set<double> ms, ns, ks;
  for (std::size_t i = 0; i < count; ++i) {
    const JsonNode p = node.element(i);
    p.allow_keys({"m", "n", "k", "time"});
    const std::array<double, 3> shape{double(p.integer("m", 1)), double(p.integer("n", 1)), double(p.integer("k", 1))};
    const double seconds = p.quantity("time", Dimension::seconds, Bound::positive);
    if (!points.emplace(shape, 2 * shape[0] * shape[1] * shape[2] / seconds).second)
      p.fail("expected each (m, n, k) once; this shape is measured twice");
    ms.insert(shape[0]);
    ns.insert(shape[1]);
    ks.insert(shape[2]);
  }
  GemmGrid g{{ms.begin(), ms.end()}, {ns.begin(), ns.end()}, {ks.begin(), ks.end()}, {}};
  if (points.size() != g.m.size() * g.n.size() * g.k.size())
    node.fail(fmt::format("expected a full grid of shapes ({} m x {} n x {} k values = {} points); found {} points",
                          g.m.size(), g.n.size(), g.k.size(), g.m.size() * g.n.size() * g.k.size(), points.size()));
  for (double m : g.m)
    for (double n : g.n)
      for (double k : g.k)
        g.flops_per_s.push_back(points.at({m, n, k}));
  return g;
}

/// `bandwidth.KIND`: points {bytes, bandwidth}, bytes increasing.
BandwidthCurve parse_bandwidth(const JsonNode& node)
{
  auto [bytes, rates] = parse_points(node, "bytes", "bandwidth", Dimension::bytes_per_s, false,
                                     "{\"bytes\": 1048576, \"bandwidth\": \"1.5TB/s\"}");
  return {std::move(bytes), std::move(rates)};
}

}  // namespace

GpuProfile load_profile(const std::string& path)
{
  const nlohmann::json doc = read_json_file(path);
  const JsonNode root(doc, path, "");
  root.allow_keys({"schema",
                   "name",
                   "gpu",
                   "sm_count",
                   "memory",
                   "measured",
                   "derived_from",
                   "source",
                   "date",
                   "command",
                   "driver",
                   "cuda",
                   "peak",
                   "memory_bandwidth",
                   "copy_bandwidth",
                   "launch_overhead",
                   "gemm_efficiency",
                   "codecs",
                   "gemm",
                   "bandwidth",
                   "reduce",
                   "sync_round_trip",
                   "iterations",
                   "checks"});
  if (root.integer("schema", 1) != 1)
    root.child("schema").fail("expected 1 (the only profile schema this ddlsim reads)");
  GpuProfile p;
  p.file = path;
  p.name = root.string("name");
  p.gpu = root.string("gpu");
  p.sm_count = static_cast<int>(root.integer("sm_count", 1));
  p.memory_bytes = root.quantity("memory", Dimension::bytes, Bound::positive);
  p.measured = root.child("measured").as_bool();
  if (root.has("derived_from"))
    p.derived_from = root.string("derived_from");
  if (p.measured && !p.derived_from.empty())
    root.child("derived_from").fail("a measured profile is not derived from another; expected no 'derived_from'");
  p.source = root.string("source");
  p.date = root.string("date");
  p.command = root.string("command");
  p.driver = root.string("driver");
  p.cuda = root.string("cuda");
  const JsonNode peak = root.child("peak");
  if (!peak.is_object())
    peak.fail("expected an object of peaks by dtype, e.g. {\"fp32\": \"15.7TFLOPS\"}");
  peak.allow_keys({"fp32", "tf32", "fp16", "bf16", "fp8"});
  for (const auto& [dtype, value] : peak.raw().items())
    p.peak_flops_per_s[dtype] = peak.quantity(dtype, Dimension::flops_per_s, Bound::positive);
  if (p.peak("fp32") <= 0)
    peak.fail("expected an 'fp32' peak (every GPU of the field has one)");
  p.memory_bandwidth_bytes_per_s = root.quantity("memory_bandwidth", Dimension::bytes_per_s, Bound::positive);
  p.copy_bandwidth_bytes_per_s = root.quantity("copy_bandwidth", Dimension::bytes_per_s, Bound::positive);
  p.launch_seconds = root.quantity("launch_overhead", Dimension::seconds, Bound::positive);
  p.gemm_efficiency = root.child("gemm_efficiency").as_number(Bound::positive);
  if (p.gemm_efficiency > 1)
    root.child("gemm_efficiency").fail(fmt::format("found {}; expected a fraction in (0, 1]", p.gemm_efficiency));
  if (auto codecs = root.optional_child("codecs")) {
    if (!codecs->is_object())
      codecs->fail("expected an object of codec costs by codec name");
    for (const auto& [name, value] : codecs->raw().items()) {
      const JsonNode c = codecs->child(name);
      c.allow_keys({"encode", "decode", "ratio", "source"});
      CodecCost cost;
      cost.encode = parse_curve(c.child("encode"));
      cost.decode = parse_curve(c.child("decode"));
      cost.ratio = c.number_or("ratio", 0, Bound::positive);
      if (cost.ratio >= 1)
        c.child("ratio").fail(fmt::format("found {}; expected a fraction in (0, 1)", cost.ratio));
      cost.source = c.string("source");
      p.codecs.emplace(name, std::move(cost));
    }
  }
  if (auto gemm = root.optional_child("gemm")) {
    if (!gemm->is_object())
      gemm->fail("expected an object of GEMM measurements by dtype");
    gemm->allow_keys({"fp32", "tf32", "fp16", "bf16", "fp8"});
    for (const auto& [dtype, value] : gemm->raw().items()) {
      if (p.peak(dtype) <= 0)
        gemm->child(dtype).fail(fmt::format("expected a '{}' peak in 'peak' for these measurements", dtype));
      p.gemm.emplace(dtype, parse_gemm(gemm->child(dtype)));
    }
  }
  if (auto curves = root.optional_child("bandwidth")) {
    if (!curves->is_object())
      curves->fail("expected an object of bandwidth curves by kind");
    curves->allow_keys({"copy", "read", "write", "h2d", "d2h"});
    for (const auto& [kind, value] : curves->raw().items())
      p.bandwidth.emplace(kind, parse_bandwidth(curves->child(kind)));
  }
  if (auto reduce = root.optional_child("reduce"))
    p.reduce = parse_curve(*reduce);
  p.sync_seconds = root.quantity_or("sync_round_trip", Dimension::seconds, 0, Bound::positive);
  if (auto its = root.optional_child("iterations")) {
    for (std::size_t i = 0; i < its->array_size(); ++i) {
      const JsonNode it = its->element(i);
      it.allow_keys({"model", "batch", "precision", "time", "source"});
      MeasuredIteration m{it.string("model"), static_cast<int>(it.integer("batch", 1)), it.string("precision"),
                          it.quantity("time", Dimension::seconds, Bound::positive), it.string("source")};
      if (std::find(DTYPES.begin(), DTYPES.end(), m.precision) == DTYPES.end())
        it.child("precision")
            .fail(fmt::format("found '{}'; expected one of: fp32, tf32, fp16, bf16, fp8", m.precision));
      if (p.iteration(m.model, m.batch, m.precision))
        it.fail(fmt::format("expected one measurement per model, batch and precision; {} batch {} {} is here twice",
                            m.model, m.batch, m.precision));
      p.iterations.push_back(std::move(m));
    }
  }
  return p;
}

std::string profile_dir()
{
  if (const char* dir = std::getenv("DDLSIM_PROFILE_DIR"); dir && *dir)
    return dir;
  return DDLSIM_PROFILE_DIR;
}

std::vector<std::string> shipped_profiles()
{
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(profile_dir(), ec))
    if (entry.path().extension() == ".json")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string resolve_profile(const std::string& reference, const std::string& scenario_file)
{
  namespace fs = std::filesystem;
  if (reference.size() > 5 && reference.ends_with(".json")) {
    const fs::path p(reference);
    return p.is_absolute() ? p.string() : (fs::path(scenario_file).parent_path() / p).lexically_normal().string();
  }
  const auto names = shipped_profiles();
  if (!std::binary_search(names.begin(), names.end(), reference))
    return {};
  return (fs::path(profile_dir()) / (reference + ".json")).string();
}

std::string profile_option(const std::string& reference, const std::string& option)
{
  const std::string path = resolve_profile(reference, "");  // no scenario: relative to the working directory
  if (path.empty() || !std::filesystem::exists(path))
    throw ScenarioError(fmt::format("{}: found '{}'; expected a shipped GPU profile ({}) or a path to a profile "
                                    "ending in .json",
                                    option, reference, join_names(shipped_profiles())));
  return path;
}

}  // namespace ddlsim
