// In-network aggregation on a Clos: the switches that sum (SHARP's aggregation tree), their
// routes, the tree of a group, and the pipelined all-reduce over it against its closed form.
#include "collective_scenario.hpp"
#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim_helpers.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::runner;

using namespace ddlsim;
using namespace ddlsim::coll;
using namespace ddlsim::report;

namespace {

constexpr double BW = 25e9, LINK_LAT = 1e-6;

/// `nodes` single-GPU nodes, a NIC each, on a radix-8 Clos (4 hosts per leaf; 3 tiers: pods of 4
/// leaves) of 25 GB/s, 1 us links whose switches sum at `reduce` bytes/s.
topo::ClusterParams clos(int nodes, int tiers, double reduce)
{
  topo::ClusterParams c{nodes, 1, topo::IntraFabric::nvswitch, {0, 0}, topo::NicPlacement::per_gpu, {}};
  c.network.kind = topo::NetworkKind::fat_tree;
  c.network.clos = {tiers, 8, 1, topo::ClosRouting::d_mod_k, 1, {BW, LINK_LAT}};
  c.network.switch_reduce_bytes_per_s = reduce;
  return c;
}

/// Durations of in-network all-reduces of `sizes` over GPUs 0..p-1 of `cluster`, at `fidelity`.
std::vector<double> in_network_times(const topo::ClusterParams& cluster, Rank p, const std::vector<double>& sizes,
                                     ScheduleFidelity fidelity)
{
  return test::allreduce_times(cluster, Algorithm::in_network, p, 1, sizes, fidelity);
}

}  // namespace

