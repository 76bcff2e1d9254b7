#include "models/transformer.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim/workload/pipeline.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "approx.hpp"
#include "sim_helpers.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::runner;
using namespace ddlsim::report;

using namespace ddlsim;
using nlohmann::json;

namespace {

// A 4-block transformer (h 256, 8 heads, s 128, vocabulary 1000) on test::nvswitch_training's nodes.
json tensor_scenario(int nodes, int data, int tensor, int pipeline, int microbatches, const std::string& comm)
{
  json parallelism = {{"data", data}, {"tensor", tensor}, {"pipeline", pipeline}, {"tensor_comm", comm}};
  if (pipeline > 1)
    parallelism["microbatches"] = microbatches;
  const json model = {
      {"name", "small-gpt"},
      {"transformer", {{"layers", 4}, {"hidden", 256}, {"heads", 8}, {"vocabulary", 1000}, {"sequence", 128}}}};
  json doc = test::nvswitch_training(model, nodes, parallelism);
  doc["name"] = "tp";
  return doc;
}

json run(const json& doc)
{
  const Scenario s = parse_scenario(doc, "tp.json");
  return run_in_child([&] { return simulate(s).report; });
}

/// Forward and backward seconds of one GPU's share of the scenario's model (tensor rank's layers).
LayerCost shard_compute(const Scenario& s)
{
  LayerCost sum{0, 0};
  for (const LayerCost& c :
       layer_costs(model::tensor_shard(scenario_model(s), s.training.tensor_parallel), s.training, s.gpu))
    sum.forward_seconds += c.forward_seconds, sum.backward_seconds += c.backward_seconds;
  return sum;
}

constexpr double ROUTE_ALPHA = 2e-6, ROUTE_BW = 100e9;
// The residual stream of one micro-batch: s h batch elements of 2 bytes.
constexpr double STREAM_BYTES = 128.0 * 256 * 2 * 2;
// All-reduces per micro-batch each way: two per block, and the embedding's (forward) or the LM
// head's input gradient (backward).
constexpr int ALLREDUCES = 2 * 4 + 1;

double ring(double p, double bytes, double gamma = 0)
{
  return 2 * (p - 1) * (ROUTE_ALPHA + bytes / (p * ROUTE_BW)) + (p - 1) * bytes / p * gamma;
}

}  // namespace

TEST_CASE("tensor parallelism alone: shard compute plus 2 (2L + 1) ring all-reduces of the residual stream")
{
  for (const char* comm : {"simulate", "alpha_beta"})
    for (int t : {2, 4}) {
      CAPTURE(comm);
      CAPTURE(t);
      json doc = tensor_scenario(1, 4 / t, t, 1, 1, comm);
      if (t == 4)  // summing received bytes at 1 TB/s: 3 bytes of memory traffic per byte
        doc["gpu"]["memory_bandwidth"] = "1TBps";
      const Scenario s = parse_scenario(doc, "tp.json");
      const json r = run(doc);
      const LayerCost c = shard_compute(s);
      const double gamma = t == 4 ? 3e-12 : 0;
      const double tensor = 2 * ALLREDUCES * ring(t, STREAM_BYTES, gamma);
      double expected = c.forward_seconds + c.backward_seconds + tensor;
      if (t == 2) {  // replicas {0, 2} and {1, 3} all-reduce their shard's gradients at once, one NVSwitch hop each
        const double gradient = double(model::tensor_shard(scenario_model(s), 2).total_params()) * 2;
        expected += ring(2, gradient);
      }
      CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
      const json& b = r["breakdown_s"];
      CHECK(b["compute"].get<double>() == test::Rel(c.forward_seconds + c.backward_seconds).epsilon(1e-12));
      CHECK(b["tensor_parallel_communication"].get<double>() == test::Rel(tensor).epsilon(1e-9));
      CHECK(std::abs(b["pipeline_bubble"].get<double>()) < 1e-15);
      const json& w = r["workload"]["tensor"];
      CHECK(w["size"] == t);
      CHECK(w["per_stage"][0]["allreduces_forward"] == ALLREDUCES);
      CHECK(w["per_stage"][0]["allreduces_backward"] == ALLREDUCES);
      CHECK(w["per_stage"][0]["bytes_forward"].get<double>() == ALLREDUCES * STREAM_BYTES);
      CHECK(w["per_stage"][0]["alpha_beta_forward_s"].get<double>() ==
            test::Rel(ALLREDUCES * ring(t, STREAM_BYTES, gamma)).epsilon(1e-12));
      CHECK(!r["workload"].contains("pipeline"));
      // GPU 0 sends 2 (t - 1) / t of every all-reduce, whether simulated or charged.
      if (t == 4)
        CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() ==
              test::Rel(2 * ALLREDUCES * 1.5 * STREAM_BYTES).epsilon(1e-12));
      // 4 GPUs, each credited with 1/t of its replica's samples.
      CHECK(r["throughput"]["samples_per_s"].get<double>() ==
            test::Rel(4.0 / t * 2 / r["iteration_time_s"]["mean"].get<double>()).epsilon(1e-6));
    }
}

