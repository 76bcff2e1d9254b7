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

/// Tokens per sample that model `name` uses when the scenario does not say: 128 for BERT (its
/// pre-training phase 1), 1024 for GPT-2, 2048 for GPT-3, 4096 for Llama 2 and 8192 for Llama 3
/// (their contexts), 4096 for Mixtral; 0 for models without a sequence (CNNs) and for unknown names.
int default_sequence(std::string_view name);

/// The model called `name`, or nullopt when there is none. `sequence` (tokens per sample) applies
/// to sequence models; 0 means default_sequence(name). Throws std::invalid_argument when the
/// sequence does not fit the model (longer than its positions, or given to a CNN).
std::optional<Model> find_model(std::string_view name, int sequence = 0);

}  // namespace ddlsim::model
