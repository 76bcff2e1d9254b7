#include "topologies/link_presets.hpp"
#include "topologies/star.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim::topo;

namespace {
StarParams dgx_like(bool nic_per_gpu)
{
  return {3, 4, IntraFabric::nvswitch, {150e9, 0.5e-6}, {25e9, 1e-6}, nic_per_gpu};
}
int count_tier(const Topology& t, Tier tier)
{
  int n = 0;
  for (std::uint32_t e = 0; e < t.link_count(); ++e)
    n += t.link(e).tier == tier;
  return n;
}
}  // namespace

TEST_CASE("star with a NIC per node: a GPU link per GPU, a NIC per node, one switch per node plus the network switch")
{
  const Topology t = make_star(dgx_like(false));
  CHECK(t.gpu_count() == 12);
  CHECK(boost::num_vertices(t.graph()) == 12 + 3 + 1);
  CHECK(count_tier(t, Tier::intra_node) == 12);
  CHECK(count_tier(t, Tier::nic) == 3);
  CHECK(t.link_count() == 15);
}

TEST_CASE("star routes: intra-node over the node switch, inter-node through both NICs")
{
  const Topology t = make_star(dgx_like(false));
  // same node: GPU link up, GPU link down
  CHECK(t.route(0, 3).size() == 2);
  CHECK(t.route_latency_seconds(0, 3) == ddlsim::test::Rel(1e-6).epsilon(1e-15));
  CHECK(t.route_bandwidth_bytes_per_s(0, 3) == 150e9);
  // other node: GPU up, NIC up, NIC down, GPU down
  const auto hops = t.route(1, 6);
  REQUIRE(hops.size() == 4);
  CHECK(t.link(hops[0].edge).tier == Tier::intra_node);
  CHECK(t.link(hops[1].edge).tier == Tier::nic);
  CHECK(hops[1].forward);
  CHECK_FALSE(hops[2].forward);
  CHECK(hops[1].edge != hops[2].edge);
  CHECK(t.route_latency_seconds(1, 6) == ddlsim::test::Rel(3e-6).epsilon(1e-15));
  CHECK(t.route_bandwidth_bytes_per_s(1, 6) == 25e9);
  // a route back uses the same links in the other direction
  const auto back = t.route(6, 1);
  REQUIRE(back.size() == 4);
  CHECK(back[0].edge == hops[3].edge);
  CHECK(back[0].forward != hops[3].forward);
}

TEST_CASE("star with a NIC per GPU: inter-node traffic skips the node switch")
{
  const Topology t = make_star(dgx_like(true));
  CHECK(count_tier(t, Tier::nic) == 12);
  CHECK(t.route(0, 3).size() == 2);
  CHECK(t.link(t.route(0, 3)[0].edge).tier == Tier::intra_node);
  const auto hops = t.route(0, 4);
  REQUIRE(hops.size() == 2);
  CHECK(t.link(hops[0].edge).tier == Tier::nic);
  CHECK(t.route_latency_seconds(0, 4) == ddlsim::test::Rel(2e-6).epsilon(1e-15));
}

TEST_CASE("one GPU per node with its own NIC has no node switch")
{
  const Topology t = make_star({8, 1, IntraFabric::nvswitch, {0, 0}, {12.5e9, 1e-6}, true});
  CHECK(boost::num_vertices(t.graph()) == 9);
  CHECK(t.link_count() == 8);
}

TEST_CASE("bad star parameters are rejected")
{
  CHECK_THROWS_AS(make_star({0, 4, IntraFabric::pcie, {1e9, 0}, {1e9, 0}, false}), std::invalid_argument);
  CHECK_THROWS_AS(make_star({2, 4, IntraFabric::pcie, {0, 0}, {1e9, 0}, false}), std::invalid_argument);
}

TEST_CASE("link presets carry standard data rates")
{
  CHECK(find_link_preset("ib-hdr-200")->spec.bandwidth_bytes_per_s == 25e9);
  CHECK(find_link_preset("eth-100")->spec.bandwidth_bytes_per_s == 12.5e9);
  CHECK(find_link_preset("pcie-4-x16")->spec.bandwidth_bytes_per_s == ddlsim::test::Rel(31.5077e9).epsilon(1e-5));
  for (const auto& p : link_presets())
    CHECK_FALSE(p.source.empty());
}
