#include "models/transformer.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim/workload/pipeline.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include <cmath>
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

constexpr int H = 256, F = 1024, E = 4, V = 1000, S = 128, LAYERS = 2;

model::TransformerConfig moe_config()
{
  model::TransformerConfig c;
  c.name = "small-moe";
  c.layers = LAYERS, c.hidden = H, c.heads = 8, c.ffn = F, c.vocabulary = V, c.sequence = S;
  c.max_positions = S, c.token_types = 0, c.pre_layernorm = true, c.lm_head = true;
  c.experts = E, c.top_k = 2;
  return c;
}

// Parameters of one expert layer pair (h -> f -> h with biases) per expert.
constexpr std::int64_t EXPERT_PARAMS = std::int64_t{H} * F + F + std::int64_t{F} * H + H;

// The model above on test::nvswitch_training's nodes (2 samples per GPU in fp16, policy none).
json expert_scenario(int nodes, int data, int expert, int pipeline = 1)
{
  json parallelism = {{"data", data}, {"expert", expert}, {"pipeline", pipeline}};
  if (pipeline > 1)
    parallelism["microbatches"] = 2;
  const json model = {{"name", "small-moe"},
                      {"transformer",
                       {{"layers", LAYERS},
                        {"hidden", H},
                        {"heads", 8},
                        {"ffn", F},
                        {"vocabulary", V},
                        {"sequence", S},
                        {"experts", E},
                        {"top_k", 2}}}};
  json doc = test::nvswitch_training(model, nodes, parallelism);
  doc["name"] = "ep";
  return doc;
}

json run(const json& doc)
{
  const Scenario s = parse_scenario(doc, "ep.json");
  return run_in_child([&] { return simulate(s).report; });
}

double compute_seconds(const Scenario& s)
{
  double sum = 0;
  for (const LayerCost& c : layer_costs(scenario_model(s), s.training, s.gpu))
    sum += c.forward_seconds + c.backward_seconds;
  return sum;
}

constexpr double ROUTE_ALPHA = 2e-6, ROUTE_BW = 100e9;
// What a GPU sends in one all-to-all: top_k copies of each token's hidden state, 2 samples, fp16.
constexpr double ALLTOALL_BYTES = 2.0 * S * H * 2 * 2;

double ring(double p, double bytes)
{
  return 2 * (p - 1) * (ROUTE_ALPHA + bytes / (p * ROUTE_BW));
}

// Direct all-to-all among e GPUs of one NVSwitch: (e - 1) / e of the bytes leave each GPU's link.
double alltoall(double e, double bytes)
{
  return ROUTE_ALPHA + (e - 1) / e * bytes / ROUTE_BW;
}

}  // namespace

