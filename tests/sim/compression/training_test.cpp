// Compressed data-parallel training against closed forms on contention-free stars (one GPU per
// node, a NIC each): codec time on the GPU timeline, all-reduce of summable payloads, all-gather
// of the others and its crossover with the uncompressed ring, the compressed ring, the parameter
// server; bad codec parameters; and the GRACE setting's known result.
#include "sim/cli/sweep.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "sim/compression/test_profile.hpp"
#include "sim_helpers.hpp"

#include <cmath>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::runner;
using namespace ddlsim::cli;
using namespace ddlsim::report;

using namespace ddlsim;
using nlohmann::json;

namespace {

/// One layer of 1,000 x 1,000 weights (4 MB of fp32 gradients): forward 1 ms and backward 2 ms on
/// the 1 TFLOP/s GPU at batch 1. p GPUs on 1 GB/s NICs of `latency` (route alpha 2 x latency).
json one_layer(int p, const std::string& latency, const std::string& profile)
{
  return json::parse(R"({"schema": 1, "name": "c",
    "model": {"name": "one-layer", "layers": [
      {"name": "w", "kind": "linear", "params": 1000000, "forward_flops": 1e9, "tensors": [[1000, 1000]]}]},
    "gpu": {"profile": ")" +
                     profile +
                     R"(", "peak": "1TFLOPS", "efficiency": 1},
    "cluster": {"nodes": )" +
                     std::to_string(p) + R"(, "network": {"link": {"bandwidth": "1GBps", "latency": ")" + latency +
                     R"("}}},
    "workload": {"kind": "training", "batch_per_gpu": 1, "iterations": 3, "fidelity": "step",
                 "scheduling": {"policy": "none"}}})");
}

json run(const json& doc)
{
  const Scenario s = parse_scenario(doc, "c.json");
  return run_in_child([&] { return simulate(s).report; });
}

double iteration(const json& doc)
{
  return run(doc)["iteration_time_s"]["mean"].get<double>();
}

json with(json doc, const std::string& patch)
{
  doc.merge_patch(json::parse(patch));
  return doc;
}

constexpr double COMPUTE = 3e-3, S = 4e6, B = 1e9;
constexpr double TOPK_WIRE = 10'000 * 8;  // floor(0.01 x 1e6) pairs of fp32 value and int32 index

double ring(int p, double alpha, double bytes)
{
  return 2.0 * (p - 1) * (alpha + bytes / (p * B));
}

}  // namespace

TEST_CASE("top-k all-gather: compute + encode + (p-1)(alpha + w/B) + p decodes, encode on the compute stream")
{
  const int p = 4;
  const double alpha = 2e-6, encode = 100e-6, decode = 10e-6;
  const json doc = with(one_layer(p, "1us", test::test_profile()),
                        R"({"workload": {"compression": {"codec": "topk", "ratio": 0.01}}})");
  const json r = run(doc);
  const double expected = COMPUTE + encode + (p - 1) * (alpha + TOPK_WIRE / B) + p * decode;
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-6));
  CHECK(r["breakdown_s"]["codec"].get<double>() == test::Rel(encode + p * decode).epsilon(1e-9));
  const json& c = r["workload"]["compression"];
  CHECK(c["exchange"] == "allgather");
  CHECK(c["wire_bytes_per_worker"].get<double>() == TOPK_WIRE);
  CHECK(c["compression_ratio"].get<double>() == test::Rel(S / TOPK_WIRE).epsilon(1e-12));
  CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == (p - 1) * TOPK_WIRE);
  // Uncompressed: the ring all-reduce.
  const double none = iteration(with(one_layer(p, "1us", test::test_profile()), "{}"));
  CHECK(none == test::Rel(COMPUTE + ring(p, alpha, S)).epsilon(1e-6));
}

TEST_CASE("all-gather codecs lose their advantage as p grows: the crossover p* = 2S/(c - alpha B)")
{
  // Ring all-reduce: 2(p-1)(alpha + S/(pB)); all-gather of c-byte payloads: (p-1)(alpha + c/B).
  // Equal at p* = 2S/(c - alpha B) = 8e6 / 78,000 = 102.6 (codec time 1 ns: negligible).
  const double alpha = 2e-6, c = TOPK_WIRE;
  const double crossover = 2 * S / (c - alpha * B);
  CHECK(crossover == doctest::Approx(102.564).epsilon(1e-4));
  const std::string profile = test::test_profile("1ns", "1ns");
  for (int p : {102, 103}) {
    CAPTURE(p);
    json base = one_layer(p, "1us", profile);
    base["workload"]["iterations"] = 2;
    const double compressed =
        iteration(with(base, R"({"workload": {"compression": {"codec": "topk", "ratio": 0.01}}})"));
    const double uncompressed = iteration(base);
    CHECK(compressed == test::Rel(COMPUTE + 1e-9 + (p - 1) * (alpha + c / B) + p * 1e-9).epsilon(1e-6));
    CHECK(uncompressed == test::Rel(COMPUTE + ring(p, alpha, S)).epsilon(1e-6));
    if (p < crossover)
      CHECK(compressed < uncompressed);
    else
      CHECK(compressed > uncompressed);
  }
}

