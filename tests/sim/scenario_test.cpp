#include "models/zoo.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/training.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "calibration/profile_json.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;

using namespace ddlsim;

namespace {

// A valid training scenario; tests patch one field at a time.
nlohmann::json base_training()
{
  return nlohmann::json::parse(R"({
    "schema": 1, "name": "t", "model": "resnet50",
    "gpu": {"peak": "15.7TFLOPS", "efficiency": 0.5},
    "cluster": {"nodes": 2, "gpus_per_node": 4,
                "intra_node": {"fabric": "nvswitch", "bandwidth": "150GBps", "latency": "0.5us"},
                "network": {"link": "ib-edr-100"}},
    "workload": {"kind": "training", "batch_per_gpu": 32}
  })");
}

Scenario parse(const nlohmann::json& j)
{
  return parse_scenario(j, "test.json");
}

}  // namespace

TEST_CASE("defaults are filled: 3 iterations, fp32, fusion with 25 MiB buckets, max-min sharing, auto fidelity")
{
  const Scenario s = parse(base_training());
  CHECK(s.seed == 1);
  CHECK(s.cluster.gpus() == 8);
  CHECK(s.cluster.nics_per_node == 1);
  CHECK_FALSE(s.cluster.nic_per_gpu());
  CHECK(s.cluster.network.sharing == Sharing::max_min);
  CHECK(s.cluster.network.link.bandwidth_bytes_per_s == 12.5e9);
  CHECK(s.training.iterations == 3);
  CHECK(s.training.precision == Precision::fp32);
  CHECK(s.training.data_parallel == 8);
  CHECK(s.training.policy == SchedulingPolicy::fusion);
  CHECK(s.training.bucket_bytes == 25.0 * 1024 * 1024);
  CHECK(s.training.fidelity == Fidelity::auto_);
  CHECK(s.output.dir == "out/t");
  CHECK_FALSE(s.output.trace);
}

TEST_CASE("the resolved scenario parses back to the same scenario")
{
  const Scenario a = parse(base_training());
  const nlohmann::json resolved = to_json(a);
  const Scenario b = parse(resolved);
  CHECK(to_json(b) == resolved);
  CHECK(b.cluster.intra.bandwidth_bytes_per_s == 150e9);
  CHECK(b.cluster.intra.latency_seconds == a.cluster.intra.latency_seconds);
  CHECK(b.gpu.peak_flops_per_s == a.gpu.peak_flops_per_s);
}

TEST_CASE("a collective size sweep expands from..to by factor, inclusive")
{
  const Scenario s = parse(nlohmann::json::parse(R"({
    "schema": 1, "name": "c",
    "cluster": {"nodes": 4, "network": {"link": {"bandwidth": "100Gbps", "latency": "1us"}}},
    "workload": {"kind": "collective", "op": "allreduce", "sizes": {"from": "1KiB", "to": "1MiB", "factor": 4}}
  })"));
  CHECK(s.collective.sizes_bytes == std::vector<double>{1024, 4096, 16384, 65536, 262144, 1048576});
  CHECK(s.cluster.nic_per_gpu());
  CHECK(to_json(parse(to_json(s))) == to_json(s));
}

TEST_CASE("malformed JSON is reported with its line and column")
{
  CHECK_THROWS_WITH_AS(parse_json_text("{\n  \"schema\": 1,\n  \"name\": }\n", "bad.json"),
                       doctest::Contains("bad.json: malformed JSON at line 3, column 11"), ScenarioError);
}

TEST_CASE("a missing file names the file")
{
  CHECK_THROWS_WITH_AS(load_scenario("/nonexistent/x.json"), doctest::Contains("/nonexistent/x.json: cannot open"),
                       ScenarioError);
}

TEST_CASE("an unknown key is rejected with its path and the known keys")
{
  auto j = base_training();
  j["cluster"]["nodez"] = 3;
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("test.json: /cluster/nodez: unknown key 'nodez'; expected one of: nodes, "
                                         "gpus_per_node, intra_node, nics_per_node, network"),
                       ScenarioError);
}

TEST_CASE("a wrong unit is rejected with the accepted forms")
{
  auto j = base_training();
  j["cluster"]["network"]["link"] = {{"bandwidth", "100Gbs"}, {"latency", "1us"}};
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/cluster/network/link/bandwidth: found '100Gbs'; expected a bandwidth"),
                       ScenarioError);
  j["cluster"]["network"]["link"] = {{"bandwidth", 100}, {"latency", "1us"}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/network/link/bandwidth: found 100; expected a bandwidth"),
                       ScenarioError);
}

