#pragma once
// Cutting a model's layers into pipeline stages: pure arithmetic on layer costs.
#include "sim/workload/training.hpp"

#include <vector>

namespace ddlsim::workload {

/// Cuts layers with these costs into `stages` runs of consecutive layers, none empty, so that the
/// largest forward + backward of a run is least (ties: earlier runs take more layers). Returns
/// each run's first layer. Throws std::invalid_argument for fewer layers than stages.
std::vector<std::size_t> partition_layers(const std::vector<LayerCost>& costs, int stages);

}  // namespace ddlsim::workload
