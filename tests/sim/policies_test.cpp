// Scheduling policies, synchronization schemes and architectures of data-parallel training,
// against closed forms on contention-free stars (one GPU per node, a NIC each, max-min sharing).
#include "models/zoo.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/workload/training.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::runner;
using namespace ddlsim::report;

using namespace ddlsim;
using nlohmann::json;

namespace {

/// p GPUs, one per node, 12.5 GB/s NICs of 1 us (route alpha 2 us), ResNet-50 with batch 32 on the
/// placeholder GPU; `patch` is merged into the scenario (RFC 7386).
json base(int p)
{
  return json::parse(R"({"schema": 1, "name": "t", "model": "resnet50",
    "gpu": {"peak": "15.7TFLOPS", "efficiency": 0.5},
    "cluster": {"nodes": )" +
                     std::to_string(p) +
                     R"(, "network": {"link": {"bandwidth": "12.5GBps", "latency": "1us"}}},
    "workload": {"kind": "training", "batch_per_gpu": 32, "iterations": 3, "fidelity": "step"}})");
}

Scenario training_scenario(int p, const std::string& patch)
{
  json j = base(p);
  j.merge_patch(json::parse(patch));
  return parse_scenario(j, "t.json");
}

json run(const Scenario& s)
{
  return run_in_child([&] { return simulate(s).report; });
}

double mean_iteration(const json& r)
{
  return r["iteration_time_s"]["mean"].get<double>();
}

double ring_time(int p, double bytes)
{
  return 2.0 * (p - 1) * (2e-6 + bytes / (p * 12.5e9));
}

const double RESNET50_BYTES = 25'557'032.0 * 4;

/// Two linear layers: L0 (input side) with 250,000 parameters and 1 GFLOP forward per sample, L1
/// with 1,000,000 parameters and 0.5 GFLOP; on a 1 TFLOP/s GPU with batch 1 their forward passes
/// take 1 ms and 0.5 ms, their backward passes 2 ms and 1 ms. Two GPUs on 1 GB/s links without
/// latency: a ring all-reduce of S bytes over 2 ranks takes S / B.
json two_layer(const std::string& bandwidth)
{
  return json::parse(R"({"schema": 1, "name": "two",
    "model": {"name": "two-layer", "layers": [
      {"name": "l0", "kind": "linear", "params": 250000, "forward_flops": 1e9},
      {"name": "l1", "kind": "linear", "params": 1000000, "forward_flops": 5e8}]},
    "gpu": {"peak": "1TFLOPS", "efficiency": 1},
    "cluster": {"nodes": 2, "network": {"link": {"bandwidth": ")" +
                     bandwidth + R"(", "latency": "0s"}}},
    "workload": {"kind": "training", "batch_per_gpu": 1, "iterations": 4, "fidelity": "step"}})");
}

Scenario two_layer_with(const std::string& bandwidth, const std::string& patch)
{
  json j = two_layer(bandwidth);
  j.merge_patch(json::parse(patch));
  return parse_scenario(j, "two.json");
}

}  // namespace

TEST_CASE("fusion with an infinite bucket equals none, with a zero bucket equals wfbp")
{
  const double none = mean_iteration(run(training_scenario(8, R"({"workload": {"scheduling": {"policy": "none"}}})")));
  const double wfbp = mean_iteration(run(training_scenario(8, R"({"workload": {"scheduling": {"policy": "wfbp"}}})")));
  const double huge = mean_iteration(
      run(training_scenario(8, R"({"workload": {"scheduling": {"policy": "fusion", "bucket": "1TB"}}})")));
  const double zero = mean_iteration(
      run(training_scenario(8, R"({"workload": {"scheduling": {"policy": "fusion", "bucket": "0B"}}})")));
  CHECK(huge == test::Rel(none).epsilon(1e-12));
  CHECK(zero == test::Rel(wfbp).epsilon(1e-12));
  CHECK(wfbp <= none);
}

