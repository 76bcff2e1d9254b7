#pragma once
// What every fuzz target shares: an input is accepted or refused with a ScenarioError (bad input,
// exit 2); anything else that escapes (another exception type, a crash, a sanitizer report, a
// hang) is a finding.
#include "sim/scenario/error.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <unistd.h>

namespace ddlsim::fuzz {

/// Runs `parse`; returns normally for success and for ScenarioError, aborts for anything else.
template <class Parse> void expect_only_scenario_errors(Parse&& parse)
{
  try {
    parse();
  } catch (const scenario::ScenarioError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: an exception other than ScenarioError escaped: %s\n", e.what());
    std::abort();
  }
}

/// The input as a file (for parsers that read a path): one per process, rewritten each time.
inline std::string as_file(const std::uint8_t* data, std::size_t size, const char* suffix)
{
  static const std::string path = "/tmp/ddlsim-fuzz-" + std::to_string(::getpid()) + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace ddlsim::fuzz
