#pragma once
// The readable summary of a report (summary.txt, and stdout of `ddlsim run`): one line per aspect,
// each built by its own formatter (sim/report/summary.cpp, summary_training.cpp).
#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace ddlsim::report {

/// The readable summary of a report, every number with its unit.
std::string summary_text(const scenario::Scenario& scenario, const nlohmann::json& report);

/// The lines of a training report between the cluster line and the simulation line.
std::string training_summary_lines(const scenario::Scenario& scenario, const nlohmann::json& report);

}  // namespace ddlsim::report
