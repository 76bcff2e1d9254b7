#pragma once
// SimGrid 3.32 allows one engine per process, so every simulation beyond the first runs in a
// forked child that sends its JSON result back through a pipe.
#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <functional>
#include <string>

namespace ddlsim::engine {

/// Runs `fn` in a child process and returns what it returned. A ScenarioError or other exception
/// in the child is rethrown here as ScenarioError or SimulationError with the same message; a
/// child that dies (signal, abort) gives a SimulationError.
nlohmann::json run_in_child(const std::function<nlohmann::json()>& fn);

/// A child started by start_child: read its pipe until end of file, then finish_child.
struct Child {
  pid_t pid = -1;
  int fd = -1;       ///< read end of the result pipe
  std::string data;  ///< what was read so far
};

/// Forks a child that runs `fn`; the caller reads `fd` (read_child) and calls finish_child.
Child start_child(const std::function<nlohmann::json()>& fn);
/// Reads what is available from the child's pipe; false at end of file (the child is done writing).
bool read_child(Child& child);
/// Waits for the child and returns its result, or throws as run_in_child does. `signal_out`, when
/// given, receives the signal that killed the child (0 if none).
nlohmann::json finish_child(Child& child, int* signal_out = nullptr);

}  // namespace ddlsim::engine
