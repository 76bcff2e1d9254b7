#pragma once
// Inside sim/cli: a sweep's result store. A row of results.jsonl is one finished point: sweep_id,
// point, paths, values, kind, status, metrics (the headline numbers of its report), report or
// error, and wall_s.
#include "sim/cli/sweep.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ddlsim::cli {

/// The headline numbers of a report that the CSV's metric columns hold.
nlohmann::json headline_metrics(const nlohmann::json& report);

/// A CSV field: as is, or quoted when it holds a comma, a quote or a line break.
std::string csv_field(const nlohmann::json& v);

/// Reads results.jsonl; a last line cut short by a kill is dropped (and reported as dropped in
/// `truncated`; without it such a line is an error).
std::vector<nlohmann::json> read_rows(const std::string& file, bool* truncated = nullptr);

/// Appends `line` to the open file `fd` (named `path` in errors), whole.
void append_line(int fd, const std::string& path, const std::string& line);

/// "path=value, ...": a point's values, for progress lines.
std::string values_text(const Sweep& s, const std::vector<nlohmann::json>& v);

/// The CSV's header line: point, the swept paths, status, the kind's metric columns, error.
std::string csv_header(const std::vector<std::string>& paths, const std::string& kind);

/// The rows' CSV lines, in point order.
std::string csv_rows(const std::vector<nlohmann::json>& rows, const std::string& kind);

}  // namespace ddlsim::cli
