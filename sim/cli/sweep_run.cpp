// `ddlsim sweep`: the points of a shard run in forked worker processes, each finished one
// appended to results.jsonl at once (sweep_results.hpp), so an interrupted sweep loses nothing.
#include "sim/cli/sweep.hpp"

#include "sim/cli/sweep_results.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

namespace ddlsim::cli {

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::runner;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int)
{
  g_stop = 1;
}

/// SIGINT and SIGTERM set g_stop while a sweep runs (no SA_RESTART: poll returns EINTR at once);
/// the handlers before are restored after.
class StopSignals {
public:
  StopSignals()
  {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    g_stop = 0;
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals()
  {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

private:
  struct sigaction old_int_ {
  }, old_term_{};
};

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

/// The rows results.jsonl already holds, checked to be this sweep's; a last row cut short by a
/// kill is dropped from the file.
std::vector<json> existing_rows(const Sweep& sweep, const SweepOptions& o, const std::string& jsonl)
{
  std::vector<json> rows;
  if (!fs::exists(jsonl) || fs::file_size(jsonl) == 0)
    return rows;
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
  return rows;
}

/// The shard's points not done yet; counts the shard's points and those skipped into `summary`.
std::vector<std::size_t> todo_points(const Sweep& sweep, const SweepOptions& o, const std::vector<json>& rows,
                                     SweepSummary& summary)
{
  std::set<std::size_t> done;
  for (const json& r : rows)
    done.insert(r.at("point").get<std::size_t>());
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
  return todo;
}

/// Where finished points go: appended to results.jsonl at once, streamed to results.csv in
/// completion order (rewritten in point order by close()), counted, and shown as progress.
class ResultLog {
public:
  ResultLog(const Sweep& sweep, const SweepOptions& o, std::vector<json> rows, SweepSummary& summary)
      : sweep_(sweep), jsonl_((fs::path(o.out_dir) / "results.jsonl").string()),
        csv_((fs::path(o.out_dir) / "results.csv").string()), rows_(std::move(rows)), summary_(summary),
        progress_(o.progress, summary.points), finished_(summary.skipped)
  {
    fd_ = ::open(jsonl_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd_ < 0)
      throw SimulationError("cannot open " + jsonl_ + " for appending");
    csv_stream_.open(csv_, std::ios::binary | std::ios::trunc);  // rewritten in point order at the end
    csv_stream_ << csv_header(sweep.paths, sweep.kind()) << csv_rows(rows_, sweep.kind());
    csv_stream_.flush();
    for (const json& r : rows_)
      failed_total_ += r.at("status") != "ok";
  }
  ~ResultLog()
  {
    if (fd_ >= 0)
      ::close(fd_);
  }
  ResultLog(const ResultLog&) = delete;
  ResultLog& operator=(const ResultLog&) = delete;

  void record(std::size_t index, json row)
  {
    row["sweep_id"] = sweep_.id;
    row["point"] = index;
    row["paths"] = sweep_.paths;
    row["values"] = sweep_.point_values(index);
    row["kind"] = sweep_.kind();
    append_line(fd_, jsonl_, row.dump() + "\n");
    const bool ok = row.at("status") == "ok";
    ok ? ++summary_.succeeded : ++summary_.failed;
    failed_total_ += !ok;
    ++finished_;
    csv_stream_ << csv_rows({row}, sweep_.kind());  // streamed in completion order until the end
    csv_stream_.flush();
    progress_.point(index, values_text(sweep_, row.at("values").get<std::vector<json>>()), ok, row.value("wall_s", 0.0),
                    finished_, failed_total_);
    rows_.push_back(std::move(row));
  }

  /// results.csv rewritten from every row, in point order.
  void close()
  {
    ::close(fd_);
    fd_ = -1;
    csv_stream_.close();
    write_file_atomically(csv_, csv_header(sweep_.paths, sweep_.kind()) + csv_rows(rows_, sweep_.kind()));
  }

private:
  const Sweep& sweep_;
  std::string jsonl_, csv_;
  std::vector<json> rows_;
  SweepSummary& summary_;
  Progress progress_;
  std::size_t finished_, failed_total_ = 0;
  int fd_ = -1;
  std::ofstream csv_stream_;
};

json failed_row(const std::string& message)
{
  return json{{"status", "failed"}, {"error", message}, {"metrics", json::object()}};
}

/// A point being simulated in a worker process.
struct Running {
  std::size_t index;
  Child child;
  std::chrono::steady_clock::time_point start;
};

/// Starts workers for the next points until `jobs` run; a point whose scenario is malformed is
/// recorded as failed at once.
void start_points(const Sweep& sweep, const std::vector<std::size_t>& todo, std::size_t& next, std::size_t jobs,
                  std::vector<Running>& running, ResultLog& log)
{
  while (next < todo.size() && running.size() < jobs && !g_stop) {
    const std::size_t index = todo[next++];
    Scenario scenario;
    try {
      scenario = parse_scenario(sweep.point_document(index), sweep.point_label(index));
    } catch (const ScenarioError& e) {
      log.record(index, failed_row(e.what()));
      continue;
    }
    running.push_back({index, start_child([scenario] {
                         json report = simulate(scenario).report;
                         report.erase("wall_clock");
                         return report;
                       }),
                       std::chrono::steady_clock::now()});
  }
}

/// Reads what the workers have written; records each that finished.
void collect_points(std::vector<Running>& running, ResultLog& log)
{
  std::vector<pollfd> fds;
  for (const Running& r : running)
    fds.push_back({r.child.fd, POLLIN, 0});
  if (::poll(fds.data(), fds.size(), -1) < 0)
    return;  // EINTR: a signal; the caller's loop sees g_stop
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
    log.record(index, std::move(row));
  }
}

}  // namespace

SweepSummary run_sweep(const Sweep& sweep, const SweepOptions& o)
{
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    throw ScenarioError(sweep.file, "", fmt::format("shard {}/{} does not exist", o.shard_index, o.shard_count));
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec)
    throw SimulationError("cannot create the output folder " + o.out_dir + ": " + ec.message());
  std::vector<json> rows = existing_rows(sweep, o, (fs::path(o.out_dir) / "results.jsonl").string());
  SweepSummary summary;
  const std::vector<std::size_t> todo = todo_points(sweep, o, rows, summary);
  ResultLog log(sweep, o, std::move(rows), summary);
  const StopSignals signals;
  std::vector<Running> running;
  std::size_t next = 0;
  const auto jobs = static_cast<std::size_t>(std::max(1, o.jobs));
  while ((next < todo.size() || !running.empty()) && !g_stop) {
    start_points(sweep, todo, next, jobs, running, log);
    if (!running.empty())
      collect_points(running, log);
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
  log.close();
  return summary;
}

}  // namespace ddlsim::cli
