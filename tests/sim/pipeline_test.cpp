#include "models/zoo.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/report/outputs.hpp"
#include "sim/report/summary.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim/workload/pipeline.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "approx.hpp"
#include "calibration/profile_json.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::report;
using namespace ddlsim::runner;

using namespace ddlsim;
using nlohmann::json;

namespace {

// A chain of `layers` equal layers, each 1 GFLOP forward per sample with 25 M parameters, on a
// 1 TFLOPS GPU at efficiency 1: 2 ms forward and 4 ms backward per layer at 2 samples. One GPU
// per node, each with a 10 GB/s NIC of 1 us to one switch: a lone transfer of S bytes takes
// 2 us + S / 10 GB/s, and no two transfers below share a link direction.
json chain_scenario(int layers, double activations, int data, int stages, int microbatches, const std::string& schedule)
{
  json model_layers = json::array();
  for (int i = 0; i < layers; ++i)
    model_layers.push_back({{"name", "l" + std::to_string(i)},
                            {"params", 25'000'000},
                            {"forward_flops", 1e9},
                            {"activations", activations}});
  return {
      {"schema", 1},
      {"name", "pp"},
      {"model", {{"name", "chain"}, {"layers", model_layers}}},
      {"gpu", {{"peak", "1TFLOPS"}, {"efficiency", 1}}},
      {"cluster", {{"nodes", data * stages}, {"network", {{"link", {{"bandwidth", "10GBps"}, {"latency", "1us"}}}}}}},
      {"workload",
       {{"kind", "training"},
        {"batch_per_gpu", 2},
        {"iterations", 3},
        {"fidelity", "step"},
        {"scheduling", {{"policy", "none"}}},
        {"parallelism",
         {{"data", data}, {"pipeline", stages}, {"microbatches", microbatches}, {"schedule", schedule}}}}}};
}

json run(const json& doc)
{
  const Scenario s = parse_scenario(doc, "pp.json");
  return run_in_child([&] { return simulate(s).report; });
}

/// One iteration's end on uniform stages (forward f, backward b per micro-batch) when a transfer
/// between stages takes c: the longest path through the steps, relaxed until nothing changes
/// (written apart from pipeline_compute_seconds, which assumes free transfers).
double longest_path_seconds(PipelineSchedule schedule, int p, int m, double f, double b, double c)
{
  std::map<std::tuple<int, bool, int>, double> end;  // (stage, forward, micro-batch) -> end
  for (bool changed = true; changed;) {
    changed = false;
    for (int s = 0; s < p; ++s) {
      double free_at = 0;
      for (const PipelineStep& step : pipeline_order(schedule, p, m, s)) {
        double input = 0;
        if (step.forward && s > 0)
          input = end[{s - 1, true, step.microbatch}] + c;
        if (!step.forward)
          input = s + 1 < p ? end[{s + 1, false, step.microbatch}] + c : end[{s, true, step.microbatch}];
        const double e = std::max(free_at, input) + (step.forward ? f : b);
        double& known = end[{s, step.forward, step.microbatch}];
        if (e != known) {
          known = e;
          changed = true;
        }
        free_at = e;
      }
    }
  }
  double last = 0;
  for (const auto& [key, e] : end)
    last = std::max(last, e);
  return last;
}

}  // namespace

TEST_CASE("pipeline cuts fall between blocks: residual blocks, transformer blocks, Inception modules")
{
  const model::Model resnet = *model::find_model("resnet50");
  // conv1, bn1, relu, maxpool, 16 bottlenecks, avgpool, fc.
  CHECK(resnet.block_starts().size() == 4 + 16 + 2);
  const model::Model gpt = *model::find_model("gpt2-124m");
  // Token and position embeddings, 12 blocks, the final layer norm, the LM head.
  const auto starts = gpt.block_starts();
  REQUIRE(starts.size() == 2 + 12 + 2);
  CHECK(gpt.layers[starts[2]].name == "layer.0.ln_1");
  CHECK(gpt.layers[starts[3] - 1].name == "layer.0.ffn.residual");
  CHECK(gpt.layers[starts[3] - 1].elements_across_cut() == 1024.0 * 768);
  const model::Model inception = *model::find_model("inception-v3");
  bool found = false;
  for (std::size_t k = 1; k < inception.block_starts().size(); ++k) {
    const model::Layer& last = inception.layers[inception.block_starts()[k] - 1];
    if (last.name.starts_with("Mixed_5b.")) {
      // Mixed_5b concatenates 64 + 64 + 96 + 32 channels at 35 x 35.
      CHECK(last.elements_across_cut() == 256.0 * 35 * 35);
      found = true;
    }
  }
  CHECK(found);
  CHECK(model::find_model("gpt2-124m-block")->block_starts().size() == 1);
}

