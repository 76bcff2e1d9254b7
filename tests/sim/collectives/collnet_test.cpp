// CollNet (in-network aggregation on multi-GPU nodes): a Clos's several aggregation trees and their
// routes, the schedule's phases and traffic, and its time against the closed form
// 2(c-1)(a_i + S/(c B_i)) + (C + 2H - 1)(l + c'/B) on contention-free networks.
#include "collective_scenario.hpp"
#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim_helpers.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <algorithm>
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

constexpr double BW = 25e9, LAT = 1e-6;                 // network links
constexpr double INTRA_BW = 300e9, INTRA_LAT = 0.5e-6;  // each GPU's link to its node's NVSwitch

/// `nodes` nodes of `gpus` GPUs (NVSwitch, a NIC per GPU) on a radix-8 Clos of `tiers` tiers (4
/// endpoints per leaf) of 25 GB/s, 1 us links, whose switches sum at `reduce` bytes/s in `trees` trees.
topo::ClusterParams clos(int nodes, int gpus, int tiers, double reduce, int trees)
{
  topo::ClusterParams c{nodes, gpus, topo::IntraFabric::nvswitch, {INTRA_BW, INTRA_LAT}, topo::NicPlacement::per_gpu,
                        {}};
  c.network.kind = topo::NetworkKind::fat_tree;
  c.network.clos = {tiers, 8, 1, topo::ClosRouting::d_mod_k, 1, {BW, LAT}};
  c.network.clos.aggregation_trees = trees;
  c.network.switch_reduce_bytes_per_s = reduce;
  return c;
}

/// The same nodes on one switch that sums (a star).
topo::ClusterParams star(int nodes, int gpus, double reduce)
{
  topo::ClusterParams c{nodes, gpus, topo::IntraFabric::nvswitch, {INTRA_BW, INTRA_LAT}, topo::NicPlacement::per_gpu,
                        {}};
  c.network.kind = topo::NetworkKind::star;
  c.network.link = {BW, LAT};
  c.network.switch_reduce_bytes_per_s = reduce;
  return c;
}

/// Durations of collnet all-reduces of `sizes` over all GPUs of `cluster`, at `fidelity`.
std::vector<double> collnet_times(const topo::ClusterParams& cluster, const std::vector<double>& sizes,
                                  ScheduleFidelity fidelity)
{
  return test::allreduce_times(cluster, Algorithm::collnet, static_cast<Rank>(cluster.nodes * cluster.gpus_per_node),
                               static_cast<std::uint32_t>(cluster.gpus_per_node), sizes, fidelity);
}

/// 2(c-1)(a_i + S/(c B_i)) + (C + 2H - 1)(l + c'/B) with pieces c' = S / (c C) (summing keeps up).
double closed_form(double S, double c, double H)
{
  const double C = in_network_chunks(S / c), piece = S / c / C;
  return 2 * (c - 1) * (2 * INTRA_LAT + S / (c * INTRA_BW)) + (C + 2 * H - 1) * (LAT + piece / BW);
}

}  // namespace

