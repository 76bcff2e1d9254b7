#pragma once
// SimGrid 3.32 allows one engine per process, so every simulation beyond the first runs in a
// forked child that sends its JSON result back through a pipe.
#include <nlohmann/json.hpp>

#include <functional>

namespace ddlsim {

/// Runs `fn` in a child process and returns what it returned. A ScenarioError or other exception
/// in the child is rethrown here as ScenarioError or SimulationError with the same message; a
/// child that dies (signal, abort) gives a SimulationError.
nlohmann::json run_in_child(const std::function<nlohmann::json()>& fn);

}  // namespace ddlsim