TEST_CASE("mg_wfbp is never slower than wfbp or none and matches its cost model exactly when contention-free")
{
  for (const char* link : {R"("12.5GBps")", R"("1.25GBps")"}) {
    CAPTURE(link);
    auto with = [&](const std::string& policy) {
      return training_scenario(8, std::string(R"({"cluster": {"network": {"link": {"bandwidth": )") + link +
                                      R"(}}}, "workload": {"scheduling": {"policy": ")" + policy + R"("}}})");
    };
    const json mg = run(with("mg_wfbp"));
    const double wfbp = mean_iteration(run(with("wfbp")));
    const double none = mean_iteration(run(with("none")));
    CHECK(mean_iteration(mg) <= wfbp * (1 + 1e-12));
    CHECK(mean_iteration(mg) <= none * (1 + 1e-12));
    // Its buckets, timed one after another with the ring's alpha-beta cost, give the iteration.
    const Scenario s = with("mg_wfbp");
    const model::Model m = *model::find_model("resnet50");
    const auto costs = layer_costs(m, s.training, s.gpu);
    const double bandwidth = std::string(link).find("1.25") != std::string::npos ? 1.25e9 : 12.5e9;
    const CommCostFn ring = [&](double bytes) {
      return 2.0 * 7 * (2e-6 + bytes / (8 * bandwidth));
    };
    const auto buckets = make_buckets(m, costs, s.training, ring);
    double forward = 0, compute = 0;
    for (const LayerCost& c : costs) {
      forward += c.forward_seconds;
      compute += c.forward_seconds + c.backward_seconds;
    }
    const double expected = std::max(compute, forward + predicted_comm_end(buckets, ring));
    CHECK(mean_iteration(mg) == test::Rel(expected).epsilon(1e-9));
    CHECK(mg["workload"]["scheduling"]["buckets"].get<std::size_t>() == buckets.size());
    CHECK(buckets.size() < 107);  // it merged something
  }
}

TEST_CASE("priority: the next forward pass starts with the input layer's slices, hiding the rest (known answer)")
{
  // See two_layer(). partition 1 MB: L1's 4 MB gradient is 4 slices, L0's 1 MB one slice.
  // At 1 GB/s a slice takes 1 ms. Backward starts at t = X after the forward pass's start S:
  // L1's gradients are ready at X + 1, L0's at X + 3. Slices of L1 go at X+1 and X+2; at X+3
  // L0's slice goes first (priority), ending at X+4, when the next forward of L0 can start; L1's
  // last two slices run during it and end at X+6 = S' + 2, so the next L1 forward waits until
  // then: X = 2.5 ms and the period is X + 4 = 6.5 ms.
  const std::string slices =
      R"({"workload": {"scheduling": {"policy": "priority", "partition": "1MB", "credit": "1MB"}}})";
  const json priority = run(two_layer_with("1GBps", slices));
  CHECK(mean_iteration(priority) == test::Rel(6.5e-3).epsilon(1e-9));
  CHECK(priority["workload"]["scheduling"]["slices"] == 5);
  // wfbp sends L1 (4 ms) then L0 (1 ms) and the next forward waits for both: 1.5 + 1 + 5 = 7.5 ms.
  const json wfbp = run(two_layer_with("1GBps", R"({"workload": {"scheduling": {"policy": "wfbp"}}})"));
  CHECK(mean_iteration(wfbp) == test::Rel(7.5e-3).epsilon(1e-9));
  // On a 4x faster network L1's slices are done before L0's gradients exist: only L0's slice
  // (0.25 ms) is exposed, the iteration is compute (4.5 ms) + 0.25 ms.
  CHECK(mean_iteration(run(two_layer_with("4GBps", slices))) == test::Rel(4.75e-3).epsilon(1e-9));
}