TEST_CASE("a mixture-of-experts transformer: E feed-forwards per block, k C times the dense FFN's flops")
{
  const model::Model moe = model::make_transformer(moe_config());
  model::TransformerConfig dense_config = moe_config();
  dense_config.experts = 0;
  const model::Model dense = model::make_transformer(dense_config);
  // Per block: the dense FFN's h f + f + f h + h becomes E of them plus an h x E router.
  CHECK(moe.total_params() - dense.total_params() == LAYERS * ((E - 1) * EXPERT_PARAMS + std::int64_t{H} * E));
  CHECK(model::max_experts(moe) == E);
  CHECK(model::max_experts(dense) == 0);
  double expert_flops = 0, dispatched = 0, combined = 0, dense_ffn = 0;
  for (const model::Layer& l : moe.layers) {
    if (l.experts > 0)
      expert_flops += l.forward_flops_per_sample;
    dispatched += l.dispatch_elements_per_sample;
    combined += l.combine_elements_per_sample;
  }
  for (const model::Layer& l : dense.layers)
    if (l.name.find(".ffn.intermediate") != std::string::npos || l.name.find(".ffn.output") != std::string::npos)
      dense_ffn += l.forward_flops_per_sample;
  CHECK(expert_flops == test::Rel(2 * dense_ffn).epsilon(1e-15));  // top_k 2
  CHECK(dispatched == test::Rel(LAYERS * 2.0 * S * H).epsilon(1e-15));
  CHECK(combined == dispatched);

  model::TransformerConfig padded = moe_config();
  padded.capacity_factor = 1.25;
  padded.moe_every = 2;  // block 1 only
  const model::Model p = model::make_transformer(padded);
  double padded_flops = 0, padded_dispatch = 0;
  for (const model::Layer& l : p.layers) {
    if (l.experts > 0) {
      padded_flops += l.forward_flops_per_sample;
      CHECK(l.name.starts_with("layer.1."));
    }
    padded_dispatch += l.dispatch_elements_per_sample;
  }
  CHECK(padded_flops == test::Rel(1.25 * expert_flops / LAYERS).epsilon(1e-15));
  CHECK(padded_dispatch == test::Rel(1.25 * 2.0 * S * H).epsilon(1e-15));
  CHECK(p.total_params() - dense.total_params() == (E - 1) * EXPERT_PARAMS + std::int64_t{H} * E);

  model::TransformerConfig bad = moe_config();
  bad.top_k = E + 1;
  CHECK_THROWS_AS(model::make_transformer(bad), std::invalid_argument);
}

TEST_CASE("expert_shard keeps E / e experts' tensors of each expert layer and nothing else changes")
{
  const model::Model moe = model::make_transformer(moe_config());
  const model::Model half = model::expert_shard(moe, 2);
  CHECK(moe.total_params() - half.total_params() == LAYERS * (E / 2) * EXPERT_PARAMS);
  for (std::size_t i = 0; i < moe.layers.size(); ++i) {
    const model::Layer &a = moe.layers[i], &b = half.layers[i];
    CHECK(a.forward_flops_per_sample == b.forward_flops_per_sample);
    if (a.experts == 0) {
      CHECK(a.params == b.params);
      continue;
    }
    CHECK(b.experts == E / 2);
    CHECK(b.tensors.size() == a.tensors.size() / 2);
    std::int64_t sum = 0;
    for (const model::Tensor& t : b.tensors)
      sum += t.elements();
    CHECK(sum == b.params);
    CHECK(b.params * 2 == a.params);
  }
  CHECK(model::expert_shard(moe, 1).total_params() == moe.total_params());
  CHECK_THROWS_AS(model::expert_shard(moe, 3), std::invalid_argument);
  model::TransformerConfig dense = moe_config();
  dense.experts = 0;
  CHECK_THROWS_AS(model::expert_shard(model::make_transformer(dense), 2), std::invalid_argument);
}

