// `ddlsim sweep --table`: training throughput of a finished sweep as a table of two swept paths.
#include "sim/cli/sweep.hpp"

#include "sim/cli/sweep_results.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

using namespace ddlsim::scenario;

namespace ddlsim::cli {

using nlohmann::json;

namespace {

/// A swept value as a table label: strings as they are, objects as their first string member and
/// then key=value ({"codec": "topk", "ratio": 0.01} -> "topk ratio=0.01"), anything else as JSON.
std::string value_label(const json& v)
{
  if (v.is_string())
    return v.get<std::string>();
  if (!v.is_object())
    return v.dump();
  std::string out;
  bool named = false;
  for (const auto& [key, item] : v.items()) {
    if (!out.empty())
      out += ' ';
    if (!named && item.is_string()) {
      named = true;
      out += item.get<std::string>();
    } else {
      out += key;
      out += '=';
      out += value_label(item);
    }
  }
  return out;
}

}  // namespace

std::string sweep_table(const Sweep& sweep, const std::string& out_dir, const std::string& row_path,
                        const std::string& col_path)
{
  const auto index_of = [&](const std::string& path) {
    const auto it = std::find(sweep.paths.begin(), sweep.paths.end(), path);
    if (it == sweep.paths.end())
      throw ScenarioError(sweep.file, "/sweep",
                          fmt::format("--table names '{}', which this sweep does not vary; it varies {}", path,
                                      join_names(sweep.paths)));
    return static_cast<std::size_t>(it - sweep.paths.begin());
  };
  const std::size_t ri = index_of(row_path), ci = index_of(col_path);
  if (sweep.kind() != "training")
    throw ScenarioError(sweep.file, "/workload/kind", "--table shows training throughput; this sweep is not training");
  const std::vector<json>& rows = sweep.values[ri];
  const std::vector<json>& cols = sweep.values[ci];
  std::map<std::pair<std::size_t, std::size_t>, std::string> cells;
  std::map<std::pair<std::size_t, std::size_t>, double> values;
  const auto slot = [](const std::vector<json>& list, const json& v) {
    return static_cast<std::size_t>(std::find(list.begin(), list.end(), v) - list.begin());
  };
  for (const json& r : read_rows((std::filesystem::path(out_dir) / "results.jsonl").string())) {
    const std::size_t row = slot(rows, r.at("values").at(ri)), col = slot(cols, r.at("values").at(ci));
    if (r.at("status") == "ok" && r.at("metrics").contains("samples_per_s"))
      values[{row, col}] = r.at("metrics").at("samples_per_s").get<double>();
    else
      cells[{row, col}] = "failed";
  }
  std::size_t width = row_path.size();
  for (const json& v : rows)
    width = std::max(width, value_label(v).size());
  std::string out = fmt::format("samples/s (x of the first row's) by {} and {}\n{:<{}}", row_path, col_path, "", width);
  for (const json& c : cols)
    out += fmt::format("  {:>18}", value_label(c));
  out += '\n';
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out += fmt::format("{:<{}}", value_label(rows[r]), width);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      std::string text = "-";
      if (const auto it = values.find({r, c}); it != values.end()) {
        const auto base = values.find({0, c});
        text = base != values.end() && base->second > 0
                   ? fmt::format("{:.1f} ({:.2f}x)", it->second, it->second / base->second)
                   : fmt::format("{:.1f}", it->second);
      } else if (cells.count({r, c})) {
        text = "failed";
      }
      out += fmt::format("  {:>18}", text);
    }
    out += '\n';
  }
  return out;
}

}  // namespace ddlsim::cli
