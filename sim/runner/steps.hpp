#pragma once
// Inside sim/runner: the two kinds of run and what they share.
#include "sim/engine/executor.hpp"
#include "sim/engine/platform.hpp"
#include "sim/report/outputs.hpp"
#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>

namespace ddlsim::runner {

/// report.json's "cluster" section.
nlohmann::json cluster_summary(const scenario::Scenario& s, const topo::Topology& topology);

/// How the executor charges reductions and whether it records transfers (for the trace).
engine::ExecOptions exec_options(const scenario::Scenario& s);

/// Adds the link summary to the report; the link table and (when asked for) the trace to the result.
report::RunResult finish(const scenario::Scenario& s, const topo::Topology& topology, const engine::Timeline& tl,
                         const engine::TaskGraph& graph, nlohmann::json report);

/// A training workload: its task graph run once, then its report (sim/runner/training_run.cpp).
report::RunResult simulate_training(const scenario::Scenario& s, const topo::Topology& topology,
                                    const engine::Platform& platform);

/// A collective benchmark: each size timed between barriers (sim/runner/simulate.cpp).
report::RunResult simulate_collective(const scenario::Scenario& s, const topo::Topology& topology,
                                      const engine::Platform& platform);

}  // namespace ddlsim::runner
