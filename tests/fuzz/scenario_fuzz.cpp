// libFuzzer target: a scenario file, parsed and written back resolved (to_json) and parsed again.
#include "fuzz_common.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace ddlsim::scenario;
  ddlsim::fuzz::expect_only_scenario_errors([&] {
    const nlohmann::json doc = parse_json_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    const Scenario s = parse_scenario(doc, "fuzz.json");
    parse_scenario(to_json(s), "resolved.json");
  });
  return 0;
}
