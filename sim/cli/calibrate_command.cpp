#include "calibration/gpu_profile.hpp"
#include "sim/cli/calibrate.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "sim/scenario/units.hpp"

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

namespace {

/// What `ddlsim calibrate` was asked: a mode (none: the microbenchmarks), its options, and the
/// command line itself (recorded in what it writes).
struct CalibrateArgs {
  std::string mode, output;
  NcclCalibrationRequest nccl;
  IterationRecord it;
  bool quick = false;
  std::string time;
  std::vector<std::string> command{"ddlsim", "calibrate"};
};

CalibrateArgs parse_calibrate_args(const std::vector<std::string>& args)
{
  CalibrateArgs c;
  c.command.insert(c.command.end(), args.begin(), args.end());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      return option_value(args, i);
    };
    if (a == "--from-nccl-tests" || a == "--from-iteration") {
      if (!c.mode.empty())
        throw UsageError("give one of --from-nccl-tests and --from-iteration");
      c.mode = a;
      if (a == "--from-nccl-tests")
        while (i + 1 < args.size() && !args[i + 1].starts_with("--"))
          c.nccl.logs.push_back(args[++i]);
    } else if (a == "--output")
      c.output = value();
    else if (a == "--quick")
      c.quick = true;
    else if (a == "--op")
      c.nccl.op = value();
    else if (a == "--ranks")
      c.nccl.ranks = int_option(a, value(), 2, 1048576);
    else if (a == "--scope")
      c.nccl.scope = value();
    else if (a == "--in-place")
      c.nccl.in_place = true;
    else if (a == "--gpu")
      c.it.profile = value();
    else if (a == "--model")
      c.it.model = value();
    else if (a == "--batch")
      c.it.batch = int_option(a, value(), 1, 1 << 20);
    else if (a == "--time")
      c.time = value();
    else if (a == "--precision")
      c.it.precision = value();
    else if (a == "--source")
      c.it.source = value();
    else
      throw UsageError("unknown option '" + a + "'");
  }
  return c;
}

/// --from-nccl-tests: fit latency and bus bandwidth to the logs.
int from_nccl_tests(CalibrateArgs& c)
{
  if (c.nccl.logs.empty())
    throw UsageError("--from-nccl-tests needs at least one log file");
  if (c.output.empty())
    throw UsageError("--from-nccl-tests needs --output NET.json");
  c.nccl.output = c.output;
  c.nccl.command = fmt::format("{}", fmt::join(c.command, " "));
  std::fputs(calibrate_from_nccl_tests(c.nccl).c_str(), stdout);
  return 0;
}

/// --from-iteration: record a measured single-GPU iteration in a profile.
int from_iteration(CalibrateArgs& c)
{
  if (c.it.profile.empty() || c.it.model.empty() || c.it.batch == 0 || c.time.empty())
    throw UsageError("--from-iteration needs --gpu PROFILE, --model M, --batch N and --time T");
  const auto seconds = parse_quantity(c.time, Dimension::seconds);
  if (!seconds || *seconds <= 0)
    throw UsageError("--time expects a positive duration such as '182ms', found '" + c.time + "'");
  c.it.seconds = *seconds;
  if (c.it.source.empty())
    c.it.source = fmt::format("measured by the user, recorded by `{}`", fmt::join(c.command, " "));
  std::fputs(calibrate_from_iteration(c.it).c_str(), stdout);
  return 0;
}

/// No mode: run the CUDA microbenchmarks in place of this process.
[[noreturn]] void run_microbenchmarks(const CalibrateArgs& c)
{
  const std::string program = gpu_benchmark_program();
  if (program.empty())
    throw UsageError("this ddlsim was built without CUDA (no nvcc at configure time), so it has no GPU "
                     "microbenchmarks; build it where the CUDA Toolkit is installed (scripts/setup.sh finds "
                     "/usr/local/cuda), or use --from-nccl-tests / --from-iteration");
  std::vector<std::string> argv{program};
  if (!c.output.empty())
    argv.insert(argv.end(), {"--output", c.output});
  else
    argv.insert(argv.end(), {"--profile-dir", profile_dir()});
  if (c.quick)
    argv.push_back("--quick");
  argv.insert(argv.end(), {"--command", fmt::format("{}", fmt::join(c.command, " "))});
  std::vector<char*> cargs;
  for (std::string& s : argv)
    cargs.push_back(s.data());
  cargs.push_back(nullptr);
  std::fflush(stdout);
  execv(program.c_str(), cargs.data());
  throw std::runtime_error("cannot run " + program);
}

}  // namespace

int calibrate_command(const std::vector<std::string>& args)
{
  CalibrateArgs c = parse_calibrate_args(args);
  if (c.mode == "--from-nccl-tests")
    return from_nccl_tests(c);
  if (c.mode == "--from-iteration")
    return from_iteration(c);
  run_microbenchmarks(c);
}

}  // namespace ddlsim::cli
