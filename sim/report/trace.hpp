#pragma once
// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per node, one
// thread per GPU stream (tid 2 * local GPU index: compute, + 1: communication), an "X" event per
// compute task and per rank's part of each collective, and a flow arrow ("s" at the sender when the
// data starts to move, "f" at the receiver when it has arrived) per point-to-point transfer.
#include "sim/engine/executor.hpp"
#include "sim/engine/task_graph.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace ddlsim::report {

/// `ranks`: the GPUs to include (others are left out, to keep traces of large runs small).
nlohmann::json chrome_trace(const engine::TaskGraph& graph, const engine::Timeline& timeline, int gpus_per_node,
                            const std::vector<std::uint32_t>& ranks);

}  // namespace ddlsim::report