TEST_CASE("expert parallelism in one node: compute, four direct all-to-alls per MoE layer, dense and expert "
          "all-reduces")
{
  for (const char* comm : {"simulate", "alpha_beta"})
    for (int e : {2, 4}) {
      CAPTURE(comm);
      CAPTURE(e);
      json doc = expert_scenario(1, 4, e);
      doc["workload"]["parallelism"]["expert_comm"] = comm;
      const Scenario s = parse_scenario(doc, "ep.json");
      const json r = run(doc);
      const double compute = compute_seconds(s);
      const model::Model moe = scenario_model(s);
      const double experts_bytes = double(LAYERS * E * EXPERT_PARAMS) * 2;
      const double dense_bytes = double(moe.total_params()) * 2 - experts_bytes;
      const double a2a = 4 * LAYERS * alltoall(e, ALLTOALL_BYTES);
      // Dense gradients over the 4 replicas, then each GPU's experts' over the 4 / e that hold them
      // ({0, 2} and {1, 3} with e = 2, on links of their own; none with e = 4).
      double expected = compute + a2a + ring(4, dense_bytes);
      if (e == 2)
        expected += ring(2, experts_bytes / e);
      CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
      const json& b = r["breakdown_s"];
      CHECK(b["compute"].get<double>() == test::Rel(compute).epsilon(1e-12));
      CHECK(b["expert_parallel_communication"].get<double>() == test::Rel(a2a).epsilon(1e-9));
      const json& w = r["workload"]["expert"];
      CHECK(w["size"] == e);
      CHECK(w["comm"] == comm);
      CHECK(w["experts_per_gpu"] == E / e);
      CHECK(w["moe_layers"] == LAYERS);
      CHECK(w["gradient_group"] == 4 / e);
      const json& st = w["per_stage"][0];
      CHECK(st["alltoalls_forward"] == 2 * LAYERS);
      CHECK(st["alltoalls_backward"] == 2 * LAYERS);
      CHECK(st["bytes_forward"].get<double>() == test::Rel(2 * LAYERS * ALLTOALL_BYTES).epsilon(1e-15));
      CHECK(st["alpha_beta_forward_s"].get<double>() ==
            test::Rel(2 * LAYERS * alltoall(e, ALLTOALL_BYTES)).epsilon(1e-12));
      CHECK(st["expert_gradient_bytes"].get<double>() == test::Rel(experts_bytes / e).epsilon(1e-15));
      CHECK(r["workload"]["gradient_bytes"].get<double>() == test::Rel(dense_bytes + experts_bytes / e).epsilon(1e-15));
      CHECK(r["workload"]["collectives_per_iteration"] == (e == 2 ? 2 : 1));
      // Traffic: the all-to-alls' (e - 1) / e, the dense ring's 2 (3/4), the experts' ring's 2 (1/2).
      double sent = 4 * LAYERS * ALLTOALL_BYTES * (e - 1) / e + 2 * 0.75 * dense_bytes;
      if (e == 2)
        sent += experts_bytes / e;
      CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == test::Rel(sent).epsilon(1e-12));
      // Memory: each GPU keeps E / e experts' weights, gradients and Adam's state.
      CHECK(r["memory"]["bytes_per_gpu"]["parameters"].get<double>() ==
            test::Rel(dense_bytes + experts_bytes / e).epsilon(1e-15));
    }
}

TEST_CASE("ZeRO 1 and 2 with expert parallelism: dense states shard over d, expert states over d / e")
{
  for (int stage : {1, 2}) {
    CAPTURE(stage);
    json doc = expert_scenario(1, 4, 2);
    doc["workload"]["parallelism"]["zero"] = stage;
    const Scenario s = parse_scenario(doc, "ep.json");
    const json r = run(doc);
    const double experts_bytes = double(LAYERS * E * EXPERT_PARAMS) * 2 / 2;  // each GPU's 2 of 4 experts
    const double dense_bytes = double(scenario_model(s).total_params()) * 2 - 2 * experts_bytes;
    // Ring reduce-scatter and all-gather: (p - 1)(alpha + S / (p B)) each; dense over the 4
    // replicas, each GPU's experts over the 2 that hold them, one after the other.
    const auto half_ring = [](double p, double bytes) {
      return (p - 1) * (ROUTE_ALPHA + bytes / (p * ROUTE_BW));
    };
    const double sync = 2 * (half_ring(4, dense_bytes) + half_ring(2, experts_bytes));
    const double expected = compute_seconds(s) + 4 * LAYERS * alltoall(2, ALLTOALL_BYTES) + sync;
    CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
    const json& z = r["workload"]["zero"];
    CHECK(z["allgathers_per_iteration"] == 2);
    // Adam's 12 bytes per parameter (bf16 mixed precision), a quarter of the dense ones, half of the experts'.
    const double params_dense = dense_bytes / 2, params_experts = experts_bytes / 2;
    CHECK(z["bytes_per_gpu"]["optimizer_states"].get<double>() ==
          test::Rel(12 * (params_dense / 4 + params_experts / 2)).epsilon(1e-12));
    const double gradients = stage == 2 ? dense_bytes / 4 + experts_bytes / 2 : dense_bytes + experts_bytes;
    CHECK(z["bytes_per_gpu"]["gradients"].get<double>() == test::Rel(gradients).epsilon(1e-12));
    CHECK(r["memory"]["bytes_per_gpu"]["optimizer_states"] == z["bytes_per_gpu"]["optimizer_states"]);
  }
}

