// ddlsim command line. Only main prints errors and chooses exit codes:
// 0 success, 2 bad input (scenario or command line), 1 failure inside the simulation.
#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "sim/cli/usage.hpp"
#include "sim/scenario/error.hpp"

#include <cstdio>
#include <new>
#include <string>
#include <vector>

using namespace ddlsim::cli;

int main(int argc, char** argv)
{
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) {
      std::fprintf(stderr, "ddlsim: no command given\n%s", usage_text);
      return 2;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::fputs(usage_text, stdout);
      return 0;
    }
    if (args[0] == "run")
      return run_command({args.begin() + 1, args.end()});
    if (args[0] == "topo")
      return topo_command({args.begin() + 1, args.end()});
    if (args[0] == "sweep")
      return sweep_command({args.begin() + 1, args.end()});
    if (args[0] == "scale")
      return scale_command({args.begin() + 1, args.end()});
    if (args[0] == "calibrate")
      return calibrate_command({args.begin() + 1, args.end()});
    if (args[0] == "predict")
      return predict_command({args.begin() + 1, args.end()});
    throw UsageError("unknown command '" + args[0] + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "ddlsim: %s\n%s", e.what(), usage_text);
    return 2;
  } catch (const ddlsim::scenario::ScenarioError& e) {
    std::fprintf(stderr, "ddlsim: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fputs("ddlsim: simulation failed: out of memory. A run's memory grows with its GPUs and switches and "
               "with GPUs x iterations x collectives per iteration; fewer iterations, larger gradient buckets or "
               "\"fidelity\": \"flow\" need less\n",
               stderr);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ddlsim: simulation failed: %s\n", e.what());
    return 1;
  }
}
