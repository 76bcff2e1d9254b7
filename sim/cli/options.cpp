#include "sim/cli/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace ddlsim::cli {

const std::string& option_value(const std::vector<std::string>& args, std::size_t& i)
{
  if (i + 1 == args.size() || args[i + 1].starts_with("--"))
    throw UsageError(args[i] + " needs a value");
  return args[++i];
}

int int_option(const std::string& flag, const std::string& v, long min, long max)
{
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > max)
    throw UsageError(fmt::format("{} expects an integer from {} to {}, found '{}'", flag, min, max, v));
  return static_cast<int>(n);
}

int parse_jobs(const std::string& flag, const std::string& value)
{
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 1 || n > 4096)
    throw UsageError(flag + " expects a number of processes from 1 to 4096, found '" + value + "'");
  return static_cast<int>(n);
}

std::vector<std::string> split_list(const std::string& text)
{
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start)
      out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace ddlsim::cli