TEST_CASE("GPipe iteration = (m + P - 1)(f + b) + 2 (P - 1) c on a contention-free network")
{
  // 4 stages of 2 layers: f = 4 ms, b = 8 ms per micro-batch; c = 2 us + 8 MB / 10 GB/s.
  const int p = 4, m = 8;
  const json r = run(chain_scenario(8, 1e6, 1, p, m, "gpipe"));
  const double f = 4e-3, b = 8e-3, c = 2e-6 + 8e6 / 10e9;
  const double expected = (m + p - 1) * (f + b) + 2 * (p - 1) * c;
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
  CHECK(r["iteration_time_s"]["min"].get<double>() == test::Rel(expected).epsilon(1e-9));
  const json& pp = r["workload"]["pipeline"];
  CHECK(pp["ideal_iteration_s"].get<double>() == test::Rel((m + p - 1) * (f + b)).epsilon(1e-12));
  CHECK(pp["bubble_fraction"].get<double>() == test::Rel((p - 1.0) / (m + p - 1)).epsilon(1e-12));
  CHECK(r["breakdown_s"]["compute"].get<double>() == test::Rel(m * (f + b)).epsilon(1e-12));
  CHECK(r["breakdown_s"]["forward"].get<double>() == test::Rel(m * f).epsilon(1e-12));
  CHECK(r["breakdown_s"]["pipeline_bubble"].get<double>() == test::Rel((p - 1) * (f + b)).epsilon(1e-9));
  CHECK(r["breakdown_s"]["exposed_communication"].get<double>() == test::Rel(2 * (p - 1) * c).epsilon(1e-6));
  for (const json& st : pp["per_stage"]) {
    CHECK(st["layers"] == 2);
    CHECK(st["micro_batches_in_flight"] == m);
    CHECK(st["activation_bytes_in_flight"].get<double>() == m * 2 * 2e6 * 4.0);
  }
  CHECK(pp["per_stage"][0]["send_bytes"].get<double>() == 8e6);
  CHECK(pp["per_stage"][3]["send_bytes"].get<double>() == 0);
  // Throughput: m micro-batches of 2 samples per iteration; against 4 GPUs each running the whole
  // chain alone (8 layers: 48 ms for 2 samples).
  CHECK(r["throughput"]["samples_per_s"].get<double>() == test::Rel(m * 2 / expected).epsilon(1e-9));
  CHECK(r["scaling_efficiency"].get<double>() == test::Rel((m * 2 / expected) / (p * 2 / 48e-3)).epsilon(1e-9));
}

TEST_CASE("1F1B iteration equals the longest path through its steps, and (m + P - 1)(f + b) with free transfers")
{
  const double f = 4e-3, b = 8e-3;
  for (auto [p, m] : {std::pair{4, 8}, std::pair{3, 2}, std::pair{2, 5}}) {
    CAPTURE(p);
    CAPTURE(m);
    // Free transfers: the textbook bubble, also for GPipe.
    std::vector<PipelineStage> stages(static_cast<std::size_t>(p));
    for (PipelineStage& st : stages)
      st.forward_seconds = f, st.backward_seconds = b;
    for (PipelineSchedule sched : {PipelineSchedule::one_f_one_b, PipelineSchedule::gpipe})
      CHECK(pipeline_compute_seconds(stages, sched, m) == test::Rel((m + p - 1) * (f + b)).epsilon(1e-12));
    CHECK(longest_path_seconds(PipelineSchedule::one_f_one_b, p, m, f, b, 0) ==
          test::Rel((m + p - 1) * (f + b)).epsilon(1e-12));
    // With transfers of c = 2 us + 8 MB / 10 GB/s, simulated.
    const double c = 2e-6 + 8e6 / 10e9;
    const json r = run(chain_scenario(2 * p, 1e6, 1, p, m, "1f1b"));
    const double expected = longest_path_seconds(PipelineSchedule::one_f_one_b, p, m, f, b, c);
    CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
    CHECK(expected > (m + p - 1) * (f + b));
    for (int s = 0; s < p; ++s)
      CHECK(r["workload"]["pipeline"]["per_stage"][s]["micro_batches_in_flight"] == std::min(p - s, m));
  }
}

