#pragma once
// Running the ddlsim binary as a user does, and the files around it, for the end-to-end tests.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace ddlsim::test {

namespace fs = std::filesystem;

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr
};

/// Runs a shell command line, its stderr merged into its stdout.
inline Result run_command(const std::string& command_line)
{
  const std::string command = command_line + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe))
    out += buffer;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline Result run_ddlsim(const std::string& args)
{
  return run_command(std::string(DDLSIM_BINARY) + " " + args);
}

/// A folder of this test process, emptied the first time the process asks for it: process ids
/// come back, and an earlier process's results would make a sweep refuse the folder.
inline fs::path temp_dir(const std::string& name)
{
  static std::set<std::string> fresh;
  const fs::path dir = fs::temp_directory_path() / ("ddlsim-test-" + std::to_string(::getpid())) / name;
  if (fresh.insert(dir.string()).second)
    fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline std::string write_file(const std::string& name, const std::string& text)
{
  const fs::path path = temp_dir("inputs") / name;
  std::ofstream(path) << text;
  return path.string();
}

inline std::string read_file(const fs::path& path)
{
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string scenario_path(const std::string& name)
{
  return std::string(DDLSIM_SOURCE_DIR) + "/scenarios/" + name;
}

}  // namespace ddlsim::test