TEST_CASE("sequence parallelism: unsplit layers on 1/t of the sequence, plus an all-gather before each column layer's "
          "backward")
{
  // Without a memory bandwidth, summing is free: the all-reduce of S is 2 (t - 1)(alpha + S/(t B))
  // and the all-gather (t - 1)(alpha + S/(t B)). Column layers: Q/K/V and the first FFN matrix of
  // each of the 4 blocks, and the LM head: one all-gather of the residual stream each.
  const auto gather = [](double p, double bytes) {
    return (p - 1) * (ROUTE_ALPHA + bytes / (p * ROUTE_BW));
  };
  for (const char* comm : {"simulate", "alpha_beta"})
    for (int t : {2, 4}) {
      CAPTURE(comm);
      CAPTURE(t);
      json doc = tensor_scenario(1, 4 / t, t, 1, 1, comm);
      doc["workload"]["parallelism"]["sequence"] = true;
      const Scenario s = parse_scenario(doc, "tp.json");
      const json r = run(doc);
      const model::Model shard = model::tensor_shard(scenario_model(s), t, true);
      LayerCost c{0, 0};
      for (const LayerCost& l : layer_costs(shard, s.training, s.gpu))
        c.forward_seconds += l.forward_seconds, c.backward_seconds += l.backward_seconds;
      const LayerCost plain = shard_compute(s);  // without sequence parallelism
      CHECK(c.forward_seconds < plain.forward_seconds);
      const double tensor = 2 * ALLREDUCES * ring(t, STREAM_BYTES) + ALLREDUCES * gather(t, STREAM_BYTES);
      double expected = c.forward_seconds + c.backward_seconds + tensor;
      if (t == 2)  // the parameters are those of plain tensor parallelism
        expected += ring(2, double(shard.total_params()) * 2);
      CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
      CHECK(r["breakdown_s"]["tensor_parallel_communication"].get<double>() == test::Rel(tensor).epsilon(1e-9));
      const json& w = r["workload"]["tensor"];
      CHECK(w["sequence_parallel"] == true);
      CHECK(w["per_stage"][0]["allgathers_backward"] == ALLREDUCES);
      CHECK(w["per_stage"][0]["allgather_bytes_backward"].get<double>() == ALLREDUCES * STREAM_BYTES);
      // GPU 0 sends 2 (t - 1) / t of every all-reduce and (t - 1) / t of every gather, simulated or charged.
      if (t == 4)
        CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() ==
              test::Rel(ALLREDUCES * (2 * 1.5 + 0.75) * STREAM_BYTES).epsilon(1e-12));
      CHECK(w["per_stage"][0]["alpha_beta_backward_s"].get<double>() ==
            test::Rel(ALLREDUCES * (ring(t, STREAM_BYTES) + gather(t, STREAM_BYTES))).epsilon(1e-12));
      // Activations: every layer's output is 1/t of the full model's (row and unsplit layers too).
      const model::Model full = scenario_model(s);
      double kept_full = 0;
      for (const model::Layer& l : full.layers)
        kept_full += l.kept_elements_per_sample();
      CHECK(r["memory"]["bytes_per_gpu"]["activations"].get<double>() ==
            test::Rel(kept_full / t * 2 * 2).epsilon(1e-12));
    }
  json doc = tensor_scenario(1, 4, 1, 1, 1, "simulate");
  doc["workload"]["parallelism"] = {{"data", 4}, {"sequence", true}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "tp.json"),
                       doctest::Contains("/workload/parallelism/sequence: 'sequence' applies to tensor parallelism; "
                                         "expected 'tensor' above 1"),
                       ScenarioError);
}