TEST_CASE("fusion with Horovod's cycle time: gradients wait for the tick")
{
  // Backward takes 3 ms; a 10 ms cycle sends everything at t = 10 ms after backward starts:
  // iteration = forward 1.5 ms + 10 ms + all-reduce of 5 MB at 1 GB/s (5 ms).
  const json cycle = run(two_layer_with("1GBps", R"({"workload": {"scheduling": {"policy": "fusion", "bucket": "0B",
                                                     "cycle_time": "10ms"}}})"));
  CHECK(mean_iteration(cycle) == test::Rel(16.5e-3).epsilon(1e-9));
  CHECK(cycle["workload"]["scheduling"]["buckets"] == 1);
  // A 1.5 ms cycle: L1 (ready at 1 ms) goes at 1.5 ms, L0 (ready at 3 ms) at 3 ms; L1 takes
  // 4 ms, so L0 runs 5.5..6.5 ms: iteration 1.5 + 6.5 = 8 ms.
  const json short_cycle = run(two_layer_with("1GBps", R"({"workload": {"scheduling": {"policy": "fusion",
                                                           "bucket": "0B", "cycle_time": "1.5ms"}}})"));
  CHECK(mean_iteration(short_cycle) == test::Rel(8e-3).epsilon(1e-9));
  CHECK(short_cycle["workload"]["scheduling"]["buckets"] == 2);
}

TEST_CASE("a measured single-GPU speed scales the per-layer times to it")
{
  const json r = run(training_scenario(4, R"({"workload": {"compute": {"samples_per_s": 253.1}}})"));
  CHECK(r["single_gpu"]["samples_per_s"].get<double>() == test::Rel(253.1).epsilon(1e-12));
  CHECK(r["breakdown_s"]["compute"].get<double>() == test::Rel(32 / 253.1).epsilon(1e-12));
  CHECK(r["workload"]["compute_source"] == "measured single-GPU iteration");
  json j = base(1);
  j.erase("gpu");  // not needed when the speed is measured
  j["workload"]["compute"] = {{"iteration_time", "100ms"}};
  const json one = run(parse_scenario(j, "t.json"));
  CHECK(mean_iteration(one) == test::Rel(0.1).epsilon(1e-12));
}

TEST_CASE("parameter server with one dedicated server on a star: push and pull are incasts of p x S")
{
  // Every worker sends its S bytes to the server's one link, then the server sends S to each:
  // each phase takes 2 alpha_link + p S / B.
  const int p = 6;
  const json r = run(training_scenario(p, R"({"workload": {"scheduling": {"policy": "none"},
      "architecture": {"kind": "ps", "servers": 1, "placement": "dedicated"}}})"));
  const double compute = r["breakdown_s"]["compute"].get<double>();
  CHECK(mean_iteration(r) == test::Rel(compute + 2 * (2e-6 + p * RESNET50_BYTES / 12.5e9)).epsilon(1e-9));
  CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() == test::Rel(RESNET50_BYTES).epsilon(1e-12));
  // Co-located, one server per node: each server's link takes p-1 shards of S/p each way.
  const json co = run(training_scenario(p, R"({"workload": {"scheduling": {"policy": "none"},
      "architecture": {"kind": "ps"}}})"));
  CHECK(co["workload"]["architecture"]["servers"] == p);
  CHECK(mean_iteration(co) == test::Rel(compute + 2 * (2e-6 + (p - 1) * RESNET50_BYTES / (p * 12.5e9))).epsilon(1e-9));
}