TEST_CASE("a mixture of experts without expert parallelism keeps every expert on every GPU and sends no "
          "all-to-all")
{
  json doc = expert_scenario(1, 4, 1);
  const Scenario s = parse_scenario(doc, "ep.json");
  const json r = run(doc);
  const double bytes = double(scenario_model(s).total_params()) * 2;
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(compute_seconds(s) + ring(4, bytes)).epsilon(1e-9));
  CHECK(!r["workload"].contains("expert"));
  CHECK(r["breakdown_s"]["expert_parallel_communication"].get<double>() == 0);
}

TEST_CASE("expert groups across nodes: the all-to-all is bound by the NIC that 4 GPUs share")
{
  // e = 8 over two nodes: each GPU sends S/8 to each of the 4 GPUs of the other node, so each NIC
  // carries 16 x S/8 = 2 S each way at 10 GB/s; inside a node 3 x S/8 at 100 GB/s finish first.
  json doc = expert_scenario(2, 8, 8);
  doc["model"]["transformer"]["experts"] = 8;
  // One iteration: in later ones the replicas leave the previous all-reduce's ring at different
  // times, so part of what GPU 0 receives arrives before its own part of the all-to-all starts.
  doc["workload"]["iterations"] = 1;
  const Scenario s = parse_scenario(doc, "ep.json");
  const topo::Topology topology = topo::make_cluster(cluster_params(s));
  const double latency = topology.route_latency_seconds(0, 4);
  const json r = run(doc);
  const double per = latency + 2 * ALLTOALL_BYTES / 10e9;
  CHECK(r["breakdown_s"]["expert_parallel_communication"].get<double>() == test::Rel(4 * LAYERS * per).epsilon(1e-9));
  CHECK(r["workload"]["expert"]["gradient_group"] == 1);
}

TEST_CASE("expert parallelism with pipeline stages: each stage's all-to-alls are its MoE layers'")
{
  const json doc = expert_scenario(1, 2, 2, 2);
  const json r = run(doc);
  const json& stages = r["workload"]["expert"]["per_stage"];
  REQUIRE(stages.size() == 2);
  CHECK(stages[0]["alltoalls_forward"].get<int>() + stages[1]["alltoalls_forward"].get<int>() == 2 * LAYERS);
  CHECK(stages[0]["alltoalls_forward"] == 2);  // one block per stage
  CHECK(stages[1]["alltoalls_backward"] == 2);
  CHECK(r["iteration_time_s"]["mean"].get<double>() > 0);
  CHECK(r["breakdown_s"]["expert_parallel_communication"].get<double>() > 0);
}

