#include "topologies/metrics.hpp"
#include "topology_test_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim;
using namespace ddlsim::topo;

namespace {
NetworkParams torus(std::vector<int> dims, double bandwidth = 50e9)
{
  NetworkParams n{};
  n.kind = NetworkKind::torus;
  n.torus = {std::move(dims), {bandwidth, 1e-6}};
  return n;
}
NetworkParams dragonfly(int groups, int routers, int hosts, int global)
{
  NetworkParams n{};
  n.kind = NetworkKind::dragonfly;
  n.dragonfly = {groups, routers, hosts, global, {25e9, 1e-6}};
  return n;
}
}  // namespace

TEST_CASE("torus: n-dimensional wrap-around links, one per vertex per dimension (one for size 2, none for 1)")
{
  const Topology t = make_cluster(test::single_gpu_nodes(64, torus({4, 4, 4})));
  const TopologyMetrics m = measure(t);
  CHECK(m.switches == 64);
  CHECK(m.links_per_tier.at(Tier::torus) == 3 * 64);
  const Topology small = make_cluster(test::single_gpu_nodes(8, torus({2, 4, 1})));
  CHECK(measure(small).links_per_tier.at(Tier::torus) == 4 + 8);
  test::check_all_routes(small);
}

TEST_CASE("torus diameter: sum of floor(k/2) over dimensions, plus the two NIC links")
{
  const Topology t = make_cluster(test::single_gpu_nodes(128, torus({8, 4, 4})));
  CHECK(measure(t).diameter_links == 4 + 2 + 2 + 2);
  test::check_all_routes(t);
  const Topology odd = make_cluster(test::single_gpu_nodes(35, torus({5, 7})));
  CHECK(measure(odd).diameter_links == 2 + 3 + 2);
  test::check_all_routes(odd);
}

TEST_CASE("torus bisection: 2 * N / k0 links across the largest (first) dimension")
{
  const double B = 50e9;
  const Topology t = make_cluster(test::single_gpu_nodes(128, torus({8, 4, 4}, B)));
  CHECK(bisection_bandwidth(t) == test::Rel(2 * (128 / 8) * B).epsilon(1e-12));
  const Topology two = make_cluster(test::single_gpu_nodes(32, torus({2, 4, 4}, B)));
  CHECK(bisection_bandwidth(two) == test::Rel(16 * B).epsilon(1e-12));  // size 2: one link per pair
}

TEST_CASE("torus routing is dimension-order: dimension 0 first, the short way round")
{
  const Topology t = make_cluster(test::single_gpu_nodes(16, torus({4, 4})));
  // (0,0) -> (3,1): dimension 0 one step back (wrap), then dimension 1 one step forward
  const auto hops = t.route(0, 3 * 4 + 1);
  REQUIRE(hops.size() == 4);
  CHECK(t.link_ends(hops[1].edge).first == "torus(3,0)");
  CHECK_FALSE(hops[1].forward);
  CHECK(t.link_ends(hops[2].edge).first == "torus(3,0)");
  CHECK(hops[2].forward);
  CHECK_THROWS_WITH_AS(validate(test::single_gpu_nodes(10, torus({4, 4}))), doctest::Contains("dims"),
                       std::invalid_argument);
}

TEST_CASE("dragonfly: a(a-1)/2 local links per group, one global link per group pair, diameter 5 links")
{
  const int G = 9, a = 4, p = 2, h = 2;
  const Topology t = make_cluster(test::single_gpu_nodes(G * a * p, dragonfly(G, a, p, h)));
  const TopologyMetrics m = measure(t);
  CHECK(m.switches == static_cast<std::size_t>(G * a));
  CHECK(m.links_per_tier.at(Tier::local) == static_cast<std::size_t>(G * a * (a - 1) / 2));
  CHECK(m.links_per_tier.at(Tier::global) == static_cast<std::size_t>(G * (G - 1) / 2));
  CHECK(m.diameter_links == 5);  // NIC, local, global, local, NIC
  test::check_all_routes(t);
  CHECK_THROWS_WITH_AS(validate(test::single_gpu_nodes(8, dragonfly(10, 2, 1, 2))),
                       doctest::Contains("cannot reach the other 9 groups"), std::invalid_argument);
}

TEST_CASE("custom network: shortest paths that never cross another NIC")
{
  NetworkParams n{};
  n.kind = NetworkKind::custom;
  const LinkSpec l{10e9, 1e-6};
  // nic0 - s0 - s1 - nic2, and a shortcut through nic1 that must not be taken.
  n.custom = {{"s0", "s1"},
              {{"nic0", "s0", l}, {"nic1", "s0", l}, {"nic1", "s1", l}, {"s0", "s1", l}, {"nic2", "s1", l}}};
  const Topology t = make_cluster(test::single_gpu_nodes(3, n));
  test::check_all_routes(t);
  CHECK(t.route(0, 2).size() == 3);
  CHECK(t.route(0, 1).size() == 2);
  NetworkParams bad = n;
  bad.custom.links.push_back({"nic0", "s9", l});
  CHECK_THROWS_WITH_AS(make_cluster(test::single_gpu_nodes(3, bad)), doctest::Contains("unknown vertex 's9'"),
                       std::invalid_argument);
  NetworkParams cut = n;
  cut.custom.links.pop_back();
  CHECK_THROWS_WITH_AS(make_cluster(test::single_gpu_nodes(3, cut)), doctest::Contains("nic2 cannot reach nic0"),
                       std::invalid_argument);
}
