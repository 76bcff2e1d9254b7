#include "sim/cli/sweep.hpp"

#include "sim/engine/child_process.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::runner;

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

std::string point_label(const Sweep& s, std::size_t index)
{
  return fmt::format("{} (point {})", s.file, index);
}

}  // namespace

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

  // A path must name a key the scenario has: in the file itself, or in the resolved scenario
  // (every default explicit) of the base or of some point. Checked before anything runs.
  std::vector<bool> known(s.paths.size());
  for (std::size_t k = 0; k < s.paths.size(); ++k)
    known[k] = has_path(s.base, s.paths[k]);
  auto mark = [&](const json& resolved) {
    for (std::size_t k = 0; k < s.paths.size(); ++k)
      known[k] = known[k] || has_path(resolved, s.paths[k]);
  };
  std::optional<ScenarioError> base_error;
  bool any_loaded = false;
  try {
    mark(to_json(parse_scenario(s.base, path)));
    any_loaded = true;
  } catch (const ScenarioError& e) {
    base_error = e;
  }
  const std::size_t points = s.point_count();
  for (std::size_t i = 0; i < points && std::find(known.begin(), known.end(), false) != known.end(); ++i) {
    try {
      mark(to_json(parse_scenario(s.point_document(i), point_label(s, i))));
      any_loaded = true;
    } catch (const ScenarioError&) {
    }
  }
  for (std::size_t k = 0; k < s.paths.size(); ++k) {
    if (known[k])
      continue;
    if (!any_loaded && base_error)  // nothing loads: that, not the path, is the problem to report
      throw *base_error;
    sweep.child(s.paths[k])
        .fail(fmt::format("'{}' ({}) names no key of the scenario; scenarios/README.md lists the keys", s.paths[k],
                          pointer_of(s.paths[k])));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Rows

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
std::vector<json> read_rows(const std::string& file, bool* truncated = nullptr)
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
    } catch (const json::parse_error& e) {
      if (last && truncated) {
        *truncated = true;
        break;
      }
      throw ScenarioError(file, "", fmt::format("line {}: not a sweep result row ({})", number, e.what()));
    }
    if (!rows.back().is_object() || !rows.back().contains("point") || !rows.back().contains("sweep_id"))
      throw ScenarioError(file, "", fmt::format("line {}: not a sweep result row", number));
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

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int)
{
  g_stop = 1;
}

class Progress {
public:
  Progress(bool enabled, std::size_t total)
      : enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0), total_(total), start_(std::chrono::steady_clock::now())
  {
  }
  void point(std::size_t index, const std::string& values, bool ok, double wall, std::size_t done, std::size_t failed)
  {
    if (!enabled_)
      return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? double(done) / elapsed : 0;
    const double eta = rate > 0 ? double(total_ - done) / rate : 0;
    if (tty_) {
      const int width = 30;
      const int filled = total_ ? static_cast<int>(width * done / total_) : width;
      std::fprintf(stderr, "\r[%s%s] %zu/%zu points, %zu failed, %.2f points/s, ETA %.0f s   ",
                   std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done, total_, failed,
                   rate, eta);
      if (done == total_)
        std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "point %zu %s (%s) in %.2f s: %zu/%zu done, %zu failed, %.2f points/s, ETA %.0f s\n", index,
                   ok ? "ok" : "FAILED", values.c_str(), wall, done, total_, failed, rate, eta);
    }
    std::fflush(stderr);
  }

private:
  bool enabled_, tty_;
  std::size_t total_;
  std::chrono::steady_clock::time_point start_;
};

std::string values_text(const Sweep& s, const std::vector<json>& v)
{
  std::string out;
  for (std::size_t k = 0; k < v.size(); ++k)
    out += (k ? ", " : "") + s.paths[k] + "=" + (v[k].is_string() ? v[k].get<std::string>() : v[k].dump());
  return out;
}

}  // namespace

namespace {

/// Appends ",text" (one character, then the text: GCC 12 warns, wrongly, on "," + string here).
void cell(std::string& out, const std::string& text)
{
  out += ',';
  out += text;
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

}  // namespace

std::string sweep_csv(const std::vector<json>& rows)
{
  if (rows.empty())
    return "";
  const std::string kind = rows.front().at("kind").get<std::string>();
  return csv_header(rows.front().at("paths").get<std::vector<std::string>>(), kind) + csv_rows(rows, kind);
}

SweepSummary run_sweep(const Sweep& sweep, const SweepOptions& o)
{
  namespace fs = std::filesystem;
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw ScenarioError(sweep.file, "", fmt::format("shard {}/{} does not exist", o.shard_index, o.shard_count));
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec)
    throw SimulationError("cannot create the output folder " + o.out_dir + ": " + ec.message());
  const std::string jsonl = (fs::path(o.out_dir) / "results.jsonl").string();
  const std::string csv = (fs::path(o.out_dir) / "results.csv").string();