TEST_CASE("Clos with summing switches: every leaf, a pod's aggregation switch 0 and core 0-0 sum, with routes "
          "through them")
{
  // 48 GPUs, 3 tiers: 12 leaves (hosts 48..59), 3 pods' aggregation switch 0 (60..62), core 0-0 (63)
  const topo::Topology t = topo::make_cluster(clos(48, 3, 1e12));
  REQUIRE(t.gpu_count() == 48);
  REQUIRE(t.switch_aggregator_count() == 16);
  CHECK(t.aggregation_parent(0) == 48);
  CHECK(t.aggregation_parent(3) == 48);
  CHECK(t.aggregation_parent(4) == 49);
  CHECK(t.aggregation_parent(47) == 59);
  CHECK(t.aggregation_parent(48) == 60);
  CHECK(t.aggregation_parent(51) == 60);
  CHECK(t.aggregation_parent(52) == 61);
  CHECK(t.aggregation_parent(60) == 63);
  CHECK(t.aggregation_parent(62) == 63);
  CHECK(t.aggregation_parent(63) == topo::Topology::NO_HOST);
  CHECK(t.graph()[t.host(48)].name == "pod0-leaf0");
  CHECK(t.graph()[t.host(60)].name == "pod0-agg0");
  CHECK(t.graph()[t.host(63)].name == "core0-0");

  CHECK(test::link_names(t, 5, 49) == std::vector<std::string>{"node5-gpu0-nic up"});
  CHECK(test::link_names(t, 49, 5) == std::vector<std::string>{"node5-gpu0-nic down"});
  CHECK(test::link_names(t, 49, 60) == std::vector<std::string>{"pod0-leaf1-agg0 up"});
  CHECK(test::link_names(t, 61, 63) == std::vector<std::string>{"pod1-agg0-core0-0 up"});
  CHECK(test::link_names(t, 63, 53) == std::vector<std::string>{"pod1-agg0-core0-0 down", "pod1-leaf1-agg0 down"});
  // GPU 0 to leaf 4 (pod 1): up its leaf, pod 0's switch 0 and the core, down pod 1's
  CHECK(test::link_names(t, 0, 52) == std::vector<std::string>{"node0-gpu0-nic up", "pod0-leaf0-agg0 up",
                                                               "pod0-agg0-core0-0 up", "pod1-agg0-core0-0 down",
                                                               "pod1-leaf0-agg0 down"});
  CHECK(t.route_latency_seconds(0, 63) == test::Rel(3 * LINK_LAT).epsilon(1e-12));
  CHECK(t.route_latency_seconds(0, 1) == test::Rel(2 * LINK_LAT).epsilon(1e-12));  // GPUs: routes unchanged

  // 2 tiers: leaves then spine 0
  const topo::Topology two = topo::make_cluster(clos(32, 2, 1e12));
  REQUIRE(two.switch_aggregator_count() == 9);
  CHECK(two.aggregation_parent(31) == 39);
  CHECK(two.aggregation_parent(39) == 40);
  CHECK(two.graph()[two.host(40)].name == "spine0");
  CHECK(test::link_names(two, 32, 40) == std::vector<std::string>{"leaf0-spine0 up"});

  // DGX-like nodes with one NIC per node: a GPU reaches its leaf through the node switch
  topo::ClusterParams nodes{4, 8, topo::IntraFabric::nvswitch, {300e9, 0.5e-6}, topo::NicPlacement::per_node, {}};
  nodes.network = clos(1, 2, 1e12).network;
  const topo::Topology dgx = topo::make_cluster(nodes);
  REQUIRE(dgx.switch_aggregator_count() == 2);  // one leaf of 4 node ports, spine 0
  CHECK(dgx.aggregation_parent(13) == 32);
  CHECK(test::link_names(dgx, 13, 32) == std::vector<std::string>{"node1-gpu5-nvswitch up", "node1-nvswitch-nic up"});

  // rail-optimized: GPU i of a node on its rail's leaf
  topo::ClusterParams rail{4, 4, topo::IntraFabric::nvswitch, {300e9, 0.5e-6}, topo::NicPlacement::per_gpu, {}};
  rail.network = clos(1, 2, 1e12).network;
  rail.network.kind = topo::NetworkKind::rail_optimized;
  const topo::Topology r = topo::make_cluster(rail);
  REQUIRE(r.switch_aggregator_count() == 5);  // 4 rail leaves, spine 0
  CHECK(r.aggregation_parent(0) == 16);
  CHECK(r.aggregation_parent(4) == 16);
  CHECK(r.aggregation_parent(5) == 17);
  CHECK(r.aggregation_parent(19) == 20);

  // errors: more than one plane, a torus
  topo::ClusterParams planes = clos(8, 2, 1e12);
  planes.network.clos.planes = 2;
  CHECK_THROWS_WITH_AS(topo::make_cluster(planes), doctest::Contains("planes = 1"), std::invalid_argument);
  topo::ClusterParams torus{8, 1, topo::IntraFabric::nvswitch, {0, 0}, topo::NicPlacement::per_gpu, {}};
  torus.network.kind = topo::NetworkKind::torus;
  torus.network.torus = {{2, 4}, {BW, LINK_LAT}};
  torus.network.switch_reduce_bytes_per_s = 1e12;
  CHECK_THROWS_WITH_AS(topo::make_cluster(torus), doctest::Contains("this one is a torus"), std::invalid_argument);
}

