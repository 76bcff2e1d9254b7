#pragma once
// The model zoo: shipped models by name. The scenario loader turns a miss into a ScenarioError
// that lists model_names().
#include "models/layer.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ddlsim::model {

/// Names of the shipped models, sorted.
std::vector<std::string> model_names();

/// The model called `name`, or nullopt when there is none.
std::optional<Model> find_model(std::string_view name);

}  // namespace ddlsim::model
