#include "topologies/clos.hpp"
#include "topologies/metrics.hpp"
#include "topology_test_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim;
using namespace ddlsim::topo;

TEST_CASE("k-ary fat-tree (Al-Fares 2008): k^3/4 hosts, 5k^2/4 switches, k^3/4 links per tier")
{
  for (int k : {4, 8, 16, 48}) {
    CAPTURE(k);
    const int hosts = k * k * k / 4;
    const Topology t = make_cluster(test::single_gpu_nodes(hosts, test::clos(3, k, 1)));
    const TopologyMetrics m = measure(t, 0);
    CHECK(m.gpus == static_cast<std::size_t>(hosts));
    CHECK(m.switches == static_cast<std::size_t>(5 * k * k / 4));
    CHECK(m.links_per_tier.at(Tier::nic) == static_cast<std::size_t>(hosts));
    CHECK(m.links_per_tier.at(Tier::leaf_spine) == static_cast<std::size_t>(hosts));
    CHECK(m.links_per_tier.at(Tier::spine_core) == static_cast<std::size_t>(hosts));
  }
}

TEST_CASE("2-tier Clos with oversubscription: leaf ports split radix*r/(r+1) down, the rest up")
{
  // radix 12 at 2:1: 8 hosts and 4 uplinks per leaf, 12 leaves, 4 spines.
  const Topology t = make_cluster(test::single_gpu_nodes(96, test::clos(2, 12, 2)));
  const TopologyMetrics m = measure(t, 0);
  CHECK(m.switches == 12 + 4);
  CHECK(m.links_per_tier.at(Tier::leaf_spine) == 12 * 4);
  // radix 16 at 3:1: 12 down, 4 up
  const ClosShape s = clos_shape({2, 16, 3, ClosRouting::d_mod_k, 1, {1, 0}}, 5);
  CHECK(s.down == 12);
  CHECK(s.up == 4);
  CHECK(s.spines == 4);
}

TEST_CASE("3-tier Clos with 3:1 oversubscription: pods of radix/2 leaves, `up` aggregation switches each")
{
  // radix 8 at 3:1: 6 hosts, 2 uplinks per leaf; 4 leaves and 2 aggregation switches per pod;
  // 2 core groups of 4. 48 hosts -> 8 leaves -> 2 pods.
  const Topology t = make_cluster(test::single_gpu_nodes(48, test::clos(3, 8, 3)));
  const TopologyMetrics m = measure(t, 0);
  CHECK(m.switches == 8 + 2 * 2 + 2 * 4);
  CHECK(m.links_per_tier.at(Tier::leaf_spine) == 8 * 2);
  CHECK(m.links_per_tier.at(Tier::spine_core) == 2 * 2 * 4);
  CHECK(m.diameter_links == 6);
  test::check_all_routes(t);
}

TEST_CASE("fat-tree bisection bandwidth: N/2 * B at 1:1, N/4 * B at 2:1")
{
  const double B = 25e9;
  // 1:1, radix 8: 4 down, 4 up; 8 leaves -> 32 hosts.
  const Topology full = make_cluster(test::single_gpu_nodes(32, test::clos(2, 8, 1)));
  CHECK(bisection_bandwidth(full) == test::Rel(32 / 2 * B).epsilon(1e-12));
  // 2:1, radix 12: 8 down, 4 up; 12 leaves -> 96 hosts.
  const Topology half = make_cluster(test::single_gpu_nodes(96, test::clos(2, 12, 2)));
  CHECK(bisection_bandwidth(half) == test::Rel(96 / 4 * B).epsilon(1e-12));
  // 3-tier k = 8 fat-tree, 128 hosts: N/2 * B
  const Topology three = make_cluster(test::single_gpu_nodes(128, test::clos(3, 8, 1)));
  CHECK(bisection_bandwidth(three) == test::Rel(128 / 2 * B).epsilon(1e-12));
}