TEST_CASE("bad expert-parallel scenarios name the key and what was expected")
{
  const auto fails = [](json doc, const std::string& message) {
    CAPTURE(message);
    CHECK_THROWS_WITH_AS(parse_scenario(doc, "ep.json"), doctest::Contains(message.c_str()), ScenarioError);
  };
  fails(expert_scenario(1, 4, 3), "/workload/parallelism/expert: found 3; an expert-parallel group is 3 of the 4");
  json eight = expert_scenario(2, 8, 8);
  eight["model"]["transformer"]["experts"] = 4;
  fails(eight, "experts do not split over 8 GPUs; expected 1 or a divisor of 4");
  json dense = expert_scenario(1, 4, 2);
  dense["model"]["transformer"].erase("experts");
  dense["model"]["transformer"].erase("top_k");
  fails(dense, "has no experts (a mixture-of-experts layer) to spread; expected 1");
  json tensor = expert_scenario(1, 2, 2);
  tensor["workload"]["parallelism"]["tensor"] = 2;
  fails(tensor, "expert parallelism with tensor parallelism is not modelled");
  json zero = expert_scenario(1, 4, 2);
  zero["workload"]["parallelism"]["zero"] = 3;
  fails(zero, "ZeRO stage 3 with expert parallelism is not modelled; expected zero 0, 1 or 2");
  json k = expert_scenario(1, 4, 2);
  k["model"]["transformer"]["top_k"] = 5;
  fails(k, "/model/transformer/top_k: found 5; a token goes to at most all 4 experts");
  json stray = expert_scenario(1, 4, 1);
  stray["model"]["transformer"].erase("experts");
  fails(stray, "/model/transformer/top_k: 'top_k' applies to a mixture of experts");
  json capacity = expert_scenario(1, 4, 2);
  capacity["model"]["transformer"]["capacity_factor"] = 0.5;
  fails(capacity, "expected at least 1 (below it tokens are dropped");
  json comm = expert_scenario(1, 4, 1);
  comm["workload"]["parallelism"]["expert_comm"] = "alpha_beta";
  fails(comm, "/workload/parallelism/expert_comm: 'expert_comm' applies to expert parallelism");
  json ps = expert_scenario(1, 4, 2);
  ps["workload"]["architecture"] = {{"kind", "ps"}};
  fails(ps, "expert parallelism (expert 2) is modelled with architecture 'allreduce'");
}

TEST_CASE("the resolved scenario keeps the experts and the expert-parallel degree, and reads back the same")
{
  json doc = expert_scenario(1, 4, 2);
  doc["model"]["transformer"]["capacity_factor"] = 1.25;
  doc["model"]["transformer"]["moe_every"] = 2;
  const Scenario s = parse_scenario(doc, "ep.json");
  const json resolved = to_json(s);
  CHECK(resolved["workload"]["parallelism"]["expert"] == 2);
  CHECK(resolved["workload"]["parallelism"]["expert_comm"] == "simulate");
  CHECK(resolved["model"]["transformer"]["experts"] == E);
  CHECK(resolved["model"]["transformer"]["top_k"] == 2);
  CHECK(resolved["model"]["transformer"]["moe_every"] == 2);
  CHECK(resolved["model"]["transformer"]["capacity_factor"].get<double>() == 1.25);
  const Scenario again = parse_scenario(resolved, "resolved.json");
  CHECK(again.training.expert_parallel == 2);
  CHECK(scenario_model(again).total_params() == scenario_model(s).total_params());
  CHECK(to_json(again) == resolved);
}

