// A sweep file: the base scenario, the swept paths and their values, and each point's scenario.
#include "sim/cli/sweep.hpp"

#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

using namespace ddlsim::scenario;

namespace ddlsim::cli {

using nlohmann::json;

namespace {

std::vector<std::string> split_path(const std::string& path)
{
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '.'))
    parts.push_back(part);
  return parts;
}

std::string pointer_of(const std::string& dotted)
{
  std::string out;
  for (const std::string& p : split_path(dotted))
    out += "/" + p;
  return out;
}

bool has_path(const json& doc, const std::string& dotted)
{
  const json* node = &doc;
  for (const std::string& part : split_path(dotted)) {
    if (!node->is_object() || !node->contains(part))
      return false;
    node = &(*node)[part];
  }
  return true;
}

/// FNV-1a, 64 bits: a fingerprint that is the same on every machine and build.
std::string fingerprint(const std::string& text)
{
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace

std::string Sweep::point_label(std::size_t index) const
{
  return fmt::format("{} (point {})", file, index);
}

std::string Sweep::kind() const
{
  const json* w = base.is_object() && base.contains("workload") ? &base["workload"] : nullptr;
  return w && w->is_object() && w->value("kind", json()) == "collective" ? "collective" : "training";
}

std::string Sweep::default_out_dir() const
{
  if (base.contains("output") && base["output"].is_object() && base["output"].value("dir", json()).is_string())
    return base["output"]["dir"].get<std::string>();
  return "out/" + (base.value("name", json()).is_string() ? base["name"].get<std::string>() : std::string("sweep"));
}

std::size_t Sweep::point_count() const
{
  if (values.empty())
    return 0;
  if (zip)
    return values.front().size();
  std::size_t n = 1;
  for (const auto& v : values)
    n *= v.size();
  return n;
}

std::vector<json> Sweep::point_values(std::size_t index) const
{
  std::vector<json> out(paths.size());
  for (std::size_t k = paths.size(); k-- > 0;) {
    if (zip) {
      out[k] = values[k][index];
    } else {
      out[k] = values[k][index % values[k].size()];
      index /= values[k].size();
    }
  }
  return out;
}

json Sweep::point_document(std::size_t index) const
{
  json doc = base;
  const std::vector<json> v = point_values(index);
  for (std::size_t k = 0; k < paths.size(); ++k) {
    json* node = &doc;
    for (const std::string& part : split_path(paths[k]))
      node = &(*node)[part];  // load_sweep checked that every intermediate is an object or absent
    *node = v[k];
  }
  return doc;
}

namespace {

/// A swept path is dotted, does not vary the sweep, has values, and does not go through a key
/// that holds something other than an object.
void check_swept_path(const json& doc, const JsonNode& node, const std::string& key, const json& value)
{
  const std::vector<std::string> parts = split_path(key);
  if (parts.empty() || std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); }))
    node.fail("'" + key + "' is not a dotted scenario path such as \"cluster.network.link\"");
  if (parts.front() == "sweep")
    node.fail("a sweep cannot vary itself");
  if (!value.is_array() || value.empty())
    node.fail("found " + describe_json(value) + "; expected a non-empty list of values");
  const json* at = &doc;
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + parts[i];
    if (!at->is_object() || !at->contains(parts[i]))
      break;
    at = &(*at)[parts[i]];
    if (!at->is_object())
      node.fail(fmt::format("'{}' holds {} in the scenario, not an object, so '{}' cannot be set; write it "
                            "as an object there",
                            walked, describe_json(*at), key));
  }
}