TEST_CASE("fat-tree routes are paths: 2 links within a leaf, 4 across leaves, 6 across pods")
{
  const Topology t = make_cluster(test::single_gpu_nodes(16, test::clos(3, 4, 1)));
  test::check_all_routes(t);
  CHECK(t.route(0, 1).size() == 2);
  CHECK(t.route(0, 2).size() == 4);
  CHECK(t.route(0, 4).size() == 6);
  const Topology e = make_cluster(test::single_gpu_nodes(16, test::clos(3, 4, 1, ClosRouting::ecmp)));
  test::check_all_routes(e);
}

TEST_CASE("d-mod-k: flows to one destination share one path - flows to a leaf's hosts use distinct spines")
{
  const Topology t = make_cluster(test::single_gpu_nodes(32, test::clos(2, 8, 1)));
  // destination 20 (leaf 5): every source takes spine 20 mod 4 = 0
  const auto via = [&](std::uint32_t a, std::uint32_t b) {
    return t.route(a, b)[1].edge;
  };
  const auto spine_link_name = [&](std::uint32_t a, std::uint32_t b) {
    return t.link_ends(via(a, b)).second;
  };
  CHECK(spine_link_name(0, 20) == "spine0");
  CHECK(spine_link_name(9, 20) == "spine0");
  CHECK(spine_link_name(0, 21) == "spine1");
  CHECK(spine_link_name(0, 23) == "spine3");
}

TEST_CASE("rail-optimized: GPU i of every node of a group shares the rail-i leaf")
{
  NetworkParams n = test::clos(2, 16, 1);
  n.kind = NetworkKind::rail_optimized;
  const ClusterParams p{16, 4, IntraFabric::nvswitch, {300e9, 0.5e-6}, NicPlacement::per_gpu, n};
  const Topology t = make_cluster(p);
  test::check_all_routes(t);
  // nodes 0..7 form group 0 (8 down ports per leaf): GPU 1 of node 0 and of node 5 meet at one leaf
  CHECK(t.route(0 * 4 + 1, 5 * 4 + 1).size() == 2);
  // different rails go through a spine
  CHECK(t.route(0 * 4 + 1, 5 * 4 + 2).size() == 4);
  // same node stays on NVSwitch
  CHECK(t.link(t.route(0, 1)[0].edge).tier == Tier::intra_node);
  const TopologyMetrics m = measure(t, 0);
  CHECK(m.switches == 16 + 2 * 4 + 8);  // node switches, 2 groups x 4 rails, 8 spines

  ClusterParams per_node = p;
  per_node.nics = NicPlacement::per_node;
  CHECK_THROWS_WITH_AS(validate(per_node), doctest::Contains("needs a NIC per GPU"), std::invalid_argument);
}

TEST_CASE("Clos parameters that cannot be built are rejected with the reason")
{
  CHECK_THROWS_WITH_AS(validate(test::single_gpu_nodes(100, test::clos(2, 8, 1))),
                       doctest::Contains("at most 8 leaves"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(test::single_gpu_nodes(8, test::clos(2, 8, 2))),
                       doctest::Contains("whole numbers of down and up ports"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(test::single_gpu_nodes(8, test::clos(2, 7, 1))), doctest::Contains("radix"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(test::single_gpu_nodes(200, test::clos(3, 4, 1))), doctest::Contains("at most 4 pods"),
                       std::invalid_argument);
}

TEST_CASE("multi-plane Clos: every NIC has a port per plane, flows are spread over the planes")
{
  NetworkParams n = test::clos(2, 8, 1);
  n.clos.planes = 2;
  const Topology t = make_cluster(test::single_gpu_nodes(32, n));
  const TopologyMetrics m = measure(t, 0);
  CHECK(m.switches == 2 * (8 + 4));
  CHECK(m.links_per_tier.at(Tier::nic) == 2 * 32);
  CHECK(m.injection_bytes_per_s == test::Rel(2 * 25e9).epsilon(1e-12));
  CHECK(bisection_bandwidth(t) == test::Rel(2 * 32 / 2 * 25e9).epsilon(1e-12));
  test::check_all_routes(t);
  // d-mod-k: even destinations on plane 0, odd ones on plane 1
  CHECK(t.link_ends(t.route(0, 20)[0].edge).second == "plane0-leaf0");
  CHECK(t.link_ends(t.route(0, 21)[0].edge).second == "plane1-leaf0");
}
