#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "sim/cli/sweep.hpp"

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

int sweep_command(const std::vector<std::string>& args)
{
  if (!args.empty() && args[0] == "merge") {
    if (args.size() < 3)
      throw UsageError("sweep merge needs an output folder and at least one shard folder");
    const std::size_t rows = merge_sweeps({args.begin() + 2, args.end()}, args[1]);
    std::printf("merged %zu points into %s/results.jsonl and %s/results.csv\n", rows, args[1].c_str(), args[1].c_str());
    return 0;
  }
  std::string path;
  std::pair<std::string, std::string> table;
  SweepOptions options;
  options.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto value_of = [&](std::size_t& i, const std::string& option) {
    if (i + 1 == args.size())
      throw UsageError(option + " needs a value");
    return args[++i];
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--resume")
      options.resume = true;
    else if (a == "--quiet")
      options.progress = false;
    else if (a == "--output")
      options.out_dir = value_of(i, a);
    else if (a == "--table") {
      const std::string v = value_of(i, a);
      const auto comma = v.find(',');
      if (comma == std::string::npos || comma == 0 || comma + 1 == v.size())
        throw UsageError("--table expects two swept paths ROW,COL, found '" + v + "'");
      table = {v.substr(0, comma), v.substr(comma + 1)};
    } else if (a == "-j" || a == "--jobs")
      options.jobs = parse_jobs(a, value_of(i, a));
    else if (a == "--shard") {
      const std::string v = value_of(i, a);
      const auto slash = v.find('/');
      const auto bad = [&] {
        return UsageError("--shard expects I/N with 0 <= I < N, found '" + v + "' (N at most 1000000)");
      };
      if (slash == std::string::npos)
        throw bad();
      // int_option checks each number's digits and range (no overflow into a silently wrong shard).
      try {
        options.shard_count = int_option("--shard", v.substr(slash + 1), 1, 1000000);
        options.shard_index = int_option("--shard", v.substr(0, slash), 0, options.shard_count - 1);
      } catch (const UsageError&) {
        throw bad();
      }
    } else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (path.empty())
      path = a;
    else
      throw UsageError("more than one sweep file given");
  }
  if (path.empty())
    throw UsageError("no sweep file given");
  const Sweep sweep = load_sweep(path);
  for (const std::string& p : {table.first, table.second})
    if (!p.empty() && std::find(sweep.paths.begin(), sweep.paths.end(), p) == sweep.paths.end())
      throw UsageError("--table names '" + p + "', which " + path + " does not sweep");
  if (options.out_dir.empty())
    options.out_dir = sweep.default_out_dir();
  const SweepSummary s = run_sweep(sweep, options);
  std::printf("sweep %s: %zu points%s: %zu ok, %zu failed now, %zu done before; results in %s/results.csv\n",
              path.c_str(), s.points,
              options.shard_count > 1 ? fmt::format(" in shard {}/{}", options.shard_index, options.shard_count).c_str()
                                      : "",
              s.succeeded, s.failed, s.skipped, options.out_dir.c_str());
  if (s.interrupted) {
    std::fprintf(stderr, "ddlsim: sweep interrupted; run it again with --resume to finish it\n");
    return 130;
  }
  if (!table.first.empty())
    std::printf("\n%s", sweep_table(sweep, options.out_dir, table.first, table.second).c_str());
  return s.failed > 0 ? 1 : 0;
}

}  // namespace ddlsim::cli