TEST_CASE(
    "ZeRO stage 3 with tensor parallelism: each tensor rank gathers and reduce-scatters its shard over its replicas")
{
  // 2 replicas x tensor 2 in one node, policy none: one unit, the GPU's shard of the model.
  // Replicas {0, 2} and {1, 3} gather it before forward and reduce-scatter it after backward,
  // (p - 1)(alpha + S / (p B)) each with p = 2, on separate NVSwitch links.
  for (const char* comm : {"simulate", "alpha_beta"}) {
    CAPTURE(comm);
    json doc = tensor_scenario(1, 2, 2, 1, 1, comm);
    doc["workload"]["parallelism"]["zero"] = 3;
    const Scenario s = parse_scenario(doc, "tp.json");
    const json r = run(doc);
    const LayerCost c = shard_compute(s);
    const double shard = double(model::tensor_shard(scenario_model(s), 2).total_params()) * 2;
    const double pass = ROUTE_ALPHA + shard / (2 * ROUTE_BW);
    const double tensor = 2 * ALLREDUCES * ring(2, STREAM_BYTES);
    CHECK(r["iteration_time_s"]["mean"].get<double>() ==
          test::Rel(pass + c.forward_seconds + c.backward_seconds + tensor + pass).epsilon(1e-9));
    CHECK(r["workload"]["zero"]["bytes_per_gpu"]["parameters"].get<double>() == shard / 2);
  }
}

TEST_CASE("a slow GPU holds back its whole tensor-parallel group, with either costing of the all-reduces")
{
  for (const char* comm : {"simulate", "alpha_beta"}) {
    CAPTURE(comm);
    json doc = tensor_scenario(1, 1, 4, 1, 1, comm);
    doc["workload"]["compute"] = {{"stragglers", {{"ranks", {2}}, {"slowdown", 2}}}};
    const Scenario s = parse_scenario(doc, "tp.json");
    const json r = run(doc);
    const LayerCost c = shard_compute(s);
    CHECK(
        r["iteration_time_s"]["mean"].get<double>() ==
        test::Rel(2 * (c.forward_seconds + c.backward_seconds) + 2 * ALLREDUCES * ring(4, STREAM_BYTES)).epsilon(1e-9));
  }
}

TEST_CASE("3D layout: GPU (s d + i) t + k, data-parallel groups stride over tensor ranks, all-reduces inside nodes")
{
  // d 2, t 2, P 2 on 2 nodes of 4: stage 0 is node 0, stage 1 node 1.
  const Scenario s = parse_scenario(tensor_scenario(2, 2, 2, 2, 4, "simulate"), "tp.json");
  const topo::Topology topology = topo::make_cluster(cluster_params(s));
  std::vector<coll::GroupShape> groups, tensor_groups;
  for (std::uint32_t stage = 0; stage < 2; ++stage) {
    for (std::uint32_t k = 0; k < 2; ++k)
      groups.push_back(group_shape(topology, 2, 2, stage * 4 + k, 2));
    for (std::uint32_t i = 0; i < 2; ++i)
      tensor_groups.push_back(group_shape(topology, 2, 2, (stage * 2 + i) * 2));
  }
  CHECK(groups[1].alpha_intra_s == test::Rel(topology.route_latency_seconds(1, 3)).epsilon(1e-15));
  const PipelineTraining pt = build_pipeline_training(s, scenario_model(s), groups, tensor_groups);
  std::set<std::vector<std::uint32_t>> allreduce, tensor, p2p;
  for (const CollectiveInstance& c : pt.plan.graph.collectives()) {
    const std::string& label = pt.plan.graph.label(c.label);
    if (label.starts_with("allreduce stage"))
      allreduce.insert(c.ranks);
    else if (label.starts_with("tensor-parallel"))
      tensor.insert(c.ranks);
    else
      p2p.insert(c.ranks);
  }
  using G = std::set<std::vector<std::uint32_t>>;
  CHECK(allreduce == G{{0, 2}, {1, 3}, {4, 6}, {5, 7}});
  CHECK(tensor == G{{0, 1}, {2, 3}, {4, 5}, {6, 7}});
  CHECK(p2p == G{{0, 4}, {4, 0}, {1, 5}, {5, 1}, {2, 6}, {6, 2}, {3, 7}, {7, 3}});
  // Stage 0 has the embedding's all-reduce, stage 1 the LM head's; two blocks each.
  REQUIRE(pt.stages.size() == 2);
  CHECK(pt.stages[0].tensor_allreduces_forward == 5);
  CHECK(pt.stages[0].tensor_allreduces_backward == 4);
  CHECK(pt.stages[1].tensor_allreduces_forward == 4);
  CHECK(pt.stages[1].tensor_allreduces_backward == 5);
  // Each GPU all-reduces its own shard's gradients: stage 0's layers of the t = 2 shard, 2 bytes each.
  const model::Model shard = model::tensor_shard(scenario_model(s), 2);
  double stage0 = 0;
  for (std::size_t l = 0; l < pt.stages[0].layers; ++l)
    stage0 += 2.0 * double(shard.layers[l].params);
  CHECK(pt.stages[0].gradient_bytes == stage0);
  CHECK(stage0 < 2.0 * double(scenario_model(s).total_params()) / 2);
}

