// libFuzzer target: a custom model (layers) or a custom network (switches and links), each put in
// a fixed scenario, so the fuzzer spends its time inside those parsers and their checks. The first
// byte picks which.
#include "fuzz_common.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

namespace {

const char* const BASE = R"({"schema": 1, "name": "fuzz", "gpu": {"peak": "10TFLOPS", "efficiency": 0.5},
  "model": "resnet50",
  "cluster": {"nodes": 4, "gpus_per_node": 1, "network": {"topology": "star", "link": "ib-hdr-200"}},
  "workload": {"kind": "training", "batch_per_gpu": 8, "iterations": 2}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace ddlsim::scenario;
  if (size == 0)
    return 0;
  ddlsim::fuzz::expect_only_scenario_errors([&] {
    const nlohmann::json part =
        parse_json_text(std::string(reinterpret_cast<const char*>(data) + 1, size - 1), "f.json");
    nlohmann::json doc = nlohmann::json::parse(BASE);
    if (data[0] % 2 == 0)
      doc["model"] = {{"name", "custom"}, {"layers", part}};
    else
      doc["cluster"]["network"] = part;
    const Scenario s = parse_scenario(doc, "fuzz.json");
    parse_scenario(to_json(s), "resolved.json");
  });
  return 0;
}
