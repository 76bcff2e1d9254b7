// libFuzzer target: an nccl-tests log, parsed and fitted for every operation.
#include "calibration/nccl_fit.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace ddlsim::calib;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ddlsim::fuzz::expect_only_scenario_errors([&] {
    const NcclLog log = parse_nccl_tests(text, "fuzz.log");
    for (std::size_t op = 0; op < nccl_op_names().size(); ++op)
      ddlsim::fuzz::expect_only_scenario_errors(
          [&] { fit_alpha_beta(log, static_cast<NcclOp>(op), log.ranks > 1 ? log.ranks : 8, false); });
  });
  return 0;
}