TEST_CASE("pipeline with data parallelism: each stage's gradients are all-reduced over its replicas after its last "
          "backward")
{
  // 2 replicas of 2 stages (GPUs 0, 1: stage 0; GPUs 2, 3: stage 1), 4 micro-batches, transfers
  // of 0 bytes (c = 2 us). Stage 0 ends last; its 200 MB all-reduce (ring over 2: 2 (2 us +
  // 100 MB / 10 GB/s)) then holds back the next iteration's first forward.
  const int p = 2, m = 4, d = 2;
  const double f = 4e-3, b = 8e-3, c = 2e-6;
  const double allreduce = 2 * (2e-6 + 100e6 / 10e9);
  for (const char* schedule : {"gpipe", "1f1b"}) {
    CAPTURE(schedule);
    const json r = run(chain_scenario(4, 0, d, p, m, schedule));
    const double pipe = longest_path_seconds(
        std::string(schedule) == "gpipe" ? PipelineSchedule::gpipe : PipelineSchedule::one_f_one_b, p, m, f, b, c);
    if (std::string(schedule) == "gpipe")
      CHECK(pipe == test::Rel((m + p - 1) * (f + b) + 2 * (p - 1) * c).epsilon(1e-12));
    CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(pipe + allreduce).epsilon(1e-9));
    CHECK(r["workload"]["data_parallel"] == d);
    CHECK(r["workload"]["collectives_per_iteration"] == 1);
    CHECK(r["workload"]["gradient_bytes"].get<double>() == 4 * 25e6 * 4);
    CHECK(r["throughput"]["samples_per_s"].get<double>() == test::Rel(d * m * 2 / (pipe + allreduce)).epsilon(1e-9));
    // Rank 0 sends half its stage's 200 MB gradients in each of the ring's two steps, and 0-byte
    // activations.
    CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == test::Rel(200e6).epsilon(1e-12));
  }
}

TEST_CASE("a GPT-2 pipeline is cut between transformer blocks and balances its stages")
{
  json doc = chain_scenario(1, 0, 1, 4, 8, "1f1b");
  doc["model"] = "gpt2-124m";
  doc["workload"]["batch_per_gpu"] = 1;
  doc["workload"]["iterations"] = 1;
  const json r = run(doc);
  const json& stages = r["workload"]["pipeline"]["per_stage"];
  REQUIRE(stages.size() == 4);
  std::size_t layers = 0;
  double slowest = 0, total = 0;
  for (const json& st : stages) {
    layers += st["layers"].get<std::size_t>();
    const std::string first = st["first_layer"], last = st["last_layer"];
    CHECK((first.starts_with("embeddings.") || first.ends_with(".ln_1") || first == "ln_f" || first == "lm_head"));
    CHECK((last.ends_with(".ffn.residual") || last == "lm_head" || last.starts_with("embeddings.")));
    const double t = st["forward_s"].get<double>() + st["backward_s"].get<double>();
    slowest = std::max(slowest, t);
    total += t;
  }
  CHECK(layers == model::find_model("gpt2-124m")->layers.size());
  CHECK(stages[3]["last_layer"] == "lm_head");
  // Blocks are indivisible; the slowest stage is within one block's time of an even split.
  CHECK(slowest < total / 4 * 1.35);
  CHECK(stages[0]["send_bytes"].get<double>() == 1024.0 * 768 * 4);
}

TEST_CASE("pipeline parallelism: bad input names the key and what was expected")
{
  const auto fails = [](json doc, const std::string& message) {
    CHECK_THROWS_WITH_AS(parse_scenario(doc, "pp.json"), doctest::Contains(message.c_str()), ScenarioError);
  };
  json doc = chain_scenario(4, 0, 1, 2, 4, "1f1b");
  doc["workload"]["parallelism"].erase("microbatches");
  fails(doc, "/workload/parallelism: pipeline 2 needs 'microbatches'");

  doc = chain_scenario(4, 0, 2, 1, 4, "1f1b");
  doc["workload"]["parallelism"].erase("schedule");
  fails(doc, "/workload/parallelism/microbatches: found 4; without pipeline stages (pipeline 1) a replica runs its "
             "batch as one micro-batch (gradient accumulation is not modelled); expected 1");
  doc["workload"]["parallelism"]["microbatches"] = 1;  // plain data parallelism
  CHECK(parse_scenario(doc, "pp.json").training.microbatches == 1);
  doc["workload"]["parallelism"]["schedule"] = "gpipe";
  fails(doc, "/workload/parallelism/schedule: 'schedule' applies to pipeline parallelism");

  doc = chain_scenario(4, 0, 1, 2, 4, "interleaved");
  fails(doc, "/workload/parallelism/schedule");

  doc = chain_scenario(4, 0, 3, 2, 4, "1f1b");
  doc["cluster"]["nodes"] = 3;
  doc["cluster"]["gpus_per_node"] = 2;
  doc["cluster"]["intra_node"] = {{"fabric", "nvswitch"}, {"bandwidth", "100GBps"}, {"latency", "1us"}};
  fails(doc, "/workload/parallelism/data: found 3; each pipeline stage runs on data x tensor = 3 consecutive GPUs, "
             "which must fill whole nodes or divide one");

  doc = chain_scenario(4, 0, 2, 2, 4, "1f1b");
  doc["workload"]["architecture"] = {{"kind", "ps"}};
  fails(doc, "/workload/architecture/kind: pipeline parallelism (pipeline 2) is modelled with architecture "
             "'allreduce'; found 'ps'");

  doc = chain_scenario(4, 0, 2, 2, 4, "1f1b");
  doc["workload"]["scheduling"] = {{"policy", "priority"}};
  fails(doc, "/workload/scheduling/policy: pipeline parallelism (pipeline 2) is modelled with policy 'none', 'wfbp' or "
             "'fusion'; found 'priority'");

  doc = chain_scenario(4, 0, 1, 5, 4, "1f1b");
  fails(doc, "/workload/parallelism/pipeline: found 5 stages, but model 'chain' can be cut into at most 4");

  doc = chain_scenario(4, 0, 1, 2, 4, "1f1b");
  doc["model"] = "gpt2-124m-block";
  fails(doc, "/workload/parallelism/pipeline: found 2 stages, but model 'gpt2-124m-block' can be cut into at most 1");

  doc = chain_scenario(4, 0, 1, 2, 4, "1f1b");
  doc["workload"]["compute"] = {{"stragglers", {{"ranks", {2}}, {"slowdown", 2}}}};
  fails(doc, "/workload/compute/stragglers/ranks/0: found rank 2; the GPU ranks are 0 to 1");
}

