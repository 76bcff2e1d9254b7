#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "sim/report/topology.hpp"
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
using namespace ddlsim::scenario;

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
  const Scenario scenario = load_scenario(path);
  const nlohmann::json description = describe_topology(scenario, dot);
  std::fputs(as_json ? (description.dump(2) + "\n").c_str() : topology_text(description).c_str(), stdout);
  return 0;
}

}  // namespace ddlsim::cli
