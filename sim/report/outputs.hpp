#pragma once
// What a run leaves behind: report.json, summary.txt, the collective table as CSV, links.csv and,
// when asked for, trace.json.
#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace ddlsim::report {

struct RunResult {
  nlohmann::json report;  ///< report.json: deterministic except under the "wall_clock" key
  nlohmann::json trace;   ///< Chrome trace events, when the scenario asks for a trace; else null
  std::string links_csv;  ///< links.csv: bytes, busy time and utilization per link direction
};

/// nccl-tests-style CSV of a collective report: size_B,count,time_us,algbw_GBps,busbw_GBps,algorithm.
std::string collective_csv(const nlohmann::json& report);

/// Writes report.json, summary.txt, (collective) results.csv and (if any) trace.json into `dir`,
/// creating it. Throws SimulationError when the folder cannot be written.
void write_outputs(const scenario::Scenario& scenario, const RunResult& result, const std::string& dir);

}  // namespace ddlsim::report
