#pragma once
// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per node, one
// thread per GPU stream, an "X" event per compute task and per rank's part of each collective.
#include "sim/executor.hpp"
#include "sim/task_graph.hpp"

#include <nlohmann/json.hpp>

namespace ddlsim {

nlohmann::json chrome_trace(const TaskGraph& graph, const Timeline& timeline, int gpus_per_node);

}  // namespace ddlsim
