#pragma once
// Reading a subcommand's options: values, bounded integers, lists. A bad option is a UsageError,
// which main reports with the usage text and exit status 2.
#include <stdexcept>
#include <string>
#include <vector>

namespace ddlsim::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The value after option args[i] (moving i onto it); a UsageError when there is none.
const std::string& option_value(const std::vector<std::string>& args, std::size_t& i);

/// An integer option value from `min` to `max`.
int int_option(const std::string& flag, const std::string& v, long min, long max);

/// The value of -j / --jobs: worker processes, 1 to 4096.
int parse_jobs(const std::string& flag, const std::string& value);

/// "a,b,,c" -> {"a", "b", "c"}: the non-empty items of a comma-separated list.
std::vector<std::string> split_list(const std::string& text);

}  // namespace ddlsim::cli
