#pragma once
// The scaling table: one scenario at 1..N GPUs under each data-parallel method (a scheduling
// policy on an architecture), with throughput and scaling efficiency, as Shi et al. (IEEE
// Network 2021) tabulate their testbed.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ddlsim::cli {

/// A method: its name, and the `workload.scheduling` and `workload.architecture` it sets.
struct ScalingMethod {
  std::string name;
  std::string policy;        ///< scheduling policy
  std::string architecture;  ///< architecture kind: allreduce or ps
};

/// Every method the table knows, the survey's six first: bsp-allreduce, wfbp-allreduce, mg-wfbp,
/// bsp-ps, wfbp-ps, bytescheduler-ps; then fusion-allreduce.
const std::vector<ScalingMethod>& scaling_methods();
/// The survey's six.
std::vector<std::string> default_scaling_methods();

/// GPU counts 1, 2, 4, ... up to `gpus` (and `gpus` itself), each reachable with whole nodes of
/// `gpus_per_node` GPUs or by one partial node.
std::vector<int> default_gpu_counts(int gpus, int gpus_per_node);

/// The scenario document `scenario` resized to `gpus` GPUs (fewer GPUs per node below one node's
/// worth, else fewer nodes) and set to `method`. Throws ScenarioError when `gpus` does not fit.
nlohmann::json scaled_scenario(const nlohmann::json& scenario, const std::string& file, int gpus,
                               const ScalingMethod& method);

struct ScalingRow {
  int gpus;
  std::string method;
  double samples_per_s = 0;
  double scaling_efficiency = 0;
  double iteration_s = 0;
  std::string error;  ///< non-empty when this point could not be simulated
};

/// Runs every (gpus, method) point, each in a child process, `jobs` at a time.
std::vector<ScalingRow> scaling_table(const std::string& path, const std::vector<int>& gpus,
                                      const std::vector<std::string>& methods, int jobs);

/// The table as text (samples/s and efficiency per method, a row per GPU count) and as CSV.
std::string scaling_text(const std::vector<ScalingRow>& rows, const std::string& title);
std::string scaling_csv(const std::vector<ScalingRow>& rows);

}  // namespace ddlsim::cli