TEST_CASE("a Llama-style custom transformer reads back as Llama 2 7B, and Mixtral spreads its experts")
{
  json doc = expert_scenario(1, 4, 1);
  doc["model"] = {{"name", "my-llama"},
                  {"transformer",
                   {{"layers", 32},
                    {"hidden", 4096},
                    {"heads", 32},
                    {"ffn", 11008},
                    {"vocabulary", 32000},
                    {"sequence", 512},
                    {"max_positions", 4096},
                    {"gated_ffn", true},
                    {"bias", false},
                    {"rms_norm", true},
                    {"learned_positions", false},
                    {"tie_embeddings", false}}}};
  const Scenario s = parse_scenario(doc, "llama.json");
  CHECK(scenario_model(s).total_params() == 6'738'415'616);
  CHECK(scenario_model(parse_scenario(to_json(s), "again.json")).total_params() == 6'738'415'616);

  json gqa = doc;
  gqa["model"]["transformer"]["kv_heads"] = 5;
  CHECK_THROWS_WITH_AS(parse_scenario(gqa, "llama.json"),
                       doctest::Contains("/model/transformer/kv_heads: found 5; key and value heads are shared by "
                                         "groups of query heads; expected a divisor of heads (32)"),
                       ScenarioError);

  json mixtral = expert_scenario(2, 8, 8);
  mixtral["model"] = "mixtral-8x7b";
  const Scenario m = parse_scenario(mixtral, "mixtral.json");
  CHECK(m.sequence == 4096);
  const model::Model full = scenario_model(m), one = model::expert_shard(full, 8);
  // Each GPU keeps one expert of each of the 32 layers: 3 x 4,096 x 14,336 parameters each.
  CHECK(full.total_params() - one.total_params() == 32LL * 7 * 3 * 4096 * 14336);
  json odd = mixtral;
  odd["workload"]["parallelism"] = {{"data", 8}, {"expert", 16}};
  CHECK_THROWS_AS(parse_scenario(odd, "mixtral.json"), ScenarioError);
}

TEST_CASE("routing skew: the hot GPU's experts compute longer and the all-to-alls carry the skewed shares")
{
  // d = 4, e = 2, Zipf exponent 1: weights 1 and 1/2, so every GPU sends 2/3 of its routed tokens
  // to the first GPU of its expert group and 1/3 to the second. GPU 0's experts take 4/3 of the balanced compute, GPU
  // 1's 2/3, and every all-to-all's larger message is 2S/3 (dispatch: GPU 1 to GPU 0; combine: back).
  for (const char* comm : {"simulate", "alpha_beta"}) {
    CAPTURE(comm);
    json doc = expert_scenario(1, 4, 2);
    doc["workload"]["parallelism"]["expert_zipf"] = 1;
    doc["workload"]["parallelism"]["expert_comm"] = comm;
    const Scenario s = parse_scenario(doc, "ep.json");
    const json r = run(doc);
    const model::Model moe = scenario_model(s);
    const std::vector<LayerCost> costs = layer_costs(moe, s.training, s.gpu);
    double compute = 0, experts = 0;
    bool inside = false;
    for (std::size_t l = 0; l < moe.layers.size(); ++l) {
      compute += costs[l].forward_seconds + costs[l].backward_seconds;
      inside = inside || moe.layers[l].dispatch_elements_per_sample > 0;
      if (inside)
        experts += costs[l].forward_seconds + costs[l].backward_seconds;
      inside = inside && moe.layers[l].combine_elements_per_sample == 0;
    }
    const double experts_bytes = double(LAYERS * E * EXPERT_PARAMS) * 2;
    const double dense_bytes = double(moe.total_params()) * 2 - experts_bytes;
    const double a2a = ROUTE_ALPHA + 2.0 / 3 * ALLTOALL_BYTES / ROUTE_BW;
    const double expected =
        compute + experts / 3 + 4 * LAYERS * a2a + ring(4, dense_bytes) + ring(2, experts_bytes / 2);
    CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
    CHECK(r["breakdown_s"]["compute"].get<double>() == test::Rel(compute + experts / 3).epsilon(1e-12));
    const json& st = r["workload"]["expert"]["per_stage"][0];
    CHECK(st["alpha_beta_forward_s"].get<double>() == test::Rel(2 * LAYERS * a2a).epsilon(1e-12));
    CHECK(r["workload"]["expert"]["zipf"].get<double>() == 1);
    // GPU 0 (the hot one) keeps 2/3 of what it dispatches and sends back 2/3 of what it received:
    // per MoE block S/3 + 2S/3 forward and the same backward, plus its rings' 2 (3/4) and 2 (1/2).
    CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() ==
          test::Rel(2 * LAYERS * ALLTOALL_BYTES + 1.5 * dense_bytes + experts_bytes / 2).epsilon(1e-12));
  }
  json skew = expert_scenario(1, 4, 1);
  skew["workload"]["parallelism"]["expert_zipf"] = 1;
  CHECK_THROWS_WITH_AS(parse_scenario(skew, "ep.json"),
                       doctest::Contains("'expert_zipf' applies to expert parallelism"), ScenarioError);
}
