#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "calibration/gpu_profile.hpp"
#include "sim/cli/calibrate.hpp"
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

int calibrate_command(const std::vector<std::string>& args)
{
  std::string mode, output;
  NcclCalibrationRequest nccl;
  IterationRecord it;
  bool quick = false;
  std::string time;
  std::vector<std::string> command{"ddlsim", "calibrate"};
  command.insert(command.end(), args.begin(), args.end());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      return option_value(args, i);
    };
    if (a == "--from-nccl-tests" || a == "--from-iteration") {
      if (!mode.empty())
        throw UsageError("give one of --from-nccl-tests and --from-iteration");
      mode = a;
      if (a == "--from-nccl-tests")
        while (i + 1 < args.size() && !args[i + 1].starts_with("--"))
          nccl.logs.push_back(args[++i]);
    } else if (a == "--output")
      output = value();
    else if (a == "--quick")
      quick = true;
    else if (a == "--op")
      nccl.op = value();
    else if (a == "--ranks")
      nccl.ranks = int_option(a, value(), 2, 1048576);
    else if (a == "--scope")
      nccl.scope = value();
    else if (a == "--in-place")
      nccl.in_place = true;
    else if (a == "--gpu")
      it.profile = value();
    else if (a == "--model")
      it.model = value();
    else if (a == "--batch")
      it.batch = int_option(a, value(), 1, 1 << 20);
    else if (a == "--time")
      time = value();
    else if (a == "--precision")
      it.precision = value();
    else if (a == "--source")
      it.source = value();
    else
      throw UsageError("unknown option '" + a + "'");
  }
  if (mode == "--from-nccl-tests") {
    if (nccl.logs.empty())
      throw UsageError("--from-nccl-tests needs at least one log file");
    if (output.empty())
      throw UsageError("--from-nccl-tests needs --output NET.json");
    nccl.output = output;
    nccl.command = fmt::format("{}", fmt::join(command, " "));
    std::fputs(calibrate_from_nccl_tests(nccl).c_str(), stdout);
    return 0;
  }
  if (mode == "--from-iteration") {
    if (it.profile.empty() || it.model.empty() || it.batch == 0 || time.empty())
      throw UsageError("--from-iteration needs --gpu PROFILE, --model M, --batch N and --time T");
    const auto seconds = parse_quantity(time, Dimension::seconds);
    if (!seconds || *seconds <= 0)
      throw UsageError("--time expects a positive duration such as '182ms', found '" + time + "'");
    it.seconds = *seconds;
    if (it.source.empty())
      it.source = fmt::format("measured by the user, recorded by `{}`", fmt::join(command, " "));
    std::fputs(calibrate_from_iteration(it).c_str(), stdout);
    return 0;
  }
  const std::string program = gpu_benchmark_program();
  if (program.empty())
    throw UsageError("this ddlsim was built without CUDA (no nvcc at configure time), so it has no GPU "
                     "microbenchmarks; build it where the CUDA Toolkit is installed (scripts/setup.sh finds "
                     "/usr/local/cuda), or use --from-nccl-tests / --from-iteration");
  std::vector<std::string> argv{program};
  if (!output.empty())
    argv.insert(argv.end(), {"--output", output});
  else
    argv.insert(argv.end(), {"--profile-dir", profile_dir()});
  if (quick)
    argv.push_back("--quick");
  argv.insert(argv.end(), {"--command", fmt::format("{}", fmt::join(command, " "))});
  std::vector<char*> cargs;
  for (std::string& s : argv)
    cargs.push_back(s.data());
  cargs.push_back(nullptr);
  std::fflush(stdout);
  execv(program.c_str(), cargs.data());
  throw std::runtime_error("cannot run " + program);
}

}  // namespace ddlsim::cli