TEST_CASE("Clos with several aggregation trees: tree j sums at spine j, or at every pod's aggregation switch j and "
          "core j-0, with routes through them")
{
  // 2 tiers: 8 nodes of 2 GPUs, 4 leaves (hosts 16..19), tree 0's spine 0 (20), tree 1's spine 1 (21)
  const topo::Topology two = topo::make_cluster(clos(8, 2, 2, 1e12, 2));
  REQUIRE(two.switch_aggregator_count() == 6);
  CHECK(two.aggregation_trees() == 2);
  CHECK(two.graph()[two.host(21)].name == "spine1");
  for (std::uint32_t tree : {0U, 1U}) {
    CHECK(two.aggregation_parent(0, tree) == 16);  // a GPU sends to its leaf in every tree
    CHECK(two.aggregation_parent(7, tree) == 17);
    CHECK(two.aggregation_parent(19, tree) == 20 + tree);
    CHECK(two.aggregation_parent(20 + tree, tree) == topo::Topology::NO_HOST);
  }
  CHECK(two.aggregation_parent(16, 2) == topo::Topology::NO_HOST);  // no third tree
  CHECK(test::link_names(two, 16, 21) == std::vector<std::string>{"leaf0-spine1 up"});
  CHECK(test::link_names(two, 21, 3) == std::vector<std::string>{"leaf0-spine1 down", "node1-gpu1-nic down"});
  CHECK(test::link_names(two, 20, 3) == std::vector<std::string>{"leaf0-spine0 down", "node1-gpu1-nic down"});

  // 3 tiers, 48 single-GPU nodes: leaves 48..59; tree 0: pods' switch 0 (60..62), core 0-0 (63);
  // tree 1: pods' switch 1 (64..66), core 1-0 (67). Tree 0's hosts are those of a single tree.
  const topo::Topology three = topo::make_cluster(clos(48, 1, 3, 1e12, 2));
  REQUIRE(three.switch_aggregator_count() == 20);
  CHECK(three.graph()[three.host(63)].name == "core0-0");
  CHECK(three.graph()[three.host(64)].name == "pod0-agg1");
  CHECK(three.graph()[three.host(67)].name == "core1-0");
  CHECK(three.aggregation_parent(52, 0) == 61);
  CHECK(three.aggregation_parent(52, 1) == 65);
  CHECK(three.aggregation_parent(65, 1) == 67);
  CHECK(test::link_names(three, 52, 65) == std::vector<std::string>{"pod1-leaf0-agg1 up"});
  CHECK(test::link_names(three, 65, 67) == std::vector<std::string>{"pod1-agg1-core1-0 up"});
  CHECK(test::link_names(three, 67, 0) ==
        std::vector<std::string>{"pod0-agg1-core1-0 down", "pod0-leaf0-agg1 down", "node0-gpu0-nic down"});
  // the group's tree in tree 1: the same shape as in tree 0, through the other switches
  const AggregationTree a0 = aggregation_tree(three, 48), a1 = aggregation_tree(
                                                              three,
                                                              [] {
                                                                std::vector<std::uint32_t> all(48);
                                                                for (std::uint32_t r = 0; r < 48; ++r)
                                                                  all[r] = r;
                                                                return all;
                                                              }(),
                                                              1);
  CHECK(a1.parent == a0.parent);
  CHECK(a1.fanin == a0.fanin);
  CHECK(a1.hosts.back() == 67);

  // more trees than a leaf has uplinks
  CHECK_THROWS_WITH_AS(topo::make_cluster(clos(8, 2, 2, 1e12, 5)),
                       doctest::Contains("aggregation_trees: found 5; expected 1 to 4"), std::invalid_argument);
}