TEST_CASE("PowerSGD: encode, all-reduce P, orthogonalise and Q = M^T P, all-reduce Q, decode")
{
  const int p = 4;
  const double alpha = 2e-6, launch = 1e-6, rate = 1e12;
  const double gemm = 2.0 * 1000 * 1000 * 4 / rate + launch;  // memory traffic is free here
  const double ef = 20e-6 + 30e-6;                            // error feedback (on by default)
  const double encode = gemm + ef;
  const double second = (2.0 * 1000 * 16 / rate + launch) + 3 * launch + gemm;
  const double p_bytes = 1000 * 4 * 4, q_bytes = 1000 * 4 * 4;
  const json r = run(with(one_layer(p, "1us", test::test_profile()),
                          R"({"workload": {"compression": {"codec": "powersgd", "rank": 4}}})"));
  const double expected = COMPUTE + encode + ring(p, alpha, p_bytes) + second + ring(p, alpha, q_bytes) + gemm;
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-6));
  CHECK(r["workload"]["compression"]["wire_bytes_per_worker"].get<double>() == p_bytes + q_bytes);
  CHECK(r["workload"]["compression"]["exchange"] == "allreduce");
  CHECK(r["workload"]["compression"]["extra_memory_bytes"].get<double>() == 4e6 + 1000 * 4 * 4);
}

TEST_CASE("compressed ring all-reduce: each reduce hop decodes, adds and re-encodes its chunk")
{
  const int p = 4;
  const double alpha = 2e-6;
  // Chunks of 250,000 elements: 2,500 pairs (20,000 bytes); the one-point curves charge 100 us to
  // encode (their floor) and 10 x 250,000 / 1e6 x (0.01 / 0.01)... = 10 us to decode a chunk
  // (launch-bound floor of the 1e6-element point).
  const double chunk = 2'500 * 8, hop_codec = 10e-6 + 100e-6;
  const json r = run(with(one_layer(p, "1us", test::test_profile()),
                          R"({"workload": {"compression": {"codec": "topk", "ratio": 0.01, "exchange": "ring"}}})"));
  const double expected =
      COMPUTE + 100e-6 + (p - 1) * (alpha + chunk / B + hop_codec) + (p - 1) * (alpha + chunk / B) + p * 10e-6;
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-6));
  CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == 2 * (p - 1) * chunk);
  // The report's codec seconds are those of the tasks run: the bucket's encode and p - 1
  // re-encodes; p - 1 hop decodes and p final chunk decodes.
  CHECK(r["workload"]["compression"]["encode_s"].get<double>() == test::Rel(p * 100e-6).epsilon(1e-12));
  CHECK(r["workload"]["compression"]["decode_s"].get<double>() == test::Rel((2 * p - 1) * 10e-6).epsilon(1e-12));
}

TEST_CASE("parameter server with top-k: compressed push and pull, one decode")
{
  const int p = 4;
  const double alpha = 2e-6;
  const json r = run(with(one_layer(p, "1us", test::test_profile()),
                          R"({"workload": {"architecture": {"kind": "ps"},
                              "compression": {"codec": "topk", "ratio": 0.01}}})"));
  const double expected = COMPUTE + 100e-6 + 2 * (alpha + (p - 1) * TOPK_WIRE / (p * B)) + 10e-6;
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-6));
  CHECK(r["workload"]["compression"]["exchange"] == "ps");
}

TEST_CASE("codec kernels on a stream of their own overlap the next bucket's backward")
{
  // Two layers under wfbp: the input-side layer's backward runs while the other bucket encodes.
  json doc = one_layer(2, "0s", test::test_profile());
  doc["model"]["layers"].push_back(
      {{"name", "w2"}, {"kind", "linear"}, {"params", 1000000}, {"forward_flops", 1e9}, {"tensors", {{1000, 1000}}}});
  doc["workload"]["scheduling"]["policy"] = "wfbp";
  const json same = with(doc, R"({"workload": {"compression": {"codec": "topk", "ratio": 0.01}}})");
  const json separate =
      with(doc, R"({"workload": {"compression": {"codec": "topk", "ratio": 0.01, "stream": "separate"}}})");
  const double t_same = iteration(same), t_separate = iteration(separate);
  // Separate: forward 2 ms, backward 2 ms, backward 2 ms, encode 0.1, all-gather 0.08, decode 0.02 (the first
  // bucket's encode, all-gather and decode hide under the second backward). Same stream: the first
  // encode delays the second backward by 0.1 ms and its decode, queued behind that backward, 0.02.
  CHECK(t_separate == test::Rel(2e-3 + 4e-3 + 0.1e-3 + 0.08e-3 + 0.02e-3).epsilon(1e-6));
  CHECK(t_same - t_separate == test::Rel(120e-6).epsilon(1e-6));
}

