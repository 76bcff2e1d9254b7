#pragma once
// `ddlsim topo`: the built topology of a scenario, described.
#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace ddlsim::report {

/// Builds the scenario's cluster and measures it (topo::measure); writes Graphviz to `dot_path`
/// unless it is empty. Throws SimulationError when the file cannot be written.
nlohmann::json describe_topology(const scenario::Scenario& scenario, const std::string& dot_path);

/// The description as readable text, every number with its unit.
std::string topology_text(const nlohmann::json& description);

}  // namespace ddlsim::report
