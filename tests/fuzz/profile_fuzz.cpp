// libFuzzer target: a GPU profile file.
#include "calibration/gpu_profile.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string path = ddlsim::fuzz::as_file(data, size, ".profile.json");
  ddlsim::fuzz::expect_only_scenario_errors([&] { ddlsim::load_profile(path); });
  return 0;
}
