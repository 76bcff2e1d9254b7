// The scaling table and the Shi et al. (IEEE Network 2021) testbed scenarios: their findings.
#include "sim/cli/scaling.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "e2e/cli_helpers.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::runner;
using namespace ddlsim::cli;

using namespace ddlsim;
using namespace ddlsim::test;
using namespace ddlsim::report;
using nlohmann::json;

namespace {

const ScalingMethod& method(const std::string& name)
{
  for (const ScalingMethod& m : scaling_methods())
    if (m.name == name)
      return m;
  FAIL("no method " << name);
  return scaling_methods().front();
}

/// samples/s and scaling efficiency of a shipped Shi et al. scenario at `gpus` GPUs.
std::pair<double, double> shi(const std::string& file, int gpus, const std::string& how)
{
  const std::string path = scenario_path("shi2021/" + file);
  const json doc = scaled_scenario(read_json_file(path), path, gpus, method(how));
  const json r = run_in_child([&] {
    const json report = simulate(parse_scenario(doc, path)).report;
    return json{report["throughput"]["samples_per_s"], report["scaling_efficiency"]};
  });
  return {r[0].get<double>(), r[1].get<double>()};
}

}  // namespace

TEST_CASE("Shi et al. testbed: every scenario loads with its measured single-GPU speed")
{
  const std::vector<std::pair<std::string, double>> speeds{
      {"resnet50", 253.1}, {"bert_base", 212.8}, {"bert_large", 49.0}};
  for (const auto& [model, samples_per_s] : speeds)
    for (const char* net : {"10gbe", "100gbib"}) {
      const Scenario s = load_scenario(scenario_path("shi2021/" + model + "_" + net + ".json"));
      CHECK(s.cluster.gpus() == 32);
      CHECK(s.cluster.gpus_per_node == 4);
      CHECK(s.training.compute.iteration_seconds == test::Rel(s.training.batch_per_gpu / samples_per_s).epsilon(1e-12));
    }
}

TEST_CASE("Shi et al. finding: going from one node to two over 10 GbE costs BERT-Large throughput")
{
  for (const char* how : {"bsp-allreduce", "wfbp-allreduce"}) {
    CAPTURE(how);
    const double one_node = shi("bert_large_10gbe.json", 4, how).first;
    const double two_nodes = shi("bert_large_10gbe.json", 8, how).first;
    CHECK(two_nodes < one_node);
  }
}

TEST_CASE("Shi et al. finding: BERT-Large scales far worse than ResNet-50")
{
  // Scaling efficiency at 32 GPUs with WFBP: BERT-Large's 1.3 GB of gradients per 0.16 s of
  // compute against ResNet-50's 102 MB per 0.25 s.
  for (const auto& [net, at_most] : {std::pair<std::string, double>{"10gbe", 0.25}, {"100gbib", 0.75}}) {
    CAPTURE(net);
    const double resnet = shi("resnet50_" + net + ".json", 32, "wfbp-allreduce").second;
    const double bert = shi("bert_large_" + net + ".json", 32, "wfbp-allreduce").second;
    CHECK(resnet > 0.85);
    CHECK(bert < at_most * resnet);
  }
}

TEST_CASE("GPU counts of the scaling table: powers of two in whole nodes, then the cluster")
{
  CHECK(default_gpu_counts(32, 4) == std::vector<int>{1, 2, 4, 8, 16, 32});
  CHECK(default_gpu_counts(24, 4) == std::vector<int>{1, 2, 4, 8, 16, 24});
  CHECK(default_gpu_counts(1, 1) == std::vector<int>{1});
}

TEST_CASE("ddlsim scale prints the table and writes its CSV")
{
  const std::string csv = (temp_dir("scale") / "table.csv").string();
  const Result r = run_ddlsim("scale " + scenario_path("shi2021/resnet50_10gbe.json") +
                              " --gpus 1,4,8 --methods bsp-allreduce,wfbp-ps -j 2 --csv " + csv);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("bsp-allreduce") != std::string::npos);
  CHECK(r.output.find("  253.1 ( 100%)") != std::string::npos);  // one GPU: its measured speed
  const std::string table = read_file(csv);
  CHECK(table.rfind("gpus,method,samples_per_s,scaling_efficiency,iteration_s,error\n", 0) == 0);
  CHECK(std::count(table.begin(), table.end(), '\n') == 1 + 3 * 2);
  CHECK(table.find("\n1,bsp-allreduce,253.1,1,") != std::string::npos);
}

TEST_CASE("ddlsim scale refuses unknown methods and GPU counts that are not whole nodes")
{
  const std::string path = scenario_path("shi2021/resnet50_10gbe.json");
  const Result method = run_ddlsim("scale " + path + " --methods ring");
  CHECK(method.exit_code == 2);
  CHECK(method.output.find("unknown method 'ring'; expected one of: bsp-allreduce, wfbp-allreduce") !=
        std::string::npos);
  const Result gpus = run_ddlsim("scale " + path + " --gpus 6");
  CHECK(gpus.exit_code == 2);
  CHECK(gpus.output.find("/cluster: 6 GPUs is not a whole number of nodes of 4 GPUs") != std::string::npos);
  const Result collective = run_ddlsim("scale " + scenario_path("ring_allreduce_16gpu.json"));
  CHECK(collective.exit_code == 2);
}
