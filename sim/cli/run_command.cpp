#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "sim/report/outputs.hpp"
#include "sim/report/summary.hpp"
#include "sim/runner/simulate.hpp"
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

using namespace ddlsim::report;
using namespace ddlsim::runner;
using namespace ddlsim::scenario;

int run_command(const std::vector<std::string>& args)
{
  std::string path, output;
  bool print_resolved = false, quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--print-resolved")
      print_resolved = true;
    else if (a == "--quiet")
      quiet = true;
    else if (a == "--output") {
      if (i + 1 == args.size())
        throw UsageError("--output needs a folder");
      output = args[++i];
    } else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (path.empty())
      path = a;
    else
      throw UsageError("more than one scenario given ('" + path + "', '" + a + "')");
  }
  if (path.empty())
    throw UsageError("no scenario file given");
  const Scenario scenario = load_scenario(path);
  if (print_resolved) {
    std::fputs((to_json(scenario).dump(2) + "\n").c_str(), stdout);
    return 0;
  }
  const RunResult result = simulate(scenario);
  const std::string dir = output.empty() ? scenario.output.dir : output;
  write_outputs(scenario, result, dir);
  if (!quiet) {
    std::fputs(summary_text(scenario, result.report).c_str(), stdout);
    std::fputs(fmt::format("  outputs             {}/report.json{}\n", dir,
                           result.trace.is_null() ? "" : fmt::format(", {}/trace.json", dir))
                   .c_str(),
               stdout);
  }
  return 0;
}

}  // namespace ddlsim::cli