TEST_CASE("aggregation tree of a group: the switches above its GPUs, without those that would sum one child")
{
  const topo::Topology t = topo::make_cluster(clos(48, 3, 1e12));
  auto tree = [&](std::uint32_t p) {
    return aggregation_tree(t, p);
  };
  {  // within one leaf: the leaf is the root
    const AggregationTree a = tree(3);
    CHECK(a.hosts == std::vector<std::uint32_t>{48});
    CHECK(a.parent == std::vector<Rank>{3, 3, 3, NO_PARENT});
    CHECK(a.levels == 1);
    CHECK(a.fanin == std::vector<Rank>{3});
    CHECK(a.hop_latency_s == test::Rel(LINK_LAT).epsilon(1e-12));
    CHECK(a.hop_bandwidth == test::Rel(BW).epsilon(1e-12));
  }
  {  // two leaves of pod 0, under its aggregation switch 0
    const AggregationTree a = tree(6);
    CHECK(a.hosts == std::vector<std::uint32_t>{48, 49, 60});
    CHECK(a.parent == std::vector<Rank>{6, 6, 6, 6, 7, 7, 8, 8, NO_PARENT});
    CHECK(a.levels == 2);
    CHECK(a.fanin == std::vector<Rank>{4, 2});
  }
  {  // all: 12 leaves, 3 pods, the core
    const AggregationTree a = tree(48);
    CHECK(a.hosts.size() == 16);
    CHECK(a.hosts.back() == 63);
    CHECK(a.levels == 3);
    CHECK(a.fanin == std::vector<Rank>{4, 4, 3});  // leaves, pods' switches, the core
  }
  {  // 5 GPUs: leaf 1 holds one of them, so GPU 4 sends to pod 0's switch itself
    const AggregationTree a = tree(5);
    CHECK(a.hosts == std::vector<std::uint32_t>{48, 60});
    CHECK(a.parent == std::vector<Rank>{5, 5, 5, 5, 6, 6, NO_PARENT});
    CHECK(a.levels == 2);
  }
  {  // 17 GPUs: pod 0 full, GPU 16 alone in pod 1 sends to the core (3 links away)
    const AggregationTree a = tree(17);
    CHECK(a.hosts == std::vector<std::uint32_t>{48, 49, 50, 51, 60, 63});
    CHECK(a.height == std::vector<Rank>{1, 1, 1, 1, 2, 3});
    CHECK(a.parent[16] == 22);
    CHECK(a.parent[21] == 22);
    CHECK(a.levels == 3);
    CHECK(a.hop_latency_s == test::Rel(3 * LINK_LAT).epsilon(1e-12));
  }
  CHECK_THROWS_WITH_AS(tree(1), doctest::Contains("one GPU"), std::invalid_argument);
  // the pipeline: flow fidelity is as_flows of the steps
  const AggregationTree a = tree(17);
  for (Rank chunks : {1U, 2U, 7U}) {
    const Schedule steps = in_network_allreduce(17, a.parent, 7e6, chunks);
    const Schedule direct = in_network_allreduce_flows(17, a.parent, 7e6, chunks);
    const Schedule merged = as_flows(steps);
    CHECK(steps.steps() == chunks + 2 * 3 - 1);
    test::check_same_flows(direct, merged);
    // each GPU sends and receives the buffer once; each switch sends its sum up once
    CHECK(steps.bytes_sent_by(0) == test::Rel(7e6).epsilon(1e-12));
    CHECK(steps.bytes_received_by(16) == test::Rel(7e6).epsilon(1e-12));
    CHECK(steps.bytes_sent_by(17) == test::Rel(5 * 7e6).epsilon(1e-12));  // leaf 0: up once, down to 4 GPUs
  }
  CHECK_THROWS_WITH_AS(in_network_allreduce(2, {3, 3, 3, NO_PARENT}, 8, 1), doctest::Contains("sums nothing"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(in_network_allreduce(2, {2, 1, NO_PARENT}, 8, 1), doctest::Contains("listed after it"),
                       std::invalid_argument);
}

TEST_CASE("in-network all-reduce on a fat-tree's aggregation tree: (C + 2H - 1)(l + c/B) at step fidelity, flows "
          "within 1 percent")
{
  // radix 8, 3 tiers: 3 GPUs -> one leaf (H = 1); 6 and 12 -> a pod (H = 2); 48 -> 3 pods (H = 3).
  // Switches sum fast enough never to pace the pipeline. Pieces of at most 1 MiB, at most 1,024.
  const std::vector<double> sizes{8, 65536, 16777216, 1073741824};
  for (Rank p : {3U, 6U, 12U, 48U}) {
    const topo::ClusterParams cluster = clos(48, 3, 1e13);
    const Rank H = p <= 4 ? 1 : p <= 16 ? 2 : 3;
    std::vector<double> s = sizes;
    if (p == 48)
      s.push_back(4294967296.0);
    const auto step = in_network_times(cluster, p, s, ScheduleFidelity::step);
    const auto flow = in_network_times(cluster, p, s, ScheduleFidelity::flow);
    const topo::Topology t = topo::make_cluster(cluster);
    const GroupShape g = group_shape(t, p, 1);
    REQUIRE(g.in_network.levels == H);
    for (std::size_t i = 0; i < s.size(); ++i) {
      const double S = s[i], C = in_network_chunks(S), c = S / C;
      const double expected = (C + 2 * H - 1) * (LINK_LAT + c / BW);
      CAPTURE(p);
      CAPTURE(S);
      CHECK(step[i] == test::Rel(expected).epsilon(1e-6));
      CHECK(predicted_seconds(Op::allreduce, Algorithm::in_network, g, S) == test::Rel(expected).epsilon(1e-12));
      CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
      MESSAGE("p = " << p << ", " << S << " B: step " << step[i] * 1e6
                     << " us, flow/step - 1 = " << flow[i] / step[i] - 1);
    }
  }
}

TEST_CASE("in-network on a fat-tree: switches that sum slower than their ports pace the pipeline, "
          "sum_h d_h + (C - 1) max_h d_h + H (l + c/B)")
{
  // 48 GPUs (leaves and pods' switches of 4 children, a core of 3): at R = 50 and 20 GB/s a leaf
  // takes 4 c/R > l + c/B to sum a piece; at 10 TB/s summing keeps up.
  const std::vector<double> sizes{8, 65536, 16777216, 1073741824};
  for (double R : {1e13, 50e9, 20e9}) {
    const topo::ClusterParams cluster = clos(48, 3, R);
    const auto step = in_network_times(cluster, 48, sizes, ScheduleFidelity::step);
    const auto flow = in_network_times(cluster, 48, sizes, ScheduleFidelity::flow);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double S = sizes[i], C = in_network_chunks(S), c = S / C, hop = LINK_LAT + c / BW;
      const double leaf = std::max(hop, 4 * c / R), core = std::max(hop, 3 * c / R);
      const double expected = 2 * leaf + core + (C - 1) * leaf + 3 * hop;
      CAPTURE(R);
      CAPTURE(S);
      CHECK(step[i] == test::Rel(expected).epsilon(1e-6));
      CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
    }
  }
}

TEST_CASE("in-network on a fat-tree: a tree whose branches skip levels stays within its cost bounds")
{
  // 17 GPUs: pod 0's 16 under leaves and pod 0's switch; GPU 16 sends straight to the core, three
  // links up, so its route's latency is 3 l against l for the others: the predicted cost, which
  // takes 3 l for every hop, is an upper bound; (C + 2H - 1) l + C c/B (every level's latency,
  // and a GPU's link carrying every piece) a lower one.
  const std::vector<double> sizes{8, 65536, 16777216, 1073741824};
  const topo::ClusterParams cluster = clos(48, 3, 1e13);
  const auto step = in_network_times(cluster, 17, sizes, ScheduleFidelity::step);
  const auto flow = in_network_times(cluster, 17, sizes, ScheduleFidelity::flow);
  const GroupShape g = group_shape(topo::make_cluster(cluster), 17, 1);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const double S = sizes[i], C = in_network_chunks(S), c = S / C;
    CAPTURE(S);
    CHECK(step[i] >= ((C + 5) * LINK_LAT + C * c / BW) * (1 - 1e-9));
    CHECK(step[i] <= predicted_seconds(Op::allreduce, Algorithm::in_network, g, S) * (1 + 1e-9));
    CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
  }
}