TEST_CASE("a pipeline straggler slows the whole pipeline by its stage's extra compute")
{
  // GPipe, 2 stages, GPU 1 (stage 1) at half speed: f = 8 ms, b = 16 ms there. The path runs
  // through stage 1's m forwards and m backwards: f0 + c + m (f1 + b1) + c + b0.
  const int p = 2, m = 4;
  json doc = chain_scenario(4, 0, 1, p, m, "gpipe");
  doc["workload"]["compute"] = {{"stragglers", {{"ranks", {1}}, {"slowdown", 2}}}};
  const json r = run(doc);
  const double c = 2e-6;
  const double expected = 4e-3 + c + m * (8e-3 + 16e-3) + c + 8e-3;
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
}

TEST_CASE("a stage's data-parallel group is planned on its own GPUs and its own summing switches")
{
  // 4 nodes of 4 GPUs, a NIC per GPU, on a 2-tier fat-tree of radix 8 whose switches sum: node n
  // under leaf n. Stage 2 of 4 with d = 4 is node 2 (GPUs 8-11); stage 1 of 2 with d = 8 is
  // nodes 2 and 3, summed by leaves 2 and 3 and a spine.
  json doc = chain_scenario(4, 0, 1, 1, 1, "1f1b");
  doc["cluster"] = {{"nodes", 4},
                    {"gpus_per_node", 4},
                    {"nics_per_node", 4},
                    {"intra_node", {{"fabric", "nvswitch"}, {"bandwidth", "100GBps"}, {"latency", "1us"}}},
                    {"network",
                     {{"topology", "fat_tree"},
                      {"radix", 8},
                      {"link", {{"bandwidth", "10GBps"}, {"latency", "2us"}}},
                      {"switch_reduction", "1TB/s"}}}};
  doc["workload"]["parallelism"] = {{"data", 16}};
  const Scenario s = parse_scenario(doc, "pp.json");
  const topo::Topology t = topo::make_cluster(cluster_params(s));
  const coll::GroupShape node = group_shape(t, 4, 4, 8);
  PlannedCollective ring = plan_collective(coll::Op::allreduce, coll::Algorithm::ring, Fidelity::step, node, 1e6);
  CHECK(ring.hosts == std::vector<std::uint32_t>{8, 9, 10, 11});

  const coll::GroupShape two = group_shape(t, 8, 4, 8);
  CHECK(two.alpha_inter_s == test::Rel(t.route_latency_seconds(8, 12)).epsilon(1e-15));
  CHECK(two.alpha_inter_s == test::Rel(8e-6).epsilon(1e-12));  // NIC, leaf-spine, spine-leaf, NIC
  PlannedCollective summed =
      plan_collective(coll::Op::allreduce, coll::Algorithm::in_network, Fidelity::step, two, 1e6);
  const std::uint32_t leaf2 = t.aggregation_parent(8), leaf3 = t.aggregation_parent(12);
  CHECK(leaf2 != leaf3);
  CHECK(summed.hosts ==
        std::vector<std::uint32_t>{8, 9, 10, 11, 12, 13, 14, 15, leaf2, leaf3, t.aggregation_parent(leaf2)});
  // The group of nodes 0 and 1 is summed by other leaves.
  const coll::GroupShape first = group_shape(t, 8, 4, 0);
  CHECK(first.in_network.hosts[0] == t.aggregation_parent(0));
  CHECK(first.in_network.hosts[0] != leaf2);
  REQUIRE(two.collnet.size() == 4);
  // Local GPU 1's tree sums GPUs 9 and 13 at the spine (each leaf would have one child).
  CHECK(two.collnet[1].hosts == std::vector<std::uint32_t>{t.aggregation_parent(leaf2)});
}