TEST_CASE("ssp and asp let workers drift apart around a straggler, bsp does not")
{
  const std::string common = R"("compute": {"stragglers": {"ranks": [0], "slowdown": 2}}, "iterations": 6,
      "scheduling": {"policy": "none"}, "architecture": {"kind": "ps", "servers": 2})";
  auto with = [&](const std::string& sync) {
    return run(training_scenario(4, R"({"workload": {)" + common + R"(, "sync": )" + sync + "}}"));
  };
  const json bsp = with(R"({"scheme": "bsp"})");
  const json ssp0 = with(R"({"scheme": "ssp", "staleness": 0})");
  const json ssp2 = with(R"({"scheme": "ssp", "staleness": 2})");
  const json asp = with(R"({"scheme": "asp"})");
  const auto per_rank = [](const json& r, const char* which) {
    return r["per_rank"]["iteration_time_s"][which].get<double>();
  };
  // BSP: everyone runs at the straggler's pace (ranks differ only in when their pull arrives).
  CHECK(per_rank(bsp, "min") > 0.99 * per_rank(bsp, "max"));
  CHECK(bsp["statistics"]["staleness_iterations"]["max"] == 0);
  // SSP with staleness 0 is BSP.
  CHECK(mean_iteration(ssp0) == test::Rel(mean_iteration(bsp)).epsilon(1e-9));
  CHECK(ssp0["statistics"]["staleness_iterations"]["max"].get<double>() == 0);
  // ASP: the fast workers run at their own pace (compute + push + pull), the straggler at its own.
  CHECK(per_rank(asp, "min") < 0.7 * per_rank(asp, "max"));
  CHECK(asp["statistics"]["staleness_iterations"]["max"].get<double>() >= 2);
  // SSP in between, its staleness bounded by 2.
  CHECK(ssp2["throughput"]["samples_per_s"].get<double>() > bsp["throughput"]["samples_per_s"].get<double>());
  CHECK(ssp2["throughput"]["samples_per_s"].get<double>() <= asp["throughput"]["samples_per_s"].get<double>());
  CHECK(ssp2["statistics"]["staleness_iterations"]["max"].get<double>() <= 2);
  CHECK(ssp2["statistics"]["staleness_iterations"]["max"].get<double>() > 0);
}

TEST_CASE("local SGD with period H communicates every H-th iteration")
{
  const int p = 8;
  const json r = run(training_scenario(p, R"({"workload": {"iterations": 5, "scheduling": {"policy": "none"},
      "sync": {"scheme": "local_sgd", "period": 2}}})"));
  const double compute = r["breakdown_s"]["compute"].get<double>();
  const double comm = ring_time(p, RESNET50_BYTES);
  const auto& per = r["iteration_time_s"]["per_iteration"];
  CHECK(per[0].get<double>() == test::Rel(compute).epsilon(1e-9));
  CHECK(per[1].get<double>() == test::Rel(compute + comm).epsilon(1e-9));
  CHECK(per[2].get<double>() == test::Rel(compute).epsilon(1e-9));
  CHECK(mean_iteration(r) == test::Rel(compute + comm / 2).epsilon(1e-9));
}

TEST_CASE("gossip: each rank sends its model to every neighbour at once")
{
  const int p = 8;
  for (const auto& [graph, neighbours] : {std::pair{"ring", 2}, std::pair{"exponential", 3}, std::pair{"torus", 3}}) {
    CAPTURE(graph);
    const json r = run(training_scenario(p, std::string(R"({"workload": {"scheduling": {"policy": "none"},
        "architecture": {"kind": "gossip", "graph": ")") +
                                                graph + R"("}}})"));
    const double compute = r["breakdown_s"]["compute"].get<double>();
    CHECK(r["workload"]["architecture"]["neighbours"] == neighbours);
    CHECK(mean_iteration(r) == test::Rel(compute + 2e-6 + neighbours * RESNET50_BYTES / 12.5e9).epsilon(1e-9));
  }
  CHECK(gossip_neighbours(GossipGraph::exponential, 16, 3) == std::vector<std::uint32_t>{4, 5, 7, 11});
  CHECK(gossip_neighbours(GossipGraph::ring, 2, 0) == std::vector<std::uint32_t>{1});
  CHECK(gossip_neighbours(GossipGraph::torus, 12, 0) == std::vector<std::uint32_t>{1, 3, 4, 8});  // 3 x 4
}

