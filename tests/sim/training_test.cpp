#include "models/zoo.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/workload/training.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::runner;
using namespace ddlsim::report;

using namespace ddlsim;

namespace {

// p GPUs, one per node, each with a 12.5 GB/s NIC of 1 us: route alpha 2 us, contention-free ring.
Scenario flat_training(int p, const std::string& scheduling)
{
  const std::string text = R"({"schema": 1, "name": "t", "model": "resnet50",
    "gpu": {"peak": "15.7TFLOPS", "efficiency": 0.5},
    "cluster": {"nodes": )" +
                           std::to_string(p) +
                           R"(, "network": {"link": {"bandwidth": "12.5GBps", "latency": "1us"}}},
    "workload": {"kind": "training", "batch_per_gpu": 32, "iterations": 2, "fidelity": "step",
                 "scheduling": )" +
                           scheduling + "}}";
  return parse_scenario(nlohmann::json::parse(text), "t.json");
}

double ring_time(int p, double bytes)
{
  return 2.0 * (p - 1) * (2e-6 + bytes / (p * 12.5e9));
}

}  // namespace

TEST_CASE("buckets: policy none is one bucket of all gradients - bucket 0 is one per layer with parameters")
{
  const model::Model m = *model::find_model("resnet50");
  const Scenario none = flat_training(4, R"({"policy": "none"})");
  const auto one = make_buckets(m, layer_costs(m, none.training, none.gpu), none.training);
  REQUIRE(one.size() == 1);
  CHECK(one[0].gradient_bytes == 25'557'032.0 * 4);
  CHECK(one[0].layers == m.layers.size());

  const Scenario per_layer = flat_training(4, R"({"policy": "wfbp"})");
  const auto many = make_buckets(m, layer_costs(m, per_layer.training, per_layer.gpu), per_layer.training);
  CHECK(many.size() == 107);  // 53 conv + 53 batch norm + fc
  double bytes = 0, seconds = 0;
  for (const Bucket& b : many) {
    bytes += b.gradient_bytes;
    seconds += b.backward_seconds;
  }
  CHECK(bytes == 25'557'032.0 * 4);
  CHECK(seconds == test::Rel(one[0].backward_seconds).epsilon(1e-12));

  const Scenario ddp = flat_training(4, R"({"policy": "fusion", "bucket": "25MiB"})");
  const auto buckets = make_buckets(m, layer_costs(m, ddp.training, ddp.gpu), ddp.training);
  CHECK(buckets.size() == 4);
  for (std::size_t i = 0; i + 1 < buckets.size(); ++i)
    CHECK(buckets[i].gradient_bytes >= 25.0 * 1024 * 1024);
}

TEST_CASE("policy none: iteration = compute + one ring all-reduce of every gradient")
{
  const int p = 8;
  const Scenario s = flat_training(p, R"({"policy": "none"})");
  const nlohmann::json r = run_in_child([&] { return simulate(s).report; });
  const double compute = r["breakdown_s"]["compute"].get<double>();
  const double expected = compute + ring_time(p, 25'557'032.0 * 4);
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
  CHECK(r["iteration_time_s"]["min"].get<double>() == test::Rel(expected).epsilon(1e-9));
  CHECK(r["breakdown_s"]["exposed_communication"].get<double>() ==
        test::Rel(ring_time(p, 25'557'032.0 * 4)).epsilon(1e-6));
  CHECK(r["scaling_efficiency"].get<double>() == test::Rel(compute / expected).epsilon(1e-9));
  CHECK(r["throughput"]["samples_per_s"].get<double>() == test::Rel(p * 32 / expected).epsilon(1e-9));
  CHECK(r["traffic"]["bytes_sent_per_gpu_per_iteration"].get<double>() ==
        test::Rel(2.0 * (p - 1) / p * 25'557'032.0 * 4).epsilon(1e-12));
}

