#pragma once
// One simulation of one scenario, start to end. Creates the process's SimGrid engine, so it runs
// once per process: use run_in_child (sim/child_process.hpp) to run several.
#include "sim/executor.hpp"
#include "sim/scenario.hpp"

#include <nlohmann/json.hpp>

namespace ddlsim {

struct RunResult {
  nlohmann::json report;  ///< report.json: deterministic except under the "wall_clock" key
  nlohmann::json trace;   ///< Chrome trace events, when the scenario asks for a trace; else null
  std::string links_csv;  ///< links.csv: bytes, busy time and utilization per link direction
};

RunResult simulate(const Scenario& scenario);

}  // namespace ddlsim
