// libFuzzer target: a sweep file (load_sweep reads a path, so the input is written to one).
#include "fuzz_common.hpp"
#include "sim/cli/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string path = ddlsim::fuzz::as_file(data, size, ".sweep.json");
  ddlsim::fuzz::expect_only_scenario_errors([&] {
    const ddlsim::cli::Sweep sweep = ddlsim::cli::load_sweep(path);
    for (std::size_t i = 0; i < sweep.point_count() && i < 4; ++i)
      sweep.point_document(i);
  });
  return 0;
}