namespace {

/// 32 single-GPU nodes on a 2-tier radix-8 fat-tree of 25 GB/s, 1 us links (8 leaves of 4),
/// `network` merged into the network object; a collective workload of 1 GiB.
nlohmann::json fat_tree_scenario(const nlohmann::json& network, const nlohmann::json& workload)
{
  return test::merged_scenario(R"({
    "schema": 1, "name": "ina",
    "cluster": {"nodes": 32, "gpus_per_node": 1,
                "network": {"topology": "fat_tree", "tiers": 2, "radix": 8,
                            "link": {"bandwidth": "25GB/s", "latency": "1us"}}},
    "workload": {"kind": "collective", "op": "allreduce", "algorithm": "in_network",
                 "sizes": {"list": ["1GiB"]}}
  })",
                               network, workload);
}

struct Outcome {
  double seconds, nic_bytes, leaf_spine_bytes;
  std::string algorithm;
};

Outcome run_scenario(const nlohmann::json& scenario)
{
  test::CollectiveOutcome o = test::run_collective_scenario(scenario, "ina.json");
  return {o.seconds, o.tier_bytes["nic"], o.tier_bytes["leaf_spine"], o.algorithm};
}

std::string scenario_error(const nlohmann::json& scenario)
{
  return test::scenario_error(scenario, "ina.json");
}

}  // namespace

