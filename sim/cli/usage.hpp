#pragma once
// The text `ddlsim --help` prints: every subcommand and option.
namespace ddlsim::cli {

extern const char* const usage_text;

}  // namespace ddlsim::cli
