// A sweep's result store: rows of results.jsonl (one per finished point), the CSV made from
// them, and merging the folders of several shards.
#include "sim/cli/sweep_results.hpp"

#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace ddlsim::cli {

using nlohmann::json;
using scenario::describe_json;
using scenario::ScenarioError;
using scenario::SimulationError;
using scenario::write_file_atomically;

namespace {

/// The metric columns of a sweep's CSV, in order: fixed per workload kind, so rows streamed
/// one at a time line up with the header.
const std::vector<std::string>& metric_columns(const std::string& kind)
{
  static const std::vector<std::string> training{"gpus",
                                                 "iteration_time_s",
                                                 "samples_per_s",
                                                 "tokens_per_s",
                                                 "scaling_efficiency",
                                                 "compute_s",
                                                 "exposed_communication_s",
                                                 "bytes_sent_per_gpu",
                                                 "algorithm",
                                                 "fidelity",
                                                 "codec_s",
                                                 "bubble_s",
                                                 "tensor_s",
                                                 "expert_s",
                                                 "memory_bytes_per_gpu",
                                                 "fits_memory",
                                                 "effective_samples_per_s"};
  static const std::vector<std::string> collective{"gpus",       "size_bytes", "time_us", "algbw_GBps",
                                                   "busbw_GBps", "algorithm",  "fidelity"};
  return kind == "collective" ? collective : training;
}

/// Appends ",text" (one character, then the text: GCC 12 warns, wrongly, on "," + string here).
void cell(std::string& out, const std::string& text)
{
  out += ',';
  out += text;
}

/// A row of results.jsonl as run_sweep writes it: every key this code reads, of its type.
void check_row(const json& row, const std::string& file, std::size_t number)
{
  const auto fail = [&](const std::string& what) {
    throw ScenarioError(file, "", fmt::format("line {}: not a sweep result row: {}", number, what));
  };
  if (!row.is_object())
    fail("found " + describe_json(row) + "; expected an object");
  const auto require = [&](const char* key, bool ok, const char* expected) {
    if (!row.contains(key))
      fail(fmt::format("no '{}'; expected {}", key, expected));
    if (!ok)
      fail(fmt::format("'{}' is {}; expected {}", key, describe_json(row.at(key)), expected));
  };
  require("point", row.contains("point") && row.at("point").is_number_unsigned(), "a point index (0 or more)");
  require("sweep_id", row.contains("sweep_id") && row.at("sweep_id").is_string(), "the sweep's id (a string)");
  require("kind",
          row.contains("kind") && row.at("kind").is_string() &&
              (row.at("kind") == "training" || row.at("kind") == "collective"),
          "'training' or 'collective'");
  require("status", row.contains("status") && row.at("status").is_string(), "'ok' or 'failed'");
  require("paths",
          row.contains("paths") && row.at("paths").is_array() &&
              std::all_of(row.at("paths").begin(), row.at("paths").end(), [](const json& p) { return p.is_string(); }),
          "a list of swept paths");
  require("values",
          row.contains("values") && row.at("values").is_array() && row.at("values").size() == row.at("paths").size(),
          "a list of values, one per swept path");
  require("metrics", row.contains("metrics") && row.at("metrics").is_object(), "an object of metrics");
}

}  // namespace

json headline_metrics(const json& report)
{
  json m = json::object();
  m["gpus"] = report.at("cluster").at("gpus");
  if (report.at("kind") == "training") {
    m["iteration_time_s"] = report.at("iteration_time_s").at("mean");
    m["samples_per_s"] = report.at("throughput").at("samples_per_s");
    if (report.at("throughput").contains("tokens_per_s"))
      m["tokens_per_s"] = report.at("throughput").at("tokens_per_s");
    m["scaling_efficiency"] = report.at("scaling_efficiency");
    m["compute_s"] = report.at("breakdown_s").at("compute");
    m["exposed_communication_s"] = report.at("breakdown_s").at("exposed_communication");
    m["codec_s"] = report.at("breakdown_s").at("codec");
    m["bubble_s"] = report.at("breakdown_s").at("pipeline_bubble");
    m["tensor_s"] = report.at("breakdown_s").at("tensor_parallel_communication");
    m["expert_s"] = report.at("breakdown_s").at("expert_parallel_communication");
    m["bytes_sent_per_gpu"] = report.at("traffic").at("bytes_sent_per_gpu_per_iteration");
    m["memory_bytes_per_gpu"] = report.at("memory").at("bytes_per_gpu").at("total");
    m["fits_memory"] = report.at("memory").at("fits");  // null without a GPU profile
    // Throughput left by failures and checkpoints; null without workload.failures.
    m["effective_samples_per_s"] =
        report.contains("failures") ? report.at("failures").at("effective_samples_per_s") : json(nullptr);
    std::set<std::string> used;
    for (const auto& a : report.at("workload").at("algorithms_used"))
      used.insert(a.get<std::string>());
    std::string joined;
    for (const std::string& a : used)
      joined += (joined.empty() ? "" : "+") + a;
    m["algorithm"] = joined.empty() ? report.at("workload").at("algorithm").get<std::string>() : joined;
    m["fidelity"] = report.at("workload").at("fidelity");
  } else {
    const json& last = report.at("results").back();  // the largest size
    for (const char* key : {"size_bytes", "time_us", "algbw_GBps", "busbw_GBps", "algorithm", "fidelity"})
      m[key] = last.at(key);
  }
  return m;
}