TEST_CASE("in-network on a fat-tree scenario: half the ring's traffic between leaves and spines, and about half "
          "its time, for 1 GiB")
{
  const double S = 1073741824.0, p = 32;
  const Outcome ina = run_scenario(fat_tree_scenario({{"switch_reduction", "10TB/s"}}, {}));
  const Outcome ring =
      run_scenario(fat_tree_scenario({{"switch_reduction", "10TB/s"}}, {{"algorithm", "ring"}, {"fidelity", "flow"}}));
  CHECK(ina.algorithm == "in_network");
  // each leaf sends its sum up to spine 0 and gets the total back: 8 leaves x 2 S; every NIC S each way
  CHECK(ina.leaf_spine_bytes == test::Rel(16 * S).epsilon(1e-9));
  CHECK(ina.nic_bytes == test::Rel(2 * p * S).epsilon(1e-9));
  // the ring crosses between leaves 8 times, up and down, 2(p-1)/p S each
  CHECK(ring.leaf_spine_bytes == test::Rel(8 * 2 * 2 * (p - 1) / p * S).epsilon(1e-9));
  CHECK(ina.leaf_spine_bytes / ring.leaf_spine_bytes == test::Rel(p / (2 * (p - 1))).epsilon(1e-9));
  // time: S/B and a few pieces against 2(p-1)/p S/B
  CHECK(ina.seconds == test::Rel((1024 + 3) * (1e-6 + S / 1024 / 25e9)).epsilon(1e-6));
  CHECK(ina.seconds / ring.seconds < 0.55);
  MESSAGE("1 GiB on 32 GPUs: in-network " << ina.seconds * 1e3 << " ms, ring " << ring.seconds * 1e3
                                          << " ms; leaf-spine bytes ratio "
                                          << ina.leaf_spine_bytes / ring.leaf_spine_bytes);

  // 2:1 oversubscribed leaves (radix 12: 8 hosts, 4 uplinks): the tree uses one uplink per leaf
  // each way, so flows and steps agree
  const nlohmann::json over{{"radix", 12}, {"oversubscription", 2}, {"switch_reduction", "10TB/s"}};
  const Outcome step = run_scenario(fat_tree_scenario(over, {{"fidelity", "step"}}));
  const Outcome flow = run_scenario(fat_tree_scenario(over, {{"fidelity", "flow"}}));
  CHECK(flow.seconds == test::Rel(step.seconds).epsilon(0.05));
  MESSAGE("2:1 fat-tree, 1 GiB in-network: flow/step - 1 = " << flow.seconds / step.seconds - 1);

  // auto picks it where it is the fastest
  CHECK(run_scenario(fat_tree_scenario({{"switch_reduction", "10TB/s"}}, {{"algorithm", "auto"}})).algorithm ==
        "in_network");
}

TEST_CASE("in-network scenario errors: no summing switches, several planes, a network without the key")
{
  const std::string none = scenario_error(fat_tree_scenario({}, {}));
  CHECK(none.find("/workload/algorithm") != std::string::npos);
  CHECK(none.find("star, fat_tree or rail_optimized network with 'switch_reduction'") != std::string::npos);
  const std::string planes = scenario_error(fat_tree_scenario({{"switch_reduction", "1TB/s"}, {"planes", 2}}, {}));
  CHECK(planes.find("/cluster/network/switch_reduction") != std::string::npos);
  CHECK(planes.find("use planes = 1") != std::string::npos);
  nlohmann::json torus = fat_tree_scenario({}, {});
  torus["cluster"]["network"] = {{"topology", "torus"},
                                 {"dims", {4, 8}},
                                 {"switch_reduction", "1TB/s"},
                                 {"link", {{"bandwidth", "25GB/s"}, {"latency", "1us"}}}};
  const std::string unknown = scenario_error(torus);  // not an "unknown key": it is known elsewhere
  CHECK(unknown.find("/cluster/network/switch_reduction: switches that sum are modelled on star, fat_tree and "
                     "rail_optimized networks; this one is a torus") != std::string::npos);
  MESSAGE(none << "\n" << planes << "\n" << unknown);
}