TEST_CASE("ZeRO stages 1 and 2: reduce-scatter as backward releases buckets, then all-gather the parameters")
{
  // 4 replicas of the 4-layer chain: f = 2 ms, b = 4 ms a layer, 100 MB of fp32 gradients a layer.
  // A ring reduce-scatter or all-gather of S over 4 GPUs: 3 (2 us + S / 4 / 10 GB/s).
  const auto pass = [](double bytes) {
    return 3 * (2e-6 + bytes / 4 / 10e9);
  };
  for (int stage : {1, 2}) {
    CAPTURE(stage);
    json doc = chain_scenario(4, 0, 4, 1, 1, "1f1b");
    doc["workload"]["parallelism"].erase("schedule");
    doc["workload"]["parallelism"]["zero"] = stage;
    // policy none: one 400 MB bucket after backward.
    json r = run(doc);
    CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(8e-3 + 16e-3 + 2 * pass(400e6)).epsilon(1e-9));
    const json& z = r["workload"]["zero"];
    CHECK(z["stage"] == stage);
    CHECK(z["allgathers_per_iteration"] == 1);
    CHECK(z["bytes_per_gpu"]["gradients"].get<double>() == (stage == 2 ? 100e6 : 400e6));
    CHECK(z["bytes_per_gpu"]["optimizer_states"].get<double>() == 8 * 100e6 / 4);  // fp32 Adam: m and v
    // GPU memory: 100 M fp32 parameters, their gradients (stage 2: a quarter), Adam's 8 bytes a
    // parameter over 4 replicas; no activations in this chain, no profile to compare with.
    const json& m = r["memory"]["bytes_per_gpu"];
    CHECK(m["parameters"].get<double>() == 400e6);
    CHECK(m["gradients"].get<double>() == (stage == 2 ? 100e6 : 400e6));
    CHECK(m["optimizer_states"].get<double>() == 200e6);
    CHECK(m["total"].get<double>() == (stage == 2 ? 700e6 : 1000e6));
    CHECK(r["memory"]["fits"].is_null());
    // GPU 0 sends 3/4 of the buffer in each pass, as in a ring all-reduce.
    CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == test::Rel(2 * 0.75 * 400e6).epsilon(1e-12));
    // wfbp: a 100 MB reduce-scatter per layer, each longer than a layer's backward, so they queue
    // from the first layer's release (F + b); the all-gathers follow them.
    doc["workload"]["scheduling"] = {{"policy", "wfbp"}};
    r = run(doc);
    CHECK(r["iteration_time_s"]["mean"].get<double>() ==
          test::Rel(8e-3 + 4e-3 + 4 * pass(100e6) + 4 * pass(100e6)).epsilon(1e-9));
    CHECK(r["workload"]["algorithms_used"] == json::array({"ring", "ring", "ring", "ring"}));
  }
}