  // What is already done.
  std::vector<json> rows;
  if (fs::exists(jsonl) && fs::file_size(jsonl) > 0) {
    if (!o.resume)
      throw ScenarioError(jsonl, "",
                          "holds results already; pass --resume to continue that sweep, or choose another --output");
    bool truncated = false;
    rows = read_rows(jsonl, &truncated);
    for (const json& r : rows)
      if (r.at("sweep_id") != sweep.id)
        throw ScenarioError(jsonl, "",
                            fmt::format("holds the results of another sweep (id {}, this one is {}); choose another "
                                        "--output",
                                        r.at("sweep_id").get<std::string>(), sweep.id));
    if (truncated) {  // a kill cut the last row short: keep the whole rows only
      std::string text;
      for (const json& r : rows)
        text += r.dump() + "\n";
      write_file_atomically(jsonl, text);
    }
  }
  std::set<std::size_t> done;
  for (const json& r : rows)
    done.insert(r.at("point").get<std::size_t>());

  SweepSummary summary;
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < sweep.point_count(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(o.shard_count)) != o.shard_index)
      continue;
    ++summary.points;
    if (done.count(i))
      ++summary.skipped;
    else
      todo.push_back(i);
  }

  const int fd = ::open(jsonl.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0)
    throw SimulationError("cannot open " + jsonl + " for appending");
  std::ofstream csv_stream(csv, std::ios::binary | std::ios::trunc);  // rewritten in point order at the end
  csv_stream << csv_header(sweep.paths, sweep.kind()) << csv_rows(rows, sweep.kind());
  csv_stream.flush();

  struct sigaction action {
  }, old_int{}, old_term{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll returns EINTR at once
  g_stop = 0;
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);

  Progress progress(o.progress, summary.points);
  std::size_t finished = summary.skipped, failed_total = 0;
  for (const json& r : rows)
    failed_total += r.at("status") != "ok";

  auto record = [&](std::size_t index, json row) {
    row["sweep_id"] = sweep.id;
    row["point"] = index;
    row["paths"] = sweep.paths;
    row["values"] = sweep.point_values(index);
    row["kind"] = sweep.kind();
    append_line(fd, jsonl, row.dump() + "\n");
    const bool ok = row.at("status") == "ok";
    ok ? ++summary.succeeded : ++summary.failed;
    failed_total += !ok;
    ++finished;
    csv_stream << csv_rows({row}, sweep.kind());  // streamed in completion order until the end
    csv_stream.flush();
    progress.point(index, values_text(sweep, row.at("values").get<std::vector<json>>()), ok, row.value("wall_s", 0.0),
                   finished, failed_total);
    rows.push_back(std::move(row));
  };
  auto failed_row = [](const std::string& message) {
    return json{{"status", "failed"}, {"error", message}, {"metrics", json::object()}};
  };

  struct Running {
    std::size_t index;
    Child child;
    std::chrono::steady_clock::time_point start;
  };
  std::vector<Running> running;
  std::size_t next = 0;
  const auto jobs = static_cast<std::size_t>(std::max(1, o.jobs));
  while ((next < todo.size() || !running.empty()) && !g_stop) {
    while (next < todo.size() && running.size() < jobs && !g_stop) {
      const std::size_t index = todo[next++];
      Scenario scenario;
      try {
        scenario = parse_scenario(sweep.point_document(index), point_label(sweep, index));
      } catch (const ScenarioError& e) {
        record(index, failed_row(e.what()));
        continue;
      }
      running.push_back({index, start_child([scenario] {
                           json report = simulate(scenario).report;
                           report.erase("wall_clock");
                           return report;
                         }),
                         std::chrono::steady_clock::now()});
    }
    if (running.empty())
      continue;
    std::vector<pollfd> fds;
    for (const Running& r : running)
      fds.push_back({r.child.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0)
      continue;  // EINTR: a signal; the loop condition sees g_stop
    for (std::size_t k = fds.size(); k-- > 0;) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      Running& r = running[k];
      if (read_child(r.child))
        continue;
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
      int signal = 0;
      json row;
      try {
        const json report = finish_child(r.child, &signal);
        row = {{"status", "ok"}, {"metrics", headline_metrics(report)}, {"report", report}};
      } catch (const std::exception& e) {
        row = failed_row(e.what());
      }
      const std::size_t index = r.index;
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
      if ((signal == SIGINT || signal == SIGTERM) && g_stop)
        continue;  // interrupted with the sweep: not a result, --resume runs it again
      row["wall_s"] = wall;
      record(index, std::move(row));
    }
  }
  if (g_stop) {
    summary.interrupted = true;
    for (Running& r : running) {
      ::kill(r.child.pid, SIGTERM);
      try {
        finish_child(r.child);
      } catch (const std::exception&) {
      }
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::close(fd);
  csv_stream.close();
  write_file_atomically(csv, csv_header(sweep.paths, sweep.kind()) + csv_rows(rows, sweep.kind()));
  return summary;
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

namespace ddlsim::cli {

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