std::string csv_field(const json& v)
{
  std::string text;
  if (v.is_null())
    return "";
  if (v.is_string())
    text = v.get<std::string>();
  else if (v.is_number_float())
    text = fmt::format("{}", v.get<double>());
  else
    text = v.dump();
  if (text.find_first_of(",\"\n") == std::string::npos)
    return text;
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

/// Reads results.jsonl; a last line cut short by a kill is dropped (and reported as dropped).
std::vector<json> read_rows(const std::string& file, bool* truncated)
{
  std::vector<json> rows;
  std::ifstream in(file, std::ios::binary);
  std::string line;
  std::size_t number = 0;
  if (truncated)
    *truncated = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty())
      continue;
    const bool last = in.peek() == std::char_traits<char>::eof();
    try {
      rows.push_back(json::parse(line));
    } catch (const json::exception& e) {
      if (last && truncated) {
        *truncated = true;
        break;
      }
      throw ScenarioError(file, "", fmt::format("line {}: not a sweep result row ({})", number, e.what()));
    }
    check_row(rows.back(), file, number);
  }
  return rows;
}

void append_line(int fd, const std::string& path, const std::string& line)
{
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw SimulationError("cannot append to " + path);
    done += static_cast<std::size_t>(n);
  }
}

std::string values_text(const Sweep& s, const std::vector<json>& v)
{
  std::string out;
  for (std::size_t k = 0; k < v.size(); ++k)
    out += (k ? ", " : "") + s.paths[k] + "=" + (v[k].is_string() ? v[k].get<std::string>() : v[k].dump());
  return out;
}

std::string csv_header(const std::vector<std::string>& paths, const std::string& kind)
{
  std::string out = "point";
  for (const std::string& p : paths)
    cell(out, csv_field(p));
  cell(out, "status");
  for (const std::string& m : metric_columns(kind))
    cell(out, m);
  cell(out, "error");
  return out + '\n';
}

/// The rows' lines, in point order.
std::string csv_rows(const std::vector<json>& rows_in, const std::string& kind)
{
  std::vector<const json*> rows;
  for (const json& r : rows_in)
    rows.push_back(&r);
  std::sort(rows.begin(), rows.end(), [](const json* a, const json* b) {
    return a->at("point").get<std::size_t>() < b->at("point").get<std::size_t>();
  });
  std::string out;
  for (const json* r : rows) {
    out += std::to_string(r->at("point").get<std::size_t>());
    for (const json& v : r->at("values"))
      cell(out, csv_field(v));
    cell(out, r->at("status").get<std::string>());
    for (const std::string& m : metric_columns(kind))
      cell(out, r->at("metrics").contains(m) ? csv_field(r->at("metrics").at(m)) : std::string());
    cell(out, csv_field(r->value("error", json())));
    out += '\n';
  }
  return out;
}

std::string sweep_csv(const std::vector<json>& rows)
{
  if (rows.empty())
    return "";
  const std::string kind = rows.front().at("kind").get<std::string>();
  return csv_header(rows.front().at("paths").get<std::vector<std::string>>(), kind) + csv_rows(rows, kind);
}

std::size_t merge_sweeps(const std::vector<std::string>& shard_dirs, const std::string& out_dir)
{
  namespace fs = std::filesystem;
  std::map<std::size_t, json> by_point;
  std::string id;
  for (const std::string& dir : shard_dirs) {
    const std::string file = (fs::path(dir) / "results.jsonl").string();
    if (!fs::exists(file))
      throw ScenarioError(file, "", "no such file; expected a sweep's output folder");
    for (json& r : read_rows(file)) {
      const std::string rid = r.at("sweep_id").get<std::string>();
      if (id.empty())
        id = rid;
      if (rid != id)
        throw ScenarioError(file, "", fmt::format("rows of sweep {} cannot merge with sweep {}", rid, id));
      const std::size_t point = r.at("point").get<std::size_t>();
      json comparable = r;
      comparable.erase("wall_s");
      auto [it, inserted] = by_point.emplace(point, r);
      if (!inserted) {
        json other = it->second;
        other.erase("wall_s");
        if (other != comparable)
          throw ScenarioError(file, "", fmt::format("point {} differs from the same point in another shard", point));
      }
    }
  }
  std::vector<json> rows;
  std::string text;
  for (auto& [point, row] : by_point) {
    text += row.dump() + "\n";
    rows.push_back(row);
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec)
    throw SimulationError("cannot create the output folder " + out_dir + ": " + ec.message());
  write_file_atomically((fs::path(out_dir) / "results.jsonl").string(), text);
  write_file_atomically((fs::path(out_dir) / "results.csv").string(), sweep_csv(rows));
  return rows.size();
}

}  // namespace ddlsim::cli
