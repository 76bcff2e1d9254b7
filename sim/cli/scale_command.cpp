#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "sim/cli/scaling.hpp"
#include "sim/scenario/scenario.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ddlsim::cli {

using namespace ddlsim::scenario;

int scale_command(const std::vector<std::string>& args)
{
  std::string path, csv;
  std::vector<int> gpus;
  std::vector<std::string> methods = default_scaling_methods();
  int jobs = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      return option_value(args, i);
    };
    if (a == "--gpus") {
      for (const std::string& g : split_list(value())) {
        char* end = nullptr;
        const long n = std::strtol(g.c_str(), &end, 10);
        if (*end != '\0' || n < 1 || n > 1048576)
          throw UsageError("--gpus expects GPU counts from 1 to 1048576 separated by commas, found '" + g + "'");
        gpus.push_back(static_cast<int>(n));
      }
    } else if (a == "--methods") {
      methods = split_list(value());
    } else if (a == "--csv") {
      csv = value();
    } else if (a == "-j" || a == "--jobs") {
      jobs = parse_jobs(a, value());
    } else if (!a.empty() && a[0] == '-') {
      throw UsageError("unknown option '" + a + "'");
    } else if (path.empty()) {
      path = a;
    } else {
      throw UsageError("more than one scenario given");
    }
  }
  if (path.empty())
    throw UsageError("no scenario file given");
  const Scenario scenario = load_scenario(path);
  if (scenario.kind != WorkloadKind::training)
    throw UsageError("scale needs a training scenario; '" + path + "' is a collective benchmark");
  if (gpus.empty())
    gpus = default_gpu_counts(scenario.cluster.gpus(), scenario.cluster.gpus_per_node);
  const std::vector<ScalingRow> rows = scaling_table(path, gpus, methods, jobs);
  const std::string title =
      fmt::format("{}: {}, batch {} per GPU, {} x {} GPUs, {} network", scenario.name, scenario.model,
                  scenario.training.batch_per_gpu, scenario.cluster.nodes, scenario.cluster.gpus_per_node,
                  scenario.cluster.network.link.preset.empty() ? "inline" : scenario.cluster.network.link.preset);
  std::fputs(scaling_text(rows, title).c_str(), stdout);
  if (!csv.empty()) {
    std::ofstream out(csv);
    out << scaling_csv(rows);
    if (!out)
      throw std::runtime_error("cannot write " + csv);
  }
  for (const ScalingRow& r : rows)
    if (!r.error.empty())
      return 1;
  return 0;
}

}  // namespace ddlsim::cli