TEST_CASE("zero or negative counts and quantities are rejected")
{
  auto j = base_training();
  j["cluster"]["nodes"] = 0;
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/nodes: found 0; expected a whole number of at least 1"),
                       ScenarioError);
  j = base_training();
  j["workload"]["batch_per_gpu"] = -4;
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/workload/batch_per_gpu: found -4"), ScenarioError);
  j = base_training();
  j["cluster"]["intra_node"]["bandwidth"] = "-5GBps";
  CHECK_THROWS_WITH_AS(
      parse(j), doctest::Contains("/cluster/intra_node/bandwidth: found '-5GBps'; expected a value greater than zero"),
      ScenarioError);
  j = base_training();
  j["cluster"]["nodes"] = 2.5;
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/nodes: found 2.5"), ScenarioError);
}

TEST_CASE("an unknown model lists the available ones")
{
  auto j = base_training();
  j["model"] = "resnet5O";
  CHECK_THROWS_WITH_AS(
      parse(j),
      doctest::Contains("/model: unknown model 'resnet5O'; expected one of: bert-base, bert-large, gpt2-1.5b, "
                        "gpt2-124m, gpt2-124m-block, gpt2-355m, gpt2-774m, gpt3-13b, gpt3-175b, gpt3-2.7b, gpt3-6.7b, "
                        "inception-v3, llama2-7b, llama3-70b, llama3-8b, mixtral-8x7b, resnet101, resnet50, "
                        "vgg16 (or a custom "
                        "model with 'layers')"),
      ScenarioError);
}

TEST_CASE("an unknown link preset lists the presets")
{
  auto j = base_training();
  j["cluster"]["network"]["link"] = "ib-hrd";
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/cluster/network/link: unknown link preset 'ib-hrd'; expected one of: "
                                         "eth-1, eth-10, eth-100"),
                       ScenarioError);
}

TEST_CASE("an impossible shape is rejected: the parallel degrees must multiply to the GPU count")
{
  auto j = base_training();
  j["workload"]["parallelism"] = {{"data", 7}};
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/workload/parallelism: data 7 x tensor 1 x pipeline 1 = 7 GPUs, but the "
                                         "cluster has 8 GPUs"),
                       ScenarioError);
  j = base_training();
  j["cluster"]["nics_per_node"] = 3;
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/nics_per_node: found 3; expected 1"), ScenarioError);
}

TEST_CASE("choices list the valid names - features not modelled yet say so")
{
  auto j = base_training();
  j["workload"]["scheduling"] = {{"policy", "fifo"}};
  CHECK_THROWS_WITH_AS(
      parse(j), doctest::Contains("/workload/scheduling/policy: found 'fifo'; expected one of: none, wfbp, fusion"),
      ScenarioError);
  j = base_training();
  j["workload"]["parallelism"] = {{"data", 4}, {"tensor", 2}};
  CHECK_THROWS_WITH_AS(
      parse(j), doctest::Contains("/workload/parallelism/tensor: model 'resnet50' has no tensor-parallel layout"),
      ScenarioError);
  j = base_training();
  j["gpu"] = "a100-pcie";
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/gpu: found 'a100-pcie'; expected a shipped GPU profile (a100-sxm4, "
                                         "h100-sxm, h200-sxm, rtx2080ti, v100-sxm2) or a path "
                                         "to a profile ending in .json"),
                       ScenarioError);
}

TEST_CASE("missing required keys and wrong schema are named")
{
  auto j = base_training();
  j["cluster"].erase("network");
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster: missing required key 'network'"), ScenarioError);
  j = base_training();
  j["schema"] = 2;
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/schema: found 2; expected 1"), ScenarioError);
  j = base_training();
  j["cluster"].erase("intra_node");
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster: missing required key 'intra_node'"), ScenarioError);
}

namespace {
void collect_paths(const nlohmann::json& j, const std::string& prefix, std::vector<std::string>& out)
{
  if (!j.is_object())
    return;
  for (const auto& [key, value] : j.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    out.push_back(path);
    collect_paths(value, path, out);
  }
}
}  // namespace