/// A path must name a key the scenario has: in the file itself, or in the resolved scenario
/// (every default explicit) of the base or of some point. Checked before anything runs.
void check_paths_known(const Sweep& s, const JsonNode& sweep)
{
  const std::string& path = s.file;
  std::vector<bool> known(s.paths.size());
  for (std::size_t k = 0; k < s.paths.size(); ++k)
    known[k] = has_path(s.base, s.paths[k]);
  auto mark = [&](const json& resolved) {
    for (std::size_t k = 0; k < s.paths.size(); ++k)
      known[k] = known[k] || has_path(resolved, s.paths[k]);
  };
  bool any_loaded = false;
  try {
    mark(to_json(parse_scenario(s.base, path)));
    any_loaded = true;
  } catch (const ScenarioError&) {
    // a base that does not load is fine when its points do (a sweep may fill in what it lacks)
  }
  // At most the first 1,000 points are tried: a sweep of a million points that all fail is
  // refused in seconds rather than run to a million failed rows.
  const std::size_t tried = std::min<std::size_t>(s.point_count(), 1000);
  const auto unknown = [&] {
    return std::find(known.begin(), known.end(), false) != known.end();
  };
  bool point_loaded = false;
  std::optional<ScenarioError> point_error;
  for (std::size_t i = 0; i < tried && (unknown() || !point_loaded); ++i) {
    try {
      mark(to_json(parse_scenario(s.point_document(i), s.point_label(i))));
      any_loaded = point_loaded = true;
    } catch (const ScenarioError& e) {
      if (!point_error)
        point_error = e;
    }
  }
  const auto nothing_loads = [&] {
    return ScenarioError(fmt::format("{} (none of the sweep's first {} points loads{})", point_error->what(), tried,
                                     any_loaded ? ", though the base scenario does" : ", nor does the base scenario"));
  };
  for (std::size_t k = 0; k < s.paths.size(); ++k) {
    if (known[k])
      continue;
    if (!any_loaded)  // nothing loads: that, not the path, is the problem to report
      throw nothing_loads();
    sweep.child(s.paths[k])
        .fail(fmt::format("'{}' ({}) names no key of the scenario (nor of the resolved base or first {} points); "
                          "scenarios/README.md lists the keys",
                          s.paths[k], pointer_of(s.paths[k]), tried));
  }
  if (!point_loaded)  // a million points that all fail are refused before the first runs
    throw nothing_loads();
}

}  // namespace

Sweep load_sweep(const std::string& path)
{
  Sweep s;
  s.file = path;
  json doc = read_json_file(path);
  const JsonNode root(doc, path, "");
  if (!root.is_object())
    root.fail("found " + describe_json(doc) + "; expected a scenario object with a \"sweep\" key");
  const JsonNode sweep = root.child("sweep");
  if (!sweep.is_object() || sweep.raw().empty())
    sweep.fail("found " + describe_json(sweep.raw()) +
               R"(; expected an object of scenario paths and value lists, e.g. {"cluster.nodes": [2, 4, 8]})");
  s.id = fingerprint(doc.dump());
  for (const auto& [key, value] : sweep.raw().items()) {
    const JsonNode node = sweep.child(key);
    if (key == "mode") {
      s.zip = node.as_choice({"grid", "zip"}) == 1;
      continue;
    }
    check_swept_path(doc, node, key, value);
    s.paths.push_back(key);
    s.values.push_back(value.get<std::vector<json>>());
  }
  if (s.paths.empty())
    sweep.fail("no scenario paths to vary; expected e.g. {\"cluster.nodes\": [2, 4, 8]}");
  if (s.zip)
    for (std::size_t k = 1; k < s.paths.size(); ++k)
      if (s.values[k].size() != s.values[0].size())
        sweep.child(s.paths[k])
            .fail(fmt::format("zip mode: {} values, but '{}' has {}", s.values[k].size(), s.paths[0],
                              s.values[0].size()));
  s.base = doc;
  s.base.erase("sweep");
  if (!s.zip) {
    double n = 1;
    for (const auto& v : s.values)
      n *= double(v.size());
    if (n > 1e7)
      sweep.fail(fmt::format("the grid has {:.0f} points; at most 10,000,000 are allowed", n));
  }
  check_paths_known(s, sweep);
  return s;
}

}  // namespace ddlsim::cli