TEST_CASE("ZeRO stage 3: each unit gathered before forward and backward, reduce-scattered after, in closed form")
{
  // 4 replicas of the 4-layer chain (f = 2 ms, b = 4 ms, 100 MB of fp32 parameters a layer) on
  // 100 GB/s links: a ring all-gather or reduce-scatter of S over 4 GPUs takes 3 (2 us + S / 4 / B).
  const auto pass = [](double bytes, double bandwidth) {
    return 3 * (2e-6 + bytes / 4 / bandwidth);
  };
  json doc = chain_scenario(4, 0, 4, 1, 1, "1f1b");
  doc["workload"]["parallelism"].erase("schedule");
  doc["workload"]["parallelism"]["zero"] = 3;
  doc["cluster"]["network"]["link"]["bandwidth"] = "100GBps";
  // policy none: one 400 MB unit, gathered before forward and kept for backward, then
  // reduce-scattered; the next iteration's gather waits for it.
  json r = run(doc);
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(2 * pass(400e6, 100e9) + 24e-3).epsilon(1e-9));
  CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == test::Rel(2 * 0.75 * 400e6).epsilon(1e-12));
  const json& z = r["workload"]["zero"];
  CHECK(z["stage"] == 3);
  CHECK(z["bytes_per_gpu"]["parameters"].get<double>() == 100e6);
  CHECK(z["bytes_per_gpu"]["gradients"].get<double>() == 100e6);
  CHECK(z["bytes_per_gpu"]["optimizer_states"].get<double>() == 200e6);
  // Memory: the shard (100 MB) plus the gathered unit (400 MB), the same for gradients.
  CHECK(r["memory"]["bytes_per_gpu"]["parameters"].get<double>() == 500e6);
  CHECK(r["memory"]["bytes_per_gpu"]["gradients"].get<double>() == 500e6);
  CHECK(r["memory"]["bytes_per_gpu"]["total"].get<double>() == 1200e6);

  // wfbp: a unit per layer. Each 0.756 ms gather hides under the layer before it, each
  // reduce-scatter under the layers after it: only the first gather and the last reduce-scatter
  // show. 4 gathers forward, 3 backward (the last layer keeps its parameters), 4 reduce-scatters.
  doc["workload"]["scheduling"] = {{"policy", "wfbp"}};
  r = run(doc);
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(2 * pass(100e6, 100e9) + 24e-3).epsilon(1e-9));
  CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == test::Rel(11 * 0.75 * 100e6).epsilon(1e-12));
  CHECK(r["memory"]["bytes_per_gpu"]["parameters"].get<double>() == 100e6 + 2 * 100e6);  // two units gathered
  CHECK(r["memory"]["bytes_per_gpu"]["gradients"].get<double>() == 100e6 + 100e6);
  CHECK(r["workload"]["zero"]["allgathers_per_iteration"] == 7);
  CHECK(summary_text(parse_scenario(doc, "pp.json"), r)
            .find("ZeRO stage 3 (all-gather each unit before forward and backward: 7 all-gathers per iteration") !=
        std::string::npos);

  // One unit gathered ahead at most: 3 layers, the first 8 ms forward, the others 0.2 ms, on 25 GB/s
  // (P = 3.006 ms a gather). Iteration 0 on GPU 0: gathers of l0 [0, P] and l1 [P, 2P]; l0 runs
  // [P, P + 8 ms]; l2's gather waits for l1 to start, P + 8 ms (not 2P), so l2 runs from 2P + 8 ms.
  // Backward's first gather (l1; l2 keeps its parameters) starts when forward ends.
  doc = chain_scenario(3, 0, 4, 1, 1, "1f1b");
  doc["workload"]["parallelism"] = {{"data", 4}, {"zero", 3}};
  doc["workload"]["scheduling"] = {{"policy", "wfbp"}};
  doc["workload"]["iterations"] = 1;
  doc["model"]["layers"][0]["forward_flops"] = 4e9;
  doc["model"]["layers"][1]["forward_flops"] = 1e8;
  doc["model"]["layers"][2]["forward_flops"] = 1e8;
  doc["cluster"]["network"]["link"]["bandwidth"] = "25GBps";
  doc["output"] = {{"trace", true}, {"trace_ranks", {0}}};
  const Scenario traced = parse_scenario(doc, "pp.json");
  const json trace = run_in_child([&] { return simulate(traced).trace; });
  std::map<std::string, std::vector<double>> starts;  // GPU 0's slices, by name, in microseconds
  for (const json& e : trace["traceEvents"])
    if (e["ph"] == "X")
      starts[e["name"].get<std::string>()].push_back(e["ts"].get<double>());
  const double p_us = pass(100e6, 25e9) * 1e6;
  // Buckets in backward order: bucket 0 is l2, bucket 2 is l0.
  REQUIRE(starts["allgather parameters for forward, bucket 2"].size() == 1);
  CHECK(starts["allgather parameters for forward, bucket 2"][0] == 0);
  CHECK(starts["allgather parameters for forward, bucket 1"][0] == test::Rel(p_us).epsilon(1e-9));
  CHECK(starts["allgather parameters for forward, bucket 0"][0] == test::Rel(p_us + 8000).epsilon(1e-9));
  CHECK(starts["allgather parameters for backward, bucket 1"][0] == test::Rel(2 * p_us + 8000 + 200).epsilon(1e-9));
  CHECK(starts.count("allgather parameters for backward, bucket 0") == 0);
  const std::vector<double>& forward = starts["forward micro-batch 0"];  // l0, l1, l2
  REQUIRE(forward.size() == 3);
  CHECK(forward[0] == test::Rel(p_us).epsilon(1e-9));
  CHECK(forward[1] == test::Rel(p_us + 8000).epsilon(1e-9));
  CHECK(forward[2] == test::Rel(2 * p_us + 8000).epsilon(1e-9));
}

