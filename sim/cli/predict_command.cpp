#include "sim/cli/commands.hpp"
#include "sim/cli/options.hpp"
#include "sim/cli/predict.hpp"

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

int predict_command(const std::vector<std::string>& args)
{
  PredictRequest r;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> const std::string& {
      return option_value(args, i);
    };
    if (a == "--gpu")
      r.profile = value();
    else if (a == "--batch")
      r.batch = int_option(a, value(), 1, 1 << 20);
    else if (a == "--sequence")
      r.sequence = int_option(a, value(), 1, 1 << 20);
    else if (a == "--precision")
      r.precision = value();
    else if (a == "--fusion")
      r.fusion = value();
    else if (a == "--attention")
      r.attention = value();
    else if (a == "--json")
      json = true;
    else if (!a.empty() && a[0] == '-')
      throw UsageError("unknown option '" + a + "'");
    else if (r.model.empty())
      r.model = a;
    else
      throw UsageError("more than one model given");
  }
  if (r.model.empty())
    throw UsageError("no model given");
  if (r.profile.empty())
    throw UsageError("predict needs --gpu PROFILE");
  const nlohmann::json p = predict(r);
  std::fputs(json ? (p.dump(2) + "\n").c_str() : predict_text(p).c_str(), stdout);
  return 0;
}

}  // namespace ddlsim::cli
