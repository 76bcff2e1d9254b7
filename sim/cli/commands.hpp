#pragma once
// The subcommands, one file each (sim/cli/*_command.cpp): each takes the arguments after its name,
// throws UsageError for a bad command line, and returns the process's exit status.
#include <string>
#include <vector>

namespace ddlsim::cli {

int run_command(const std::vector<std::string>& args);        ///< ddlsim run
int topo_command(const std::vector<std::string>& args);       ///< ddlsim topo
int sweep_command(const std::vector<std::string>& args);      ///< ddlsim sweep, ddlsim sweep merge
int scale_command(const std::vector<std::string>& args);      ///< ddlsim scale
int predict_command(const std::vector<std::string>& args);    ///< ddlsim predict
int calibrate_command(const std::vector<std::string>& args);  ///< ddlsim calibrate

}  // namespace ddlsim::cli
