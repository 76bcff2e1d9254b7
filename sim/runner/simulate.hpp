#pragma once
// One simulation of one scenario, start to end. Creates the process's SimGrid engine, so it runs
// once per process: use run_in_child (sim/engine/child_process.hpp) to run several.
#include "sim/report/outputs.hpp"
#include "sim/scenario/scenario.hpp"

namespace ddlsim::runner {

using report::RunResult;

RunResult simulate(const scenario::Scenario& scenario);

}  // namespace ddlsim::runner