TEST_CASE("activation recomputation: what each mode keeps, re-creates and re-runs")
{
  // Blocks: [l0], [l1 l2 l3] (cut after l3 carries 25 elements), [l4], the last.
  using model::LayerKind;
  std::vector<model::Layer> layers = {
      {"l0", LayerKind::linear, 1, 1, 10}, {"l1", LayerKind::linear, 1, 1, 20}, {"l2", LayerKind::attention, 0, 1, 30},
      {"l3", LayerKind::add, 0, 1, 40},    {"l4", LayerKind::linear, 1, 1, 50},
  };
  layers[2].gemms = {{4, 4, 1, 2}};  // 2 heads of 4 x 4 probabilities: 32 elements
  std::vector<model::Layer> block(layers.begin() + 1, layers.begin() + 4);
  model::seal_block(block, 0, 25);
  std::copy(block.begin(), block.end(), layers.begin() + 1);
  const model::Model m{"blocks", layers};
  REQUIRE(m.block_starts() == std::vector<std::size_t>{0, 1, 4});

  KeptActivations k = kept_activations(m, 0, 5, Recompute::none);
  CHECK(k.kept == 10 + 20 + (30 + 32) + 40 + 50);
  CHECK(k.peak == 0);
  k = kept_activations(m, 0, 5, Recompute::selective);  // the probabilities go, re-created one layer at a time
  CHECK(k.kept == 10 + 20 + 30 + 40 + 50);
  CHECK(k.peak == 32);
  // full: block 0 keeps nothing (the model's input), block 1 its input (l0's 10 elements), the
  // last block all of it; backward re-creates block 1's 122 elements at the peak.
  k = kept_activations(m, 0, 5, Recompute::full);
  CHECK(k.kept == 0 + 10 + 50);
  CHECK(k.peak == 20 + 62 + 40);
  k = kept_activations(m, 1, 5, Recompute::full);  // a pipeline stage from l1 on
  CHECK(k.kept == 10 + 50);
  k = kept_activations(m, 4, 5, Recompute::full);
  CHECK(k.kept == 50);
  CHECK(k.peak == 0);

  const std::vector<LayerCost> base = {{1, 2}, {2, 4}, {3, 6}, {4, 8}, {5, 10}};
  std::vector<LayerCost> c = base;
  add_recomputation(m, Recompute::selective, c);
  for (std::size_t l = 0; l < c.size(); ++l)
    CHECK(c[l].backward_seconds == base[l].backward_seconds + (l == 2 ? base[l].forward_seconds : 0));
  c = base;
  add_recomputation(m, Recompute::full, c);
  for (std::size_t l = 0; l < c.size(); ++l) {
    CHECK(c[l].forward_seconds == base[l].forward_seconds);
    CHECK(c[l].backward_seconds == base[l].backward_seconds + (l < 4 ? base[l].forward_seconds : 0));
  }
}

TEST_CASE("activation recomputation end to end: backward re-runs forward, memory keeps block inputs")
{
  // The 4-layer chain (each layer its own block; f = 2 ms, b = 4 ms; 1e6 output elements a sample,
  // 2 samples, fp32) on one GPU: full recomputation re-runs l0..l2 forward in backward, 30 ms.
  json doc = chain_scenario(4, 1e6, 1, 1, 1, "1f1b");
  doc["workload"]["parallelism"] = {{"data", 1}};
  doc["workload"]["recompute"] = "full";
  json r = run(doc);
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(30e-3).epsilon(1e-12));
  CHECK(r["workload"]["recompute"] == "full");
  CHECK(r["memory"]["recompute"] == "full");
  CHECK(summary_text(parse_scenario(doc, "pp.json"), r).find("full activation recomputation") != std::string::npos);
  // A measured iteration is one without recomputation: 12 ms scales each layer by 1/2, and full
  // recomputation adds 3 x 1 ms.
  doc["workload"]["compute"] = {{"iteration_time", "12ms"}};
  r = run(doc);
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(15e-3).epsilon(1e-12));
  // Two 1F1B stages of 2 layers, 4 micro-batches: stage 0 has 2 micro-batches in flight. Without
  // recomputation each keeps l0's and l1's outputs; with it, each keeps only l1's input (l0's
  // output; l0's input is the model's), and backward re-creates one block (l0 or l1) at a time.
  doc = chain_scenario(4, 1e6, 1, 2, 4, "1f1b");
  const double a = 1e6 * 2 * 4;  // one layer's output for one micro-batch, bytes
  CHECK(run(doc)["memory"]["bytes_per_gpu"]["activations"].get<double>() == 2 * 2 * a);
  doc["workload"]["recompute"] = "full";
  r = run(doc);
  CHECK(r["memory"]["stage"] == 0);
  CHECK(r["memory"]["bytes_per_gpu"]["activations"].get<double>() == 2 * a + a);
  doc["workload"]["recompute"] = "some";
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "pp.json"),
                       doctest::Contains("pp.json: /workload/recompute: found 'some'; expected one of: none, "
                                         "selective, full"),
                       ScenarioError);
}