TEST_CASE("bad codec parameters are named with the JSON path and the valid range")
{
  const std::string profile = test::test_profile();
  const auto error = [&](const std::string& patch) {
    return test::scenario_error(with(one_layer(4, "1us", profile), patch), "c.json");
  };
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"workload": {"compression": {"codec": "topk", "ratio": 1.5}}})",
       "c.json: /workload/compression/ratio: found 1.5; expected a ratio in (0, 1): the fraction of gradient "
       "elements sent"},
      {R"({"workload": {"compression": {"codec": "randomk", "ratio": 0}}})",
       "c.json: /workload/compression/ratio: found 0; expected a ratio in (0, 1): the fraction of gradient elements "
       "sent"},
      {R"({"workload": {"compression": {"codec": "qsgd", "levels": 0}}})",
       "c.json: /workload/compression/levels: found 0; expected quantization levels s in [1, 16777216] (QSGD sends "
       "1 + ceil(log2(s + 1)) bits an element)"},
      {R"({"workload": {"compression": {"codec": "powersgd", "rank": 0}}})",
       "c.json: /workload/compression/rank: found 0; expected a rank in [1, 1024] (the columns of PowerSGD's P and "
       "Q)"},
      {R"({"workload": {"compression": {"codec": "zip"}}})",
       "c.json: /workload/compression/codec: found 'zip'; expected one of: none, fp16, bf16, topk, randomk, dgc, "
       "threshold, qsgd, terngrad, signsgd, signum, onebit, natural, 8bit, powersgd"},
      {R"({"workload": {"compression": {"codec": "qsgd", "levels": 4, "ratio": 0.1}}})",
       "c.json: /workload/compression/ratio: 'ratio' applies to topk, randomk, dgc and threshold; this codec is "
       "'qsgd'"},
      {R"({"workload": {"compression": {"codec": "topk", "ratio": 0.1, "exchange": "allreduce"}}})",
       "c.json: /workload/compression/exchange: codec 'topk' cannot be summed in flight; expected 'allgather' "
       "(gather every payload) or 'ring' (decode, add and re-encode at each hop)"},
      {R"({"workload": {"compression": {"codec": "qsgd"}}})",
       "c.json: /workload/compression: missing required key 'levels'"},
      {R"({"workload": {"compression": {"codec": "terngrad"}}})",
       "c.json: /workload/compression/codec: GPU profile " + profile +
           " has no costs for 'terngrad'; expected a profile with a 'codecs.terngrad' entry"},
  };
  for (const auto& [patch, message] : cases) {
    CAPTURE(patch);
    CHECK(error(patch) == message);
  }
  json placeholder = with(one_layer(4, "1us", profile), R"({"workload": {"compression": {"codec": "signsgd"}}})");
  placeholder["gpu"].erase("profile");
  try {
    parse_scenario(placeholder, "c.json");
    FAIL("no error");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find(
              "c.json: /workload/compression/codec: codec 'signsgd' takes its encode and "
              "decode times from a GPU profile; expected \"gpu\": {\"profile\": NAME} with a "
              "shipped profile (a100-sxm4, h100-sxm, h200-sxm, rtx2080ti, v100-sxm2) or a profile file") == 0);
  }
}

TEST_CASE("GRACE setting: compression wins big at 1 Gb/s and loses at 25 Gb/s once codec time is paid")
{
  // ResNet-50 on 8 nodes of one V100 (Xu et al., ICDCS 2021); Agarwal et al. (MLSys 2022): on fast
  // networks an optimised all-reduce leaves compression nothing to gain.
  const Sweep sweep = load_sweep(std::string(DDLSIM_SOURCE_DIR) + "/scenarios/grace/codecs.sweep.json");
  REQUIRE(sweep.paths == std::vector<std::string>{"cluster.network.link", "workload.compression"});
  std::map<std::string, std::map<std::string, double>> tput;  // [link][codec]
  for (std::size_t i = 0; i < sweep.point_count(); ++i) {
    const std::vector<json> v = sweep.point_values(i);
    const Scenario s = parse_scenario(sweep.point_document(i), sweep.file);
    const json r = run_in_child([&] { return simulate(s).report; });
    tput[v[0].get<std::string>()][v[1].dump()] = r["throughput"]["samples_per_s"].get<double>();
  }
  const std::string none = R"({"codec":"none"})";
  const std::string qsgd = R"({"codec":"qsgd","levels":127})";
  REQUIRE(tput.at("eth-1").size() == 9);
  for (const auto& [codec, value] : tput.at("eth-1")) {
    CAPTURE(codec);
    if (codec == none)
      continue;
    if (codec == qsgd)  // 8 bits an element, all-gathered by 8 workers: the ring's volume
      CHECK(value == test::Rel(tput["eth-1"][none]).epsilon(0.05));
    else
      CHECK(value > 3 * tput["eth-1"][none]);
  }
  for (const auto& [codec, value] : tput.at("eth-25")) {
    CAPTURE(codec);
    if (codec != none)
      CHECK(value < tput["eth-25"][none]);
  }
}