TEST_CASE("scenarios/README.md documents every key the loader resolves")
{
  std::ifstream in(std::string(DDLSIM_SOURCE_DIR) + "/scenarios/README.md");
  REQUIRE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(DDLSIM_SOURCE_DIR) + "/scenarios"))
    if (entry.path().extension() == ".json")
      collect_paths(to_json(load_scenario(entry.path().string())), "", paths);
  collect_paths(to_json(parse(base_training())), "", paths);
  // Keys only input uses (the resolved form writes presets or expanded lists instead).
  for (const char* k : {"cluster.intra_node.bandwidth", "cluster.intra_node.latency", "workload.sizes.from",
                        "workload.sizes.to", "workload.sizes.factor"})
    paths.emplace_back(k);
  for (const std::string& p : paths) {
    CAPTURE(p);
    CHECK(doc.find("`" + p + "`") != std::string::npos);
  }
}

TEST_CASE("network topologies: their keys are checked and a cluster that cannot be built is named at /cluster/network")
{
  auto j = base_training();
  j["cluster"]["nics_per_node"] = 4;
  j["cluster"]["network"] = {{"topology", "fat_tree"}, {"radix", 7}, {"link", "ib-hdr-200"}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/network: radix: expected an even number"), ScenarioError);
  j["cluster"]["network"] = {{"topology", "fat_tree"}, {"radix", 1 << 20}, {"link", "ib-hdr-200"}};
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/cluster/network/radix: found 1048576; expected at most 1024 switch ports"),
                       ScenarioError);
  j["cluster"]["network"] = {{"topology", "fat_tree"}, {"radix", 8}, {"planes", 65}, {"link", "ib-hdr-200"}};
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/cluster/network/planes: found 65; expected at most 64 network planes"),
                       ScenarioError);
  j["cluster"]["network"] = {{"topology", "fat_tree"}, {"radix", 8}, {"dims", {4, 4}}, {"link", "ib-hdr-200"}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/network/dims: unknown key 'dims'"), ScenarioError);
  j["cluster"]["network"] = {{"topology", "torus"}, {"dims", {3, 3}}, {"link", "ib-hdr-200"}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/network: dims: a torus of 9 vertices cannot hold 8"),
                       ScenarioError);
  j["cluster"]["network"] = {{"topology", "hypercube"}, {"link", "ib-hdr-200"}};
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/cluster/network/topology: found 'hypercube'; expected one of: star, "
                                         "fat_tree, rail_optimized, torus, dragonfly, custom"),
                       ScenarioError);
  j["cluster"]["network"] = {{"topology", "custom"},
                             {"link", "eth-100"},
                             {"switches", {"s"}},
                             {"links", {{{"from", "nic0"}, {"to", "s"}}, {{"from", "nic9"}, {"to", "s"}}}}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/network: links/1: unknown vertex 'nic9'"), ScenarioError);
  j["cluster"]["network"] = {{"topology", "torus"}, {"dims", {2, 4}}, {"link", "ib-hdr-200"}};
  const Scenario ok = parse(j);
  CHECK(ok.cluster.network.dims == std::vector<int>{2, 4});
  CHECK(to_json(parse(to_json(ok))) == to_json(ok));
}

TEST_CASE("model: a name, or an object with a sequence length for sequence models")
{
  nlohmann::json j = base_training();
  j["model"] = "bert-large";
  CHECK(parse(j).sequence == 128);
  j["model"] = {{"name", "bert-large"}, {"sequence", 64}};
  const Scenario s = parse(j);
  CHECK(s.sequence == 64);
  CHECK(to_json(s)["model"] == j["model"]);
  CHECK(s.model == "bert-large");
  j["model"] = {{"name", "resnet50"}, {"sequence", 64}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/model/sequence: model 'resnet50' has no sequence length"),
                       ScenarioError);
  j["model"] = {{"name", "bert-base"}, {"sequence", 1024}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/model/sequence: sequence 1024 is longer than the 512"),
                       ScenarioError);
  j["model"] = {{"name", "bert-huge"}};
  CHECK_THROWS_WITH_AS(
      parse(j), doctest::Contains("/model/name: unknown model 'bert-huge'; expected one of: bert-base"), ScenarioError);
  j["model"] = {{"name", "bert-base"}, {"seq", 8}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/model/seq: unknown key 'seq'; expected one of: name, sequence"),
                       ScenarioError);
}

