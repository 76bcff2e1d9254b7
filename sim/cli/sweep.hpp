#pragma once
// Parameter sweeps: a scenario plus "sweep", a grid (Cartesian product) or a zip of values for
// dotted scenario paths. Points run in forked worker processes; every finished point is appended
// to results.jsonl at once, so an interrupted sweep loses nothing and --resume skips what is done.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ddlsim::cli {

struct Sweep {
  std::string file;                                 ///< the sweep file (for messages)
  nlohmann::json base;                              ///< the scenario without its "sweep" key
  bool zip = false;                                 ///< zip: the i-th values of every path together; else the grid
  std::vector<std::string> paths;                   ///< dotted scenario paths, e.g. "cluster.nodes"
  std::vector<std::vector<nlohmann::json>> values;  ///< per path, its values
  std::string id;  ///< fingerprint of base + sweep: results of another sweep are never mixed in

  std::size_t point_count() const;
  /// "training" or "collective": the base scenario's workload kind, which picks the CSV's metric columns.
  std::string kind() const;
  /// The base scenario's output.dir, else out/<name>: where results go without --output.
  std::string default_out_dir() const;
  /// The swept values of point `index`, one per path. Grid order: the last path varies fastest.
  std::vector<nlohmann::json> point_values(std::size_t index) const;
  /// The scenario document of point `index`.
  nlohmann::json point_document(std::size_t index) const;
  /// "FILE (point N)": the file name that point's errors give.
  std::string point_label(std::size_t index) const;
};

/// Reads a sweep file; throws ScenarioError (file, JSON path, what was expected) for a malformed
/// "sweep", and for a path that names no key of the scenario, before anything runs.
Sweep load_sweep(const std::string& path);

struct SweepOptions {
  std::string out_dir;                   ///< results.jsonl and results.csv go here
  int jobs = 1;                          ///< worker processes at once
  bool resume = false;                   ///< skip the points results.jsonl already holds
  int shard_index = 0, shard_count = 1;  ///< run the points whose index % shard_count == shard_index
  bool progress = true;                  ///< report progress on stderr (a bar on a terminal, lines otherwise)
};

struct SweepSummary {
  std::size_t points = 0;     ///< in this shard
  std::size_t skipped = 0;    ///< already done (resume)
  std::size_t succeeded = 0;  ///< run now, status ok
  std::size_t failed = 0;     ///< run now, status failed
  bool interrupted = false;   ///< stopped by SIGINT or SIGTERM before the end
};

/// Runs the sweep's points of this shard. Throws ScenarioError when the output folder holds the
/// results of another sweep, or holds results and resume is off.
SweepSummary run_sweep(const Sweep& sweep, const SweepOptions& options);

/// Combines the results.jsonl of several shard folders into `out_dir` (results.jsonl, results.csv),
/// one row per point in point order. Throws ScenarioError when they come from different sweeps or
/// two shards disagree on a point.
std::size_t merge_sweeps(const std::vector<std::string>& shard_dirs, const std::string& out_dir);

/// Training throughput (samples/s, and its ratio to the first row's in the same column) of the
/// results in out_dir as a table: one row per value of `row_path`, one column per value of
/// `col_path` (both swept paths). Throws ScenarioError for a path the sweep does not vary.
std::string sweep_table(const Sweep& sweep, const std::string& out_dir, const std::string& row_path,
                        const std::string& col_path);

/// The CSV of a sweep's rows (any order in, point order out): point, the swept paths, status,
/// the headline metrics of the workload kind, error. Empty when there are no rows.
std::string sweep_csv(const std::vector<nlohmann::json>& rows);

}  // namespace ddlsim::cli
