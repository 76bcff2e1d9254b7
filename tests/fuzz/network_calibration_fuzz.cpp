// libFuzzer target: a network calibration file (what calibrate --from-nccl-tests writes), both scopes.
#include "calibration/nccl_fit.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string path = ddlsim::fuzz::as_file(data, size, ".net.json");
  for (const char* scope : {"intra_node", "inter_node"})
    ddlsim::fuzz::expect_only_scenario_errors([&] { ddlsim::calib::load_calibrated_link(path, scope); });
  return 0;
}
