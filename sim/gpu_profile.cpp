#include "sim/gpu_profile.hpp"

#include "sim/error.hpp"
#include "sim/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

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

CostCurve parse_curve(const JsonNode& node)
{
  const std::size_t n = node.array_size();
  if (n == 0)
    node.fail("expected at least one point {\"elements\": 1048576, \"time\": \"25us\"}");
  CostCurve c;
  for (std::size_t i = 0; i < n; ++i) {
    const JsonNode point = node.element(i);
    point.allow_keys({"elements", "time"});
    const double elements = point.child("elements").as_number(Bound::positive);
    const double seconds = point.quantity("time", Dimension::seconds, Bound::positive);
    if (!c.elements.empty() && elements <= c.elements.back())
      point.child("elements")
          .fail(fmt::format("found {:g}; expected more elements than the point before ({:g})", elements,
                            c.elements.back()));
    if (!c.seconds.empty() && seconds < c.seconds.back())
      point.child("time").fail("expected a time no shorter than the point before (more elements take longer)");
    c.elements.push_back(elements);
    c.seconds.push_back(seconds);
  }
  return c;
}

}  // namespace

GpuProfile load_profile(const std::string& path)
{
  const nlohmann::json doc = read_json_file(path);
  const JsonNode root(doc, path, "");
  root.allow_keys({"schema", "name", "gpu", "sm_count", "memory", "measured", "derived_from", "source", "date",
                   "command", "driver", "cuda", "peak", "memory_bandwidth", "copy_bandwidth", "launch_overhead",
                   "gemm_efficiency", "codecs"});
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

}  // namespace ddlsim