TEST_CASE("GPU memory: parameters, gradients, Adam states and the activations each stage keeps in flight")
{
  // 4 layers of 25 M parameters and 1e6 output elements a sample, 2 samples, fp32.
  json doc = chain_scenario(4, 1e6, 2, 1, 1, "1f1b");
  doc["workload"]["parallelism"] = {{"data", 2}};
  json r = run(doc)["memory"];
  CHECK(r["bytes_per_gpu"]["parameters"].get<double>() == 400e6);
  CHECK(r["bytes_per_gpu"]["optimizer_states"].get<double>() == 800e6);  // no ZeRO: all of m and v
  CHECK(r["bytes_per_gpu"]["activations"].get<double>() == 4 * 1e6 * 2 * 4);
  CHECK(r["bytes_per_gpu"]["total"].get<double>() == 400e6 + 400e6 + 800e6 + 32e6);
  // Two 1F1B stages of 2 layers, 4 micro-batches: stage 0 keeps 2 micro-batches' activations,
  // stage 1 one; the first needs the most.
  doc = chain_scenario(4, 1e6, 1, 2, 4, "1f1b");
  r = run(doc)["memory"];
  CHECK(r["stage"] == 0);
  CHECK(r["bytes_per_gpu"]["parameters"].get<double>() == 200e6);
  CHECK(r["bytes_per_gpu"]["activations"].get<double>() == 2 * (2 * 1e6 * 2 * 4));
  // bf16: 2-byte weights and gradients, 12 bytes of Adam state (with the fp32 master copy).
  doc["workload"]["precision"] = "bf16";
  r = run(doc)["memory"];
  CHECK(r["bytes_per_gpu"]["parameters"].get<double>() == 100e6);
  CHECK(r["bytes_per_gpu"]["optimizer_states"].get<double>() == 12 * 50e6);
}

TEST_CASE("GPU memory against the profile's capacity: fits, or the summary says it does not")
{
  // The test profile has 1 GiB; the chain's placeholder compute is kept (peak and efficiency given).
  const std::string file = test::write_profile("memory-capacity", test::profile_json());
  json doc = chain_scenario(1, 0, 2, 1, 1, "1f1b");  // 25 M fp32 parameters: 100 + 100 + 200 MB
  doc["workload"]["parallelism"] = {{"data", 2}};
  doc["gpu"]["profile"] = file;
  const Scenario small = parse_scenario(doc, "pp.json");
  json r = run_in_child([&] { return simulate(small).report; });
  CHECK(r["memory"]["capacity_bytes"].get<double>() == 1073741824.0);
  CHECK(r["memory"]["bytes_per_gpu"]["total"].get<double>() == 400e6);
  CHECK(r["memory"]["fits"] == true);
  CHECK(summary_text(small, r).find("GPU memory          about 400.00 MB per GPU of the GPU's 1.07 GB (") !=
        std::string::npos);

  doc = chain_scenario(4, 0, 2, 1, 1, "1f1b");  // 100 M parameters: 1.6 GB
  doc["workload"]["parallelism"] = {{"data", 2}};
  doc["gpu"]["profile"] = file;
  const Scenario big = parse_scenario(doc, "pp.json");
  r = run_in_child([&] { return simulate(big).report; });
  CHECK(r["memory"]["fits"] == false);
  CHECK(summary_text(big, r).find("of the GPU's 1.07 GB: does NOT fit (weights 400.00 MB") != std::string::npos);
}

TEST_CASE("attention keeps its softmax probabilities for backward: s x s per head")
{
  const model::Model m = *model::find_model("gpt2-124m-block", 1024);
  const auto it = std::find_if(m.layers.begin(), m.layers.end(),
                               [](const model::Layer& l) { return l.kind == model::LayerKind::attention; });
  REQUIRE(it != m.layers.end());
  CHECK(it->kept_elements_per_sample() == it->activation_elements_per_sample + 1024.0 * 1024 * 12);
  CHECK(m.layers.front().kept_elements_per_sample() == m.layers.front().activation_elements_per_sample);
}

TEST_CASE("ZeRO: bad input names the key and what was expected")
{
  json doc = chain_scenario(4, 0, 4, 1, 1, "1f1b");
  doc["workload"]["parallelism"].erase("schedule");
  doc["workload"]["parallelism"]["zero"] = 4;
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "pp.json"),
                       doctest::Contains("/workload/parallelism/zero: found 4; expected a ZeRO stage: 0, 1, 2 or 3"),
                       ScenarioError);
  json staged = chain_scenario(4, 0, 2, 2, 4, "1f1b");
  staged["workload"]["parallelism"]["zero"] = 3;
  CHECK_THROWS_WITH_AS(parse_scenario(staged, "pp.json"),
                       doctest::Contains("/workload/parallelism/zero: found 3 with pipeline 2; ZeRO stage 3 (FSDP) "
                                         "with pipeline stages is not modelled"),
                       ScenarioError);
  doc["workload"]["parallelism"]["zero"] = 2;
  doc["workload"]["architecture"] = {{"kind", "allreduce"}, {"algorithm", "halving_doubling"}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "pp.json"),
                       doctest::Contains("/workload/architecture/algorithm: ZeRO stage 2 reduce-scatters and "
                                         "all-gathers with rings; found 'halving_doubling'"),
                       ScenarioError);
  doc["workload"]["architecture"] = {{"kind", "ps"}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "pp.json"),
                       doctest::Contains("/workload/architecture/kind: ZeRO stage 2 is modelled with architecture "
                                         "'allreduce'"),
                       ScenarioError);
}