TEST_CASE("a count too large for an int is refused, not wrapped")
{
  nlohmann::json j = base_training();
  j["workload"]["iterations"] = 1099511627776LL;  // 2^40: would wrap to 0 iterations as an int
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/workload/iterations: found 1099511627776; expected a whole number from 1 "
                                         "to 2147483647"),
                       ScenarioError);
  j["workload"]["iterations"] = 2147483648LL;
  CHECK_THROWS_AS(parse(j), ScenarioError);
  j["workload"]["iterations"] = 4;
  j["cluster"]["nodes"] = 4294967298LL;  // 2^32 + 2: would wrap to 2 nodes
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/cluster/nodes: found 4294967298; expected a whole number from 1"),
                       ScenarioError);
}

TEST_CASE("scheduling: bucket applies to fusion only")
{
  nlohmann::json j = base_training();
  j["workload"]["scheduling"] = {{"policy", "wfbp"}, {"bucket", "1MB"}};
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/workload/scheduling/bucket: 'bucket' applies to policy 'fusion'"),
                       ScenarioError);
  j["workload"]["scheduling"] = {{"policy", "fusion"}, {"bucket", "-1MB"}};
  CHECK_THROWS_AS(parse(j), ScenarioError);
  j["workload"]["scheduling"] = {{"policy", "wfbp"}};
  CHECK(parse(j).training.bucket_bytes == 0);
}

TEST_CASE("a GPU profile alone selects the roofline, and its measured iteration of the model and batch sets compute")
{
  nlohmann::json p = test::profile_json();
  p["iterations"] = {
      {{"model", "resnet50"}, {"batch", 32}, {"precision", "fp32"}, {"time", "150ms"}, {"source", "rig"}}};
  const std::string file = test::write_profile("scenario-profile", p);
  auto j = base_training();
  j["gpu"] = {{"profile", file}};
  const Scenario s = parse(j);
  CHECK(s.gpu.roofline);
  CHECK(s.training.compute.iteration_seconds == doctest::Approx(0.15).scale(0).epsilon(1e-15));
  CHECK(s.training.compute.iteration_source == "profile test: rig");
  j["workload"]["batch_per_gpu"] = 16;  // not measured at this batch: the roofline alone
  const Scenario other = parse(j);
  CHECK(other.training.compute.iteration_seconds == 0);
  j["gpu"]["efficiency"] = 0.4;  // a placeholder efficiency: the placeholder model, peak from the profile
  const Scenario placeholder = parse(j);
  CHECK_FALSE(placeholder.gpu.roofline);
  CHECK(placeholder.gpu.peak_flops_per_s == 10e12);
  // The resolved scenario says the same when read back.
  CHECK(parse(to_json(s)).gpu.roofline);
}