TEST_CASE("3D parallelism runs end to end: both costings agree where all-reduces do not contend")
{
  // P 2 with GPipe and 4 micro-batches; stage 0 on node 0 and stage 1 on node 1. With a NIC per
  // GPU, tensor-parallel all-reduces (on the NVSwitch) never share a link with the stage-to-stage
  // transfers (GPU k's NIC to GPU 4 + k's) or with the other stage's all-reduces. (With one NIC
  // per node behind the NVSwitch they would: the simulation then runs 0.13 % longer.)
  json a = tensor_scenario(2, 1, 4, 2, 4, "simulate"), b = tensor_scenario(2, 1, 4, 2, 4, "alpha_beta");
  a["workload"]["parallelism"]["schedule"] = b["workload"]["parallelism"]["schedule"] = "gpipe";
  a["cluster"]["nics_per_node"] = b["cluster"]["nics_per_node"] = 4;
  const json ra = run(a), rb = run(b);
  const double ta = ra["iteration_time_s"]["mean"].get<double>();
  CHECK(ta == test::Rel(rb["iteration_time_s"]["mean"].get<double>()).epsilon(1e-9));
  CHECK(ra["workload"]["pipeline"]["stages"] == 2);
  CHECK(ra["workload"]["tensor"]["size"] == 4);
  const json& br = ra["breakdown_s"];
  // The parts add up to the iteration; the ideal pipeline (free stage-to-stage transfers) is not longer.
  CHECK(br["compute"].get<double>() + br["tensor_parallel_communication"].get<double>() +
            br["pipeline_bubble"].get<double>() + br["exposed_communication"].get<double>() ==
        test::Rel(ta).epsilon(1e-12));
  CHECK(ra["workload"]["pipeline"]["ideal_iteration_s"].get<double>() <= ta);
  CHECK(br["exposed_communication"].get<double>() > 0);
  // The straggler-free run takes far fewer simulated transfers with alpha_beta.
  CHECK(rb["simulation"]["transfers"].get<double>() < ra["simulation"]["transfers"].get<double>() / 4);
}

TEST_CASE("tensor parallelism: bad input names the key and what was expected")
{
  const auto fails = [](json doc, const std::string& message) {
    CHECK_THROWS_WITH_AS(parse_scenario(doc, "tp.json"), doctest::Contains(message.c_str()), ScenarioError);
  };
  json doc = tensor_scenario(2, 8, 1, 1, 1, "simulate");
  doc["workload"]["parallelism"] = {{"data", 8}, {"tensor_comm", "simulate"}};
  fails(doc, "/workload/parallelism/tensor_comm: 'tensor_comm' applies to tensor parallelism");
  doc = tensor_scenario(2, 1, 8, 1, 1, "simulate");
  fails(doc, "/workload/parallelism/tensor: found 8; a tensor-parallel group runs inside one node");
  doc = tensor_scenario(1, 1, 4, 1, 1, "exact");
  fails(doc, "/workload/parallelism/tensor_comm: found 'exact'; expected one of: simulate, alpha_beta");
  doc = tensor_scenario(1, 2, 2, 1, 1, "simulate");
  doc["model"]["transformer"]["heads"] = 3;
  doc["model"]["transformer"]["hidden"] = 255;
  fails(doc, "/workload/parallelism/tensor: layer 'layer.0.attention.scores': its 3 attention heads do not split "
             "over 2 GPUs");
  doc = tensor_scenario(1, 2, 2, 1, 1, "simulate");
  doc["workload"]["architecture"] = {{"kind", "ps"}};
  fails(doc, "/workload/architecture/kind: tensor parallelism (tensor 2) is modelled with architecture 'allreduce'");
  doc = tensor_scenario(1, 2, 2, 1, 1, "simulate");
  doc["workload"]["architecture"] = {{"kind", "allreduce"}, {"channels", 4}};
  fails(doc, "/workload/architecture/channels: found 4; each data-parallel group has 2 GPUs in a node");
  doc = tensor_scenario(3, 3, 2, 2, 4, "simulate");
  doc["cluster"]["nodes"] = 3;
  fails(doc, "/workload/parallelism/data: found 3; each pipeline stage runs on data x tensor = 6 consecutive GPUs");
}