TEST_CASE("jitter is deterministic per seed and changes with it")
{
  const std::string patch = R"({"workload": {"compute": {"jitter": 0.2}}})";
  const json a = run(training_scenario(4, patch));
  const json b = run(training_scenario(4, patch));
  Scenario other = training_scenario(4, patch);
  other.seed = 2;
  const json c = run(other);
  CHECK(a["iteration_time_s"]["per_iteration"] == b["iteration_time_s"]["per_iteration"]);
  CHECK(a["iteration_time_s"]["per_iteration"] != c["iteration_time_s"]["per_iteration"]);
}

TEST_CASE("bad policy, sync and architecture parameters get the loader's errors")
{
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"scheduling": {"policy": "fusion", "bucket": "-1MB"}})", "t.json: /workload/scheduling/bucket:"},
      {R"({"sync": {"scheme": "ssp", "staleness": -1}, "architecture": {"kind": "ps"}})",
       "t.json: /workload/sync/staleness: found -1; expected a whole number of at least 0"},
      {R"({"sync": {"scheme": "local_sgd", "period": 0}})",
       "t.json: /workload/sync/period: found 0; expected a whole number of at least 1"},
      {R"({"architecture": {"kind": "ps", "servers": 5}})",
       "t.json: /workload/architecture/servers: found 5 servers; expected at most 4 (co-located servers: one per "
       "node of the cluster); use \"placement\": \"dedicated\" for servers on CPU hosts of their own"},
      {R"({"sync": {"scheme": "asp"}})",
       "t.json: /workload/sync/scheme: scheme 'asp' needs a parameter server (architecture kind 'ps'); 'allreduce' "
       "synchronises every step"},
      {R"({"sync": {"scheme": "ssp"}, "architecture": {"kind": "ps"}})",
       "t.json: /workload/sync: missing required key 'staleness'"},
      {R"({"scheduling": {"policy": "wfbp", "cycle_time": "5ms"}})",
       "t.json: /workload/scheduling/cycle_time: 'cycle_time' applies to policy 'fusion'; this one is 'wfbp'"},
      {R"({"scheduling": {"policy": "priority", "partition": "4MB", "credit": "1MB"}})",
       "t.json: /workload/scheduling/credit: found 1e+06 bytes; expected at least the partition size (4e+06 bytes)"},
      {R"({"scheduling": {"policy": "mg_wfbp"}, "architecture": {"kind": "gossip"}})",
       "t.json: /workload/scheduling/policy: policy 'mg_wfbp' merges all-reduces; architecture 'gossip' has none"},
      {R"({"architecture": {"kind": "gossip", "servers": 2}})",
       "t.json: /workload/architecture/servers: 'servers' applies to architecture kind 'ps'; this one is 'gossip'"},
      {R"({"compute": {"jitter": 1}})", "t.json: /workload/compute/jitter: found 1; expected a fraction in [0, 1)"},
      {R"({"compute": {"stragglers": {"ranks": [4], "slowdown": 2}}})",
       "t.json: /workload/compute/stragglers/ranks/0: found rank 4; the data-parallel ranks are 0 to 3"},
      {R"({"compute": {"stragglers": {"ranks": [1], "slowdown": 0.5}}})",
       "t.json: /workload/compute/stragglers/slowdown: found 0.5; expected a factor >= 1"},
      {R"({"compute": {"iteration_time": "1s", "samples_per_s": 10}})",
       "t.json: /workload/compute: give the measured single-GPU speed once"},
  };
  for (const auto& [workload, message] : cases) {
    CAPTURE(workload);
    json j = base(4);
    j["workload"].merge_patch(json::parse(workload));
    try {
      parse_scenario(j, "t.json");
      FAIL("accepted");
    } catch (const ScenarioError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(what.rfind(message, 0) == 0);
    }
  }
  // Dedicated servers need a star; a custom model needs unique layer names.
  json fat = base(4);
  fat["cluster"]["network"] = json::parse(R"({"topology": "fat_tree", "tiers": 2, "radix": 4, "link": "eth-100"})");
  fat["workload"]["architecture"] = json::parse(R"({"kind": "ps", "placement": "dedicated"})");
  CHECK_THROWS_WITH_AS(parse_scenario(fat, "t.json"),
                       doctest::Contains("/workload/architecture/placement: dedicated parameter servers attach to a "
                                         "star network"),
                       ScenarioError);
  json dup = two_layer("1GBps");
  dup["model"]["layers"][1]["name"] = "l0";
  CHECK_THROWS_WITH_AS(parse_scenario(dup, "t.json"),
                       "t.json: /model/layers/1/name: layer name 'l0' is used twice; expected unique names",
                       ScenarioError);
}