TEST_CASE("precision tf32: fp32 bytes, products at the profile's tf32 rate, its own measured iteration, and not "
          "for collectives")
{
  nlohmann::json p = test::profile_json();
  p["peak"]["tf32"] = "40TFLOPS";    // 4 x the fp32 peak
  p["copy_bandwidth"] = "1000TB/s";  // so that the products, not their bytes, bound the linear layers
  auto j = base_training();
  j["model"] = "gpt2-124m-block";
  j["gpu"] = {{"profile", test::write_profile("scenario-tf32", p)}};
  j["workload"]["batch_per_gpu"] = 8;
  const Scenario fp32 = parse(j);
  j["workload"]["precision"] = "tf32";
  const Scenario tf32 = parse(j);
  CHECK(tf32.training.precision == Precision::tf32);
  CHECK(bytes_per_element(tf32.training.precision) == 4);
  CHECK(to_json(tf32)["workload"]["precision"] == "tf32");
  const model::Model m = *model::find_model("gpt2-124m-block");
  const std::vector<LayerCost> a = layer_costs(m, fp32.training, fp32.gpu, fp32.profile.get());
  const std::vector<LayerCost> b = layer_costs(m, tf32.training, tf32.gpu, tf32.profile.get());
  int linear = 0;
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    if (m.layers[i].kind == model::LayerKind::linear) {
      CAPTURE(m.layers[i].name);
      CHECK(b[i].forward_seconds == test::Rel(a[i].forward_seconds / 4).epsilon(1e-12));
      CHECK(b[i].backward_seconds == test::Rel(a[i].backward_seconds / 4).epsilon(1e-12));
      ++linear;
    }
  CHECK(linear == 4);

  // A measured tf32 iteration sets tf32's compute, not fp32's.
  p["iterations"] = {
      {{"model", "gpt2-124m-block"}, {"batch", 8}, {"precision", "tf32"}, {"time", "7ms"}, {"source", "rig"}}};
  j["gpu"]["profile"] = test::write_profile("scenario-tf32-measured", p);
  CHECK(parse(j).training.compute.iteration_seconds == doctest::Approx(0.007).scale(0).epsilon(1e-15));
  j["workload"]["precision"] = "fp32";
  CHECK(parse(j).training.compute.iteration_seconds == 0);

  // Without a tf32 peak, and for collectives (data has no tf32 format), refused.
  j["workload"]["precision"] = "tf32";
  j["gpu"]["profile"] = test::write_profile("scenario-tf32-none", test::profile_json());
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/gpu: profile"), ScenarioError);
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("has no tf32 peak; expected 'peak' here"), ScenarioError);
  nlohmann::json c = base_training();
  c["workload"] = {{"kind", "collective"},
                   {"op", "allreduce"},
                   {"sizes", {{"from", "1KiB"}, {"to", "1MiB"}, {"factor", 4}}},
                   {"precision", "tf32"}};
  CHECK_THROWS_WITH_AS(parse(c),
                       doctest::Contains("/workload/precision: found 'tf32'; expected one of: fp32, fp16, bf16"),
                       ScenarioError);
}

TEST_CASE("gpu.attention: materialized by default, flash runs the model's attention as flash kernels and keeps "
          "less for backward")
{
  auto j = base_training();
  j["model"] = "gpt2-124m";
  const Scenario plain = parse(j);
  CHECK_FALSE(plain.gpu.flash_attention);
  CHECK(to_json(plain)["gpu"]["attention"] == "materialized");
  j["gpu"]["attention"] = "flash";
  const Scenario flash = parse(j);
  CHECK(flash.gpu.flash_attention);
  CHECK(parse(to_json(flash)).gpu.flash_attention);
  const model::Model a = scenario_model(plain), b = scenario_model(flash);
  int attention = 0;
  for (std::size_t i = 0; i < b.layers.size(); ++i) {
    CHECK(b.layers[i].flash == (b.layers[i].kind == model::LayerKind::attention));
    attention += b.layers[i].flash;
  }
  CHECK(attention == 12);
  // Each of the 12 blocks keeps s log-sum-exps per head instead of s x s probabilities.
  const double s = 1024, heads = 12;
  CHECK(kept_activations(a, 0, a.layers.size(), Recompute::none).kept -
            kept_activations(b, 0, b.layers.size(), Recompute::none).kept ==
        test::Rel(12 * heads * (s * s - s)).epsilon(1e-12));
  j["gpu"]["attention"] = "fused";
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/gpu/attention: found 'fused'; expected one of: materialized, flash"),
                       ScenarioError);
}

TEST_CASE("gpu.fusion: none by default, elementwise on request, and only for a profile's roofline")
{
  const std::string file = test::write_profile("scenario-fusion", test::profile_json());
  auto j = base_training();
  j["gpu"] = {{"profile", file}};
  CHECK(parse(j).gpu.fusion == calib::Fusion::none);
  j["gpu"]["fusion"] = "elementwise";
  const Scenario s = parse(j);
  CHECK(s.gpu.fusion == calib::Fusion::elementwise);
  CHECK(to_json(s)["gpu"]["fusion"] == "elementwise");
  CHECK(parse(to_json(s)).gpu.fusion == calib::Fusion::elementwise);
  j["gpu"]["fusion"] = "xla";
  CHECK_THROWS_WITH_AS(parse(j), doctest::Contains("/gpu/fusion: found 'xla'; expected one of: none, elementwise"),
                       ScenarioError);
  j["gpu"] = {{"peak", "15.7TFLOPS"}, {"efficiency", 0.5}, {"fusion", "elementwise"}};
  CHECK_THROWS_WITH_AS(parse(j),
                       doctest::Contains("/gpu/fusion: fusion shapes the roofline of a GPU profile; expected "
                                         "'profile' without 'peak' or 'efficiency'"),
                       ScenarioError);
}
