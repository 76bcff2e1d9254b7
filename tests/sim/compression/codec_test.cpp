// Codec wire formats against the sizes their papers give, codec costs against a profile's curves,
// and the profile loader's interpolation and errors.
#include "calibration/gpu_profile.hpp"
#include "models/zoo.hpp"
#include "sim/compression/codec.hpp"
#include "sim/scenario/error.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "sim/compression/test_profile.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

using namespace ddlsim::scenario;

using namespace ddlsim;
using compress::Codec;
using compress::CodecConfig;

namespace {

CodecConfig codec(Codec c)
{
  CodecConfig config;
  config.codec = c;
  return config;
}

double bytes(const CodecConfig& c, std::vector<model::Tensor> tensors, double e = 4)
{
  return compress::wire_bytes(c, compress::codec_tensors(c, tensors), e).total();
}

std::vector<model::Tensor> tensors_of(const model::Model& m)
{
  std::vector<model::Tensor> out;
  for (const model::Layer& l : m.layers)
    for (const model::Tensor& t : l.parameter_tensors())
      out.push_back(t);
  return out;
}

}  // namespace

TEST_CASE("every zoo model's tensors hold exactly its parameters")
{
  for (const char* name : {"resnet50", "resnet101", "vgg16", "inception-v3", "bert-base", "bert-large", "gpt2-124m"}) {
    const model::Model m = *model::find_model(name, model::default_sequence(name));
    for (const model::Layer& l : m.layers) {
      std::int64_t sum = 0;
      for (const model::Tensor& t : l.parameter_tensors())
        sum += t.elements();
      CAPTURE(l.name);
      CHECK(sum == l.params);
    }
  }
  // ResNet-50: 53 convolutions and a linear weight are matrices; 53 batch norms give 106 vectors
  // and the linear layer a bias: 161 tensors, as torchvision's model.parameters() lists.
  const auto t = tensors_of(*model::find_model("resnet50"));
  CHECK(t.size() == 161);
  CHECK(std::count_if(t.begin(), t.end(), [](const model::Tensor& x) { return x.is_matrix(); }) == 54);
}

