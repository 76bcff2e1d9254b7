#pragma once
#include <stdexcept>
#include <string>

namespace ddlsim::scenario {

/// Bad input: the file, the JSON path, what was found, what was expected. main exits with 2.
class ScenarioError : public std::runtime_error {
public:
  ScenarioError(const std::string& file, const std::string& json_path, const std::string& message)
      : std::runtime_error(file + ": " + (json_path.empty() ? std::string("") : json_path + ": ") + message)
  {
  }
  /// An already formatted message (e.g. one carried back from a child process).
  explicit ScenarioError(const std::string& formatted) : std::runtime_error(formatted) {}
};

/// A failure inside a simulation (a deadlocked task graph, a child process that died). main exits with 1.
class SimulationError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

}  // namespace ddlsim::scenario