TEST_CASE("collnet schedule: intra-node reduce-scatter, each local GPU's shard through its tree, intra-node "
          "all-gather; flows are as_flows of the steps")
{
  // 4 nodes of 2 GPUs, each local index's tree one switch over its 4 GPUs: ranks 8 and 9
  const std::vector<std::vector<Rank>> trees{{4, 4, 4, 4, NO_PARENT}, {4, 4, 4, 4, NO_PARENT}};
  const double S = 6e6;
  for (Rank chunks : {1U, 3U}) {
    const Schedule steps = collnet_allreduce(8, 2, trees, S, chunks);
    CHECK(steps.ranks() == 10);
    CHECK(steps.steps() == 1 + (chunks + 1) + 1);
    // every GPU: (c-1)/c S out in each intra-node phase, S/c up its tree
    for (Rank r = 0; r < 8; ++r) {
      CHECK(steps.bytes_sent_by(r) == test::Rel(2 * S / 2 + S / 2).epsilon(1e-12));
      CHECK(steps.bytes_received_by(r) == test::Rel(2 * S / 2 + S / 2).epsilon(1e-12));
    }
    CHECK(steps.bytes_sent_by(8) == test::Rel(4 * S / 2).epsilon(1e-12));  // the total shard to 4 GPUs
    CHECK(steps.bytes_received_by(9) == test::Rel(4 * S / 2).epsilon(1e-12));
    // tree 1 joins GPUs 1, 3, 5, 7 at rank 9
    for (const Transfer& t : steps.step(1))
      CHECK((t.dst == 8 || t.dst == 9) == true);
    for (const Transfer& t : steps.step(1))
      CHECK(t.src % 2 == (t.dst == 8 ? 0U : 1U));
    const Schedule direct = collnet_allreduce_flows(8, 2, trees, S, chunks);
    const Schedule merged = as_flows(steps);
    test::check_same_flows(direct, merged);
  }
  // one node: the two ring phases only
  CHECK(collnet_allreduce(4, 4, {}, S, 1).steps() == 6);
  CHECK_THROWS_WITH_AS(collnet_allreduce(8, 2, {trees[0]}, S, 1), doctest::Contains("expected an aggregation tree"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(collnet_allreduce(7, 2, trees, S, 1), doctest::Contains("whole nodes"), std::invalid_argument);
}

TEST_CASE("collnet on one switch that sums: 2(c-1)(a_i + S/(c B_i)) + (C + 1)(l + c'/B), and paced by summing "
          "that all trees share")
{
  // 4 nodes of 4 GPUs on a star: the 4 trees share the switch, which sums 16 pieces a step
  const std::vector<double> sizes{8, 65536, 16777216, 1073741824};
  for (double R : {1e15, 100e9}) {
    const topo::ClusterParams cluster = star(4, 4, R);
    const auto step = collnet_times(cluster, sizes, ScheduleFidelity::step);
    const auto flow = collnet_times(cluster, sizes, ScheduleFidelity::flow);
    const GroupShape g = group_shape(topo::make_cluster(cluster), 16, 4);
    REQUIRE(g.collnet.size() == 4);
    CHECK(g.collnet_load == std::vector<Rank>{16});
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double S = sizes[i], C = in_network_chunks(S / 4), piece = S / 4 / C, hop = LAT + piece / BW;
      const double intra = 2 * 3 * (2 * INTRA_LAT + S / (4 * INTRA_BW));
      const double expected = intra + C * std::max(hop, 16 * piece / R) + hop;
      CAPTURE(R);
      CAPTURE(S);
      if (R > 1e14)
        CHECK(expected == test::Rel(closed_form(S, 4, 1)).epsilon(1e-12));
      CHECK(step[i] == test::Rel(expected).epsilon(1e-6));
      CHECK(predicted_seconds(Op::allreduce, Algorithm::collnet, g, S) == test::Rel(expected).epsilon(1e-12));
      CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
    }
  }
}

TEST_CASE("collnet on a fat-tree with a tree per local GPU index: contention-free, the closed form, and with one tree "
          "the leaves' uplink to spine 0 is shared, slower and within its bound")
{
  // 8 nodes of 2 GPUs, radix 8, 2 tiers: 2 nodes a leaf, 4 leaves. Two trees: GPU 0 of every node
  // through spine 0, GPU 1 through spine 1; the leaves sum for both (2 + 2 pieces a step).
  const std::vector<double> sizes{8, 65536, 16777216, 1073741824};
  const topo::ClusterParams two = clos(8, 2, 2, 1e15, 2);
  const auto step = collnet_times(two, sizes, ScheduleFidelity::step);
  const auto flow = collnet_times(two, sizes, ScheduleFidelity::flow);
  const GroupShape g = group_shape(topo::make_cluster(two), 16, 2);
  REQUIRE(g.collnet.size() == 2);
  CHECK(g.collnet[0].levels == 2);
  CHECK(g.collnet_load == std::vector<Rank>{4, 4});
  CHECK(g.collnet[1].hosts.back() == 21);  // spine 1
  const auto one = collnet_times(clos(8, 2, 2, 1e15, 1), sizes, ScheduleFidelity::step);
  const GroupShape g1 = group_shape(topo::make_cluster(clos(8, 2, 2, 1e15, 1)), 16, 2);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const double S = sizes[i];
    CAPTURE(S);
    CHECK(step[i] == test::Rel(closed_form(S, 2, 2)).epsilon(1e-6));
    CHECK(predicted_seconds(Op::allreduce, Algorithm::collnet, g, S) == test::Rel(closed_form(S, 2, 2)).epsilon(1e-12));
    CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
    // one tree: a longer run; the prediction takes the shared uplinks' half bandwidth at every
    // level, an upper bound: intra + (C + 3)(l + 2c'/B)
    const double C = in_network_chunks(S / 2), piece = S / 2 / C;
    const double shared = 2 * (2 * INTRA_LAT + S / (2 * INTRA_BW)) + (C + 3) * (LAT + 2 * piece / BW);
    CHECK(predicted_seconds(Op::allreduce, Algorithm::collnet, g1, S) == test::Rel(shared).epsilon(1e-12));
    CHECK(one[i] >= step[i] * (1 - 1e-9));
    CHECK(one[i] <= shared * (1 + 1e-9));
    MESSAGE(S << " B: two trees " << step[i] * 1e6 << " us, one tree " << one[i] * 1e6 << " us (bound " << shared * 1e6
              << " us)");
  }
  // 1 GiB: the shard's pipeline runs at half speed on the shared uplinks, near the bound
  CHECK(one.back() > 1.5 * (step.back() - 2 * (2 * INTRA_LAT + sizes.back() / (2 * INTRA_BW))));
  CHECK(one.back() == test::Rel(predicted_seconds(Op::allreduce, Algorithm::collnet, g1, sizes.back())).epsilon(0.01));
}

