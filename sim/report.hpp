#pragma once
// What a run leaves behind: report.json, the readable summary (also on stdout), the collective
// table as CSV, and trace.json when asked for.
#include "sim/run.hpp"
#include "sim/scenario.hpp"

#include <string>

namespace ddlsim {

/// The readable summary of a report, every number with its unit.
std::string summary_text(const Scenario& scenario, const nlohmann::json& report);

/// nccl-tests-style CSV of a collective report: size_B,count,time_us,algbw_GBps,busbw_GBps,algorithm.
std::string collective_csv(const nlohmann::json& report);

/// Writes report.json, summary.txt, (collective) results.csv and (if any) trace.json into `dir`,
/// creating it. Throws SimulationError when the folder cannot be written.
void write_outputs(const Scenario& scenario, const RunResult& result, const std::string& dir);

}  // namespace ddlsim