TEST_CASE("a resolved scenario with every new key round-trips through to_json")
{
  for (const char* patch :
       {R"({"workload": {"scheduling": {"policy": "priority", "partition": "2MiB"}, "architecture": {"kind": "ps",
           "servers": 2, "placement": "dedicated", "server_reduce": "20GBps"}, "sync": {"scheme": "ssp", "staleness": 1},
           "compute": {"samples_per_s": 100, "jitter": 0.1, "stragglers": {"ranks": [1, 0], "slowdown": 1.5}}}})",
        R"({"workload": {"scheduling": {"policy": "fusion", "cycle_time": "5ms"}, "architecture": {"kind": "gossip",
           "graph": "torus"}}})",
        R"({"workload": {"scheduling": {"policy": "mg_wfbp"}, "sync": {"scheme": "local_sgd", "period": 4}}})"}) {
    CAPTURE(patch);
    const Scenario s = training_scenario(4, patch);
    CHECK(to_json(parse_scenario(to_json(s), "t.json")) == to_json(s));
  }
  const Scenario custom = parse_scenario(two_layer("1GBps"), "two.json");
  CHECK(to_json(parse_scenario(to_json(custom), "two.json")) == to_json(custom));
}

TEST_CASE("a custom transformer: GPT-2 124M's shape gives its parameter count, and round-trips")
{
  json j = base(2);
  j["model"] = json::parse(R"({"name": "my-gpt", "transformer": {"layers": 12, "hidden": 768, "heads": 12,
                                "vocabulary": 50257, "sequence": 1024}})");
  const Scenario s = parse_scenario(j, "t.json");
  CHECK(scenario_model(s).total_params() == 124'439'808);
  CHECK(s.sequence == 1024);
  CHECK(to_json(parse_scenario(to_json(s), "t.json")) == to_json(s));
  j["model"]["transformer"]["heads"] = 7;
  CHECK_THROWS_WITH_AS(parse_scenario(j, "t.json"), doctest::Contains("t.json: /model/transformer: "), ScenarioError);
}

TEST_CASE("a model without parameters has nothing to synchronise, under every architecture")
{
  for (const char* arch : {R"({"kind": "allreduce"})", R"({"kind": "ps", "servers": 1})", R"({"kind": "gossip"})"}) {
    CAPTURE(arch);
    json j = two_layer("1GBps");
    j["model"]["layers"][0]["params"] = 0;
    j["model"]["layers"][1]["params"] = 0;
    j["workload"]["architecture"] = json::parse(arch);
    if (std::string(arch).find("ps") != std::string::npos)
      j["workload"]["sync"] = {{"scheme", "asp"}};
    const json r = run(parse_scenario(j, "two.json"));
    // forward 1.5 ms, backward of parameter-free layers once their forward: 1.5 ms
    CHECK(mean_iteration(r) == test::Rel(3e-3).epsilon(1e-9));
    CHECK(r["workload"]["collectives_per_iteration"] == 0);
  }
}