namespace {

/// 8 DGX-like nodes of 4 GPUs (300 GB/s NVSwitch links, a NIC per GPU) on a 2-tier radix-8
/// fat-tree of 25 GB/s, 1 us links (a node per leaf, 4 spines) whose switches sum at 10 TB/s in 4 trees;
/// `network` and `workload` merged in; an all-reduce of 1 GiB.
nlohmann::json dgx_scenario(const nlohmann::json& network, const nlohmann::json& workload)
{
  return test::merged_scenario(R"({
    "schema": 1, "name": "collnet",
    "cluster": {"nodes": 8, "gpus_per_node": 4, "nics_per_node": 4,
                "intra_node": {"fabric": "nvswitch", "link": {"bandwidth": "300GB/s", "latency": "0.5us"}},
                "network": {"topology": "fat_tree", "tiers": 2, "radix": 8,
                            "link": {"bandwidth": "25GB/s", "latency": "1us"},
                            "switch_reduction": "10TB/s", "aggregation_trees": 4}},
    "workload": {"kind": "collective", "op": "allreduce", "algorithm": "collnet",
                 "sizes": {"list": ["1GiB"]}}
  })",
                               network, workload);
}

struct Outcome {
  double seconds, nic_bytes;
  std::string algorithm;
};

Outcome run_scenario(const nlohmann::json& scenario)
{
  test::CollectiveOutcome o = test::run_collective_scenario(scenario, "collnet.json");
  return {o.seconds, o.tier_bytes["nic"], o.algorithm};
}

}  // namespace

TEST_CASE("collnet scenario on DGX-like nodes: each NIC carries S/c each way, faster than in_network and "
          "hierarchical for 1 GiB, and auto picks it")
{
  const double S = 1073741824.0, p = 32, c = 4;
  const Outcome collnet = run_scenario(dgx_scenario({}, {}));
  const Outcome flat = run_scenario(dgx_scenario({}, {{"algorithm", "in_network"}}));
  const Outcome hier = run_scenario(dgx_scenario({}, {{"algorithm", "hierarchical"}}));
  CHECK(collnet.algorithm == "collnet");
  CHECK(collnet.nic_bytes == test::Rel(2 * p * S / c).epsilon(1e-9));
  CHECK(flat.nic_bytes == test::Rel(2 * p * S).epsilon(1e-9));
  // contention-free (a tree per local index; a node per leaf, so each leaf has one child in each
  // tree and passes its GPU's pieces straight to spine l, 2 links up): H = 1, l = 2 us
  const double C = in_network_chunks(S / c), piece = S / c / C;
  const double expected = 2 * (c - 1) * (2 * INTRA_LAT + S / (c * INTRA_BW)) + (C + 1) * (2 * LAT + piece / BW);
  CHECK(collnet.seconds == test::Rel(expected).epsilon(1e-6));
  CHECK(collnet.seconds < 0.5 * flat.seconds);
  CHECK(collnet.seconds < 0.8 * hier.seconds);
  CHECK(run_scenario(dgx_scenario({}, {{"algorithm", "auto"}})).algorithm == "collnet");
  MESSAGE("1 GiB on 32 GPUs: collnet " << collnet.seconds * 1e3 << " ms, in_network " << flat.seconds * 1e3
                                       << " ms, hierarchical " << hier.seconds * 1e3 << " ms");
}

TEST_CASE("collnet and aggregation_trees scenario errors")
{
  nlohmann::json plain = dgx_scenario({}, {});
  plain["cluster"]["network"].erase("switch_reduction");
  plain["cluster"]["network"].erase("aggregation_trees");
  const std::string none = test::scenario_error(plain, "collnet.json");
  CHECK(none.find("/workload/algorithm") != std::string::npos);
  CHECK(none.find("collnet needs switches that reduce") != std::string::npos);
  nlohmann::json lone = dgx_scenario({}, {{"algorithm", "ring"}});
  lone["cluster"]["network"].erase("switch_reduction");
  const std::string trees = test::scenario_error(lone, "collnet.json");
  CHECK(trees.find("/cluster/network/aggregation_trees") != std::string::npos);
  CHECK(trees.find("expected 'switch_reduction'") != std::string::npos);
  const std::string many = test::scenario_error(dgx_scenario({{"aggregation_trees", 5}}, {}), "collnet.json");
  CHECK(many.find("/cluster/network") != std::string::npos);
  CHECK(many.find("aggregation_trees: found 5; expected 1 to 4") != std::string::npos);
  const std::string zero = test::scenario_error(dgx_scenario({{"aggregation_trees", 0}}, {}), "collnet.json");
  CHECK(zero.find("/cluster/network/aggregation_trees") != std::string::npos);
  MESSAGE(none << "\n" << trees << "\n" << many << "\n" << zero);
}