TEST_CASE("wfbp: each bucket's all-reduce starts when its gradients and the previous all-reduce are done")
{
  const int p = 8;
  const Scenario s = flat_training(p, R"({"policy": "fusion", "bucket": "10MB"})");
  const model::Model m = *model::find_model("resnet50");
  const auto costs = layer_costs(m, s.training, s.gpu);
  const auto buckets = make_buckets(m, costs, s.training);
  // Closed form for one rank (all ranks are identical and the ring is contention-free).
  double t = 0, comm_end = 0;
  for (const LayerCost& c : costs)
    t += c.forward_seconds;
  for (const Bucket& b : buckets) {
    t += b.backward_seconds;
    if (b.gradient_bytes > 0)
      comm_end = std::max(t, comm_end) + ring_time(p, b.gradient_bytes);
  }
  const double expected = std::max(t, comm_end);
  const nlohmann::json r = run_in_child([&] { return simulate(s).report; });
  CHECK(r["iteration_time_s"]["mean"].get<double>() == test::Rel(expected).epsilon(1e-9));
  CHECK(r["workload"]["collectives_per_iteration"].get<int>() == static_cast<int>(buckets.size()));
  // Overlap hides part of the communication that policy none exposes.
  const nlohmann::json none = run_in_child([&] { return simulate(flat_training(p, R"({"policy": "none"})")).report; });
  CHECK(r["iteration_time_s"]["mean"].get<double>() < none["iteration_time_s"]["mean"].get<double>());
}

TEST_CASE("one GPU: the iteration is pure compute and scaling efficiency is 1")
{
  const Scenario s = flat_training(1, R"({"policy": "wfbp"})");
  const nlohmann::json r = run_in_child([&] { return simulate(s).report; });
  CHECK(r["iteration_time_s"]["mean"].get<double>() ==
        test::Rel(r["breakdown_s"]["compute"].get<double>()).epsilon(1e-12));
  CHECK(r["scaling_efficiency"].get<double>() == test::Rel(1.0).epsilon(1e-12));
}

TEST_CASE("auto fidelity: step for small rings, flow above 65,536 messages per collective and its concurrent copies")
{
  const auto ring_messages = [](coll::Rank p) {
    return coll::step_messages(coll::Op::allreduce, coll::Algorithm::ring, {p, 1, 0, 1, 0, 1});
  };
  CHECK(ring_messages(64) == 2.0 * 64 * 63);
  CHECK(choose_fidelity(Fidelity::auto_, ring_messages(64)) == coll::ScheduleFidelity::step);
  CHECK(choose_fidelity(Fidelity::auto_, ring_messages(256)) == coll::ScheduleFidelity::flow);
  CHECK(choose_fidelity(Fidelity::step, 1e12) == coll::ScheduleFidelity::step);
  CHECK(choose_fidelity(Fidelity::flow, 1) == coll::ScheduleFidelity::flow);
  // Groups that run the same collective at once count together: 8 rings of 64 (64,512 messages)
  // stay step, 9 go to flow; an explicit fidelity is kept.
  CHECK(choose_fidelity(Fidelity::auto_, ring_messages(64), 8) == coll::ScheduleFidelity::step);
  CHECK(choose_fidelity(Fidelity::auto_, ring_messages(64), 9) == coll::ScheduleFidelity::flow);
  CHECK(choose_fidelity(Fidelity::step, ring_messages(64), 1e6) == coll::ScheduleFidelity::step);
}

TEST_CASE("training with algorithm auto reports its pick per bucket and is no slower than the ring")
{
  auto with_algorithm = [](const std::string& algorithm) {
    Scenario s = flat_training(16, R"({"policy": "wfbp"})");
    s.training.algorithm = algorithm == "auto" ? coll::Algorithm::auto_ : coll::Algorithm::ring;
    return s;
  };
  const nlohmann::json automatic = run_in_child([&] { return simulate(with_algorithm("auto")).report; });
  const nlohmann::json ring = run_in_child([&] { return simulate(with_algorithm("ring")).report; });
  const auto& used = automatic["workload"]["algorithms_used"];
  CHECK(used.size() == 107);  // one all-reduce per layer with parameters
  bool latency_pick = false;
  for (const auto& a : used)
    latency_pick = latency_pick || a == "recursive_doubling" || a == "halving_doubling";
  CHECK(latency_pick);  // small per-layer gradients are latency-bound
  CHECK(automatic["iteration_time_s"]["mean"].get<double>() <= ring["iteration_time_s"]["mean"].get<double>());
}
