// ddlsim command line. Only main prints errors and chooses exit codes:
// 0 success, 2 bad input (scenario or command line), 1 failure inside the simulation.
#include "sim/error.hpp"
#include "sim/report.hpp"
#include "sim/run.hpp"
#include "sim/scenario.hpp"
#include "sim/topology_report.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr const char* USAGE = R"(usage: ddlsim run SCENARIO.json [--print-resolved] [--output DIR] [--quiet]
       ddlsim topo SCENARIO.json [--json] [--dot FILE]

  run               simulate the scenario; write report.json, summary.txt (and results.csv for
                    collective workloads, trace.json when output.trace is true) into the
                    scenario's output.dir, and print the summary
  --print-resolved  print the scenario with every default filled in (JSON), then exit
  --output DIR      write the outputs into DIR instead of output.dir
  --quiet           do not print the summary

  topo              describe the scenario's cluster: hosts, switches and links per tier,
                    per-GPU injection bandwidth, bisection bandwidth, diameter in links
  --json            print that description as JSON
  --dot FILE        write the topology as Graphviz to FILE

exit status: 0 success, 2 bad input, 1 simulation failure
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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
  const ddlsim::Scenario scenario = ddlsim::load_scenario(path);
  if (print_resolved) {
    std::fputs((ddlsim::to_json(scenario).dump(2) + "\n").c_str(), stdout);
    return 0;
  }
  const ddlsim::RunResult result = ddlsim::simulate(scenario);
  const std::string dir = output.empty() ? scenario.output.dir : output;
  ddlsim::write_outputs(scenario, result, dir);
  if (!quiet) {
    std::fputs(ddlsim::summary_text(scenario, result.report).c_str(), stdout);
    std::fputs(fmt::format("  outputs             {}/report.json{}\n", dir,
                           result.trace.is_null() ? "" : fmt::format(", {}/trace.json", dir))
                   .c_str(),
               stdout);
  }
  return 0;
}

int topo_command(const std::vector<std::string>& args)
{
  std::string path, dot;
  bool as_json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json")
      as_json = true;
    else if (a == "--dot") {
      if (i + 1 == args.size())
        throw UsageError("--dot needs a file name");
      dot = args[++i];
    } else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (path.empty())
      path = a;
    else
      throw UsageError("more than one scenario given");
  }
  if (path.empty())
    throw UsageError("no scenario file given");
  const ddlsim::Scenario scenario = ddlsim::load_scenario(path);
  const nlohmann::json description = ddlsim::describe_topology(scenario, dot);
  std::fputs(as_json ? (description.dump(2) + "\n").c_str() : ddlsim::topology_text(description).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv)
{
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::fputs(USAGE, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "run")
      return run_command({args.begin() + 1, args.end()});
    if (args[0] == "topo")
      return topo_command({args.begin() + 1, args.end()});
    throw UsageError("unknown command '" + args[0] + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "ddlsim: %s\n%s", e.what(), USAGE);
    return 2;
  } catch (const ddlsim::ScenarioError& e) {
    std::fprintf(stderr, "ddlsim: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ddlsim: simulation failed: %s\n", e.what());
    return 1;
  }
}