TEST_CASE("top-k at ratio 0.001 of ResNet-50 sends 25,557 value-index pairs per worker")
{
  // 25,557,032 fp32 gradients as one flat bucket: k = floor(0.001 n) = 25,557 pairs of a 4-byte
  // value and a 32-bit index (Aji and Heafield 2017; Shi et al. 2019).
  CodecConfig c = codec(Codec::topk);
  c.ratio = 0.001;
  c.granularity = compress::Granularity::bucket;
  const auto t = tensors_of(*model::find_model("resnet50"));
  CHECK(bytes(c, t) == 25'557.0 * 8);
  // Per tensor (GRACE): each tensor keeps max(1, floor(0.001 n)).
  c.granularity = compress::Granularity::tensor;
  double pairs = 0;
  for (const model::Tensor& x : t)
    pairs += std::max(1.0, std::floor(0.001 * double(x.elements())));
  CHECK(bytes(c, t) == pairs * 8);
  // DGC sends the same pairs; random-k only the values (shared seed, no indices).
  c.codec = Codec::dgc;
  CHECK(bytes(c, t) == pairs * 8);
  c.codec = Codec::randomk;
  CHECK(bytes(c, t) == pairs * 4);
  // Threshold (Strom 2015): one 32-bit word per element sent.
  c.codec = Codec::threshold;
  c.ratio = 0.01;
  CHECK(bytes(c, {{1000, 1}}) == 10 * 4);
}

TEST_CASE("quantisers: bits per element plus their scales, per tensor")
{
  const std::vector<model::Tensor> v{{1000, 1}}, odd{{1001, 1}};
  // signSGD / Signum: n/8 bytes plus one fp32 scale per tensor (Bernstein et al. 2018).
  CHECK(bytes(codec(Codec::signsgd), v) == 125 + 4);
  CHECK(bytes(codec(Codec::signsgd), odd) == 126 + 4);
  CHECK(bytes(codec(Codec::signum), v) == 129);
  CHECK(bytes(codec(Codec::signsgd), {{1000, 1}, {2000, 1}}) == 125 + 4 + 250 + 4);
  // TernGrad: 2 bits an element and the scale (Wen et al. 2017).
  CHECK(bytes(codec(Codec::terngrad), v) == 250 + 4);
  // 1-bit SGD: 1 bit an element, two fp32 reconstruction values per column (Seide et al. 2014).
  CHECK(bytes(codec(Codec::onebit), {{64, 576}}) == 64 * 576 / 8 + 8 * 576);
  // Natural compression: sign and 8-bit exponent (Horvath et al. 2019).
  CHECK(bytes(codec(Codec::natural), v) == 1125);
  CHECK(bytes(codec(Codec::eightbit), v) == 1004);
  CHECK(bytes(codec(Codec::fp16), v) == 2000);
  CHECK(bytes(codec(Codec::bf16), v) == 2000);
  CHECK(bytes(codec(Codec::none), v) == 4000);
  CHECK(bytes(codec(Codec::none), v, 2) == 2000);
  // QSGD fixed width: sign + ceil(log2(s + 1)) bits, and the fp32 norm (Alistarh et al. 2017).
  CodecConfig q = codec(Codec::qsgd);
  q.levels = 127;
  CHECK(bytes(q, v) == 1000 + 4);
  q.levels = 1;
  CHECK(bytes(q, v) == 250 + 4);
  // Elias coding: the expected size bound of their Theorem 3.2 when below the fixed width.
  q.elias = true;
  const double n = 1e6, s = 1, spread = s * (s + std::sqrt(n));
  const double bound = std::ceil(((3 + 1.5 * std::log2(2 * (s * s + n) / spread)) * spread + 32) / 8);
  CHECK(bytes(q, {{1'000'000, 1}}) == bound);
  CHECK(bound < 250'004);
  q.levels = 255;  // dense regime: the bound exceeds the fixed width, which is sent
  CHECK(bytes(q, v) == 1000 * 9 / 8 + 4);
}

TEST_CASE("PowerSGD rank 4 sends (rows + cols) x 4 floats per matrix, in two all-reduces")
{
  // Vogels et al. 2019: M (m x c) goes as P = M Q (m x r) and Q = M^T P (c x r).
  CodecConfig c = codec(Codec::powersgd);
  c.rank = 4;
  const std::vector<model::Tensor> conv{{64, 576}};
  const compress::Wire w = compress::wire_bytes(c, conv, 4);
  CHECK(w.first == 64 * 4 * 4);
  CHECK(w.second == 576 * 4 * 4);
  CHECK(w.total() == (64 + 576) * 4 * 4);
  // Vectors and matrices too small to gain go uncompressed with P.
  const compress::Wire small = compress::wire_bytes(c, std::vector<model::Tensor>{{64, 1}, {3, 3}}, 4);
  CHECK(small.first == (64 + 9) * 4);
  CHECK(small.second == 0);
  CHECK(compress::summable(Codec::powersgd));
  for (Codec x : {Codec::topk, Codec::dgc, Codec::signsgd, Codec::qsgd, Codec::terngrad, Codec::onebit})
    CHECK_FALSE(compress::summable(x));
  for (Codec x : {Codec::none, Codec::fp16, Codec::bf16, Codec::randomk})
    CHECK(compress::summable(x));
}

TEST_CASE("cost curves: launch-bound below the first point, linear between, the last slope beyond")
{
  CostCurve c{{1000, 2000, 4000}, {10e-6, 20e-6, 30e-6}};
  CHECK(c.at(500) == test::Rel(10e-6).epsilon(1e-12));
  CHECK(c.at(1500) == test::Rel(15e-6).epsilon(1e-12));
  CHECK(c.at(3000) == test::Rel(25e-6).epsilon(1e-12));
  CHECK(c.at(8000) == test::Rel(50e-6).epsilon(1e-12));
  CostCurve one{{1e6}, {100e-6}};
  CHECK(one.at(2e6) == test::Rel(200e-6).epsilon(1e-12));
  CHECK(one.at(10) == test::Rel(100e-6).epsilon(1e-12));
}

TEST_CASE("codec seconds come from the profile's curves, per tensor, with error feedback's passes")
{
  const GpuProfile p = load_profile(test::test_profile());
  CodecConfig c = codec(Codec::signsgd);
  const std::vector<model::Tensor> t{{1500, 1}, {3000, 1}};
  compress::CodecSeconds s = compress::codec_seconds(c, t, 4, p);
  // Encode: 6 us at 1,500 (between the points), 9 us at 3,000 (the last slope, 2 us a thousand).
  CHECK(s.encode == test::Rel(6e-6 + 9e-6).epsilon(1e-12));
  // Decode has one point: proportional above it (1.5 us and 3 us).
  CHECK(s.decode == test::Rel(4.5e-6).epsilon(1e-12));
  c.error_feedback = true;
  s = compress::codec_seconds(c, t, 4, p);
  CHECK(s.encode == test::Rel(15e-6 + 2 * 50e-6).epsilon(1e-12));  // curves below 1e6: their first point
  // Sparse decode scales with the ratio against the profile's: 0.02 decodes twice the pairs.
  c = codec(Codec::topk);
  c.ratio = 0.02;
  s = compress::codec_seconds(c, std::vector<model::Tensor>{{1'000'000, 1}}, 4, p);
  CHECK(s.encode == test::Rel(100e-6).epsilon(1e-12));
  CHECK(s.decode == test::Rel(20e-6).epsilon(1e-12));
  // A codec the profile lacks is an error naming the profile.
  CHECK_THROWS_WITH_AS(compress::codec_seconds(codec(Codec::qsgd), t, 4, p),
                       doctest::Contains("has no cost for codec 'qsgd'"), std::invalid_argument);
}

TEST_CASE("PowerSGD's roofline is scaled to the profile's measured rank-4 PowerSGD at as many elements")
{
  // 1 TFLOP/s, 1 us launches, free memory traffic. The microbenchmark's matrix of 1e6 elements is
  // 1024 x 976.5625: its roofline encodes in (8 + 1) + (0.032768 + 1 + 3) + (8 + 1) us and decodes
  // in 8 + 1 us, and the profile says it measured twice and three times that.
  const std::string file = test::temp_file("powersgd-profile.json", R"({"schema": 1, "name": "test", "gpu": "Test GPU",
    "sm_count": 1, "memory": "1GiB", "measured": false, "source": "made up for a test", "date": "2026-11-22",
    "command": "none", "driver": "none", "cuda": "none", "peak": {"fp32": "1TFLOPS"}, "memory_bandwidth": "1TBps",
    "copy_bandwidth": "1e21Bps", "launch_overhead": "1us", "gemm_efficiency": 1,
    "codecs": {"powersgd": {"source": "test", "encode": [{"elements": 1e6, "time": "44.065536us"}],
                            "decode": [{"elements": 1e6, "time": "27us"}]}}})");
  const GpuProfile p = load_profile(file);
  CodecConfig c = codec(Codec::powersgd);
  c.rank = 4;
  c.error_feedback = false;
  // A 1000 x 1000 matrix: P = M Q in 9 us, orthogonalisation in 4.032 us, Q = M^T P in 9 us, decode 9 us.
  const compress::CodecSeconds s = compress::codec_seconds(c, std::vector<model::Tensor>{{1000, 1000}}, 4, p);
  CHECK(s.encode == test::Rel(2 * 9e-6).epsilon(1e-12));
  CHECK(s.second_encode == test::Rel(2 * 13.032e-6).epsilon(1e-12));
  CHECK(s.decode == test::Rel(3 * 9e-6).epsilon(1e-12));
  // Without the measured entry, the roofline alone.
  const GpuProfile plain = load_profile(test::test_profile());
  const compress::CodecSeconds r = compress::codec_seconds(c, std::vector<model::Tensor>{{1000, 1000}}, 4, plain);
  CHECK(r.encode == test::Rel(9e-6).epsilon(1e-12));
  CHECK(r.second_encode == test::Rel(13.032e-6).epsilon(1e-12));
  CHECK(r.decode == test::Rel(9e-6).epsilon(1e-12));
}

TEST_CASE("the shipped V100 profile loads and says its codec numbers are scaled from the measured H100")
{
  const GpuProfile p = load_profile(resolve_profile("v100-sxm2", "x.json"));
  const GpuProfile h100 = load_profile(resolve_profile("h100-sxm", "x.json"));
  CHECK(p.name == "v100-sxm2");
  CHECK_FALSE(p.measured);
  CHECK(p.derived_from == "h100-sxm");
  CHECK(h100.measured);
  CHECK(p.provenance() == "derived from the measured h100-sxm");
  CHECK(h100.provenance() == "measured");
  CHECK(load_profile(test::test_profile()).provenance() == "estimated");
  CHECK(p.peak("fp32") == 15.7e12);
  CHECK(p.memory_bandwidth_bytes_per_s == 900e9);
  for (std::string_view name : compress::codec_names()) {
    if (name == "none" || name == "powersgd")
      continue;
    CAPTURE(name);
    const CodecCost* cost = p.codec(name);
    const CodecCost* measured = h100.codec(name);
    REQUIRE(cost != nullptr);
    REQUIRE(measured != nullptr);
    CHECK(cost->source.find("derived from h100-sxm (measured on NVIDIA H100") == 0);
    // Memory-bound beyond the launch-bound first point: the V100 is slower by at most HBM's 3350 / 900.
    const double n = 64.0 * 1024 * 1024;
    CHECK(cost->encode.at(n) > measured->encode.at(n));
    CHECK(cost->encode.at(n) <= measured->encode.at(n) * 3350 / 900 * (1 + 1e-9));
  }
  REQUIRE(p.codec("error_feedback") != nullptr);
}

TEST_CASE("malformed profiles are named by file and JSON path")
{
  std::string text = R"({"schema": 1, "name": "x", "gpu": "X", "sm_count": 1, "memory": "1GiB", "measured": true,
    "source": "s", "date": "d", "command": "c", "driver": "d", "cuda": "c", "peak": {"fp32": "1TFLOPS"},
    "memory_bandwidth": "1TBps", "copy_bandwidth": "1TBps", "launch_overhead": "1us", "gemm_efficiency": 0.5,
    "codecs": {"topk": {"source": "s", "encode": [{"elements": 10, "time": "1us"}, {"elements": 5, "time": "2us"}],
                        "decode": [{"elements": 1, "time": "1us"}]}}})";
  const std::string bad = test::temp_file("bad.json", text);
  CHECK_THROWS_WITH_AS(load_profile(bad),
                       (bad + ": /codecs/topk/encode/1/elements: found 5; expected more elements than the point "
                              "before (10)")
                           .c_str(),
                       ScenarioError);
  nlohmann::json j = nlohmann::json::parse(text);
  j["derived_from"] = "h100-sxm";
  const std::string file = test::temp_file("derived.json", j.dump());
  CHECK_THROWS_WITH_AS(load_profile(file),
                       (file + ": /derived_from: a measured profile is not derived from another; expected no "
                               "'derived_from'")
                           .c_str(),
                       ScenarioError);
}
