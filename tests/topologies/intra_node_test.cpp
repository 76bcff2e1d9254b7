#include "sim/engine/child_process.hpp"
#include "sim/engine/executor.hpp"
#include "sim/engine/platform.hpp"
#include "topologies/metrics.hpp"
#include "topology_test_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <numeric>
#include <utility>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

using namespace ddlsim;
using namespace ddlsim::topo;

namespace {
const LinkSpec PCIE{25e9, 1e-6}, UPLINK{20e9, 0.5e-6}, NIC{12.5e9, 1e-6};

/// Nodes of `gpus` GPUs on direct NVLink links (ring or mesh), each GPU with its NIC on a star.
ClusterParams direct_nvlink(IntraFabric fabric, int nodes, int gpus, double bandwidth)
{
  ClusterParams p{nodes, gpus, fabric, {bandwidth, 0.5e-6}, NicPlacement::per_gpu, {}};
  p.network.kind = NetworkKind::star;
  p.network.link = NIC;
  return p;
}

ClusterParams pcie_nodes(int nodes, NicPlacement nics)
{
  ClusterParams p{nodes, 8, IntraFabric::pcie, PCIE, nics, {}, 4, UPLINK};
  p.network.kind = NetworkKind::star;
  p.network.link = NIC;
  return p;
}
}  // namespace

TEST_CASE("pcie: GPUs under two PCIe switches meet at the root complex")
{
  const Topology t = make_cluster(pcie_nodes(2, NicPlacement::per_node));
  test::check_all_routes(t);
  CHECK(t.route(0, 3).size() == 2);  // same PCIe switch
  CHECK(t.route(0, 4).size() == 4);  // GPU, uplink, uplink, GPU
  CHECK(t.route_bandwidth_bytes_per_s(0, 4) == 20e9);
  // to another node: GPU, uplink to the root complex (the NIC's place), NIC, NIC, uplink, GPU
  CHECK(t.route(0, 12).size() == 6);
  const TopologyMetrics m = measure(t);
  CHECK(m.switches == 2 * (2 + 1) + 1);  // two PCIe switches and a root complex per node, the star
  CHECK(m.links_per_tier.at(Tier::intra_node) == 2 * (8 + 2));
}

TEST_CASE("pcie with a NIC per PCIe switch: inter-node traffic skips the root complex")
{
  const Topology t = make_cluster(pcie_nodes(2, NicPlacement::per_pcie_switch));
  test::check_all_routes(t);
  CHECK(t.route(0, 12).size() == 4);  // GPU, NIC of switch 0, NIC of node 1's switch 1, GPU
  CHECK(measure(t).links_per_tier.at(Tier::nic) == 4);
}

TEST_CASE("nvlink_ring: the shorter way round, one link for two GPUs, and a NIC per GPU required")
{
  const ClusterParams p = direct_nvlink(IntraFabric::nvlink_ring, 2, 8, 50e9);
  const Topology t = make_cluster(p);
  test::check_all_routes(t);
  CHECK(t.route(0, 1).size() == 1);
  CHECK(t.route(0, 7).size() == 1);  // wrap-around
  CHECK(t.route(1, 5).size() == 4);
  CHECK(t.route(2, 7).size() == 3);  // backwards through 1, 0
  CHECK(measure(t).links_per_tier.at(Tier::intra_node) == 16);
  ClusterParams two = p;
  two.gpus_per_node = 2;
  CHECK(measure(make_cluster(two)).links_per_tier.at(Tier::intra_node) == 2);
  test::check_all_routes(make_cluster(two));
  ClusterParams shared = p;
  shared.nics = NicPlacement::per_node;
  CHECK_THROWS_WITH_AS(validate(shared), doctest::Contains("no switch to share a NIC"), std::invalid_argument);
}

TEST_CASE("GPUs of one PCIe switch sending across the root complex share their uplink")
{
  // GPUs 0 and 1 (switch 0) send to GPUs 4 and 5 (switch 1) at once: both cross the 20 GB/s uplinks.
  const double bytes = 1e9;
  const nlohmann::json out = run_in_child([&]() -> nlohmann::json {
    const Topology t = make_cluster(pcie_nodes(1, NicPlacement::per_node));
    create_engine(Sharing::max_min);
    const Platform platform(t, Sharing::max_min);
    TaskGraph g;
    coll::Schedule s(8);
    s.add_step({{0, 4, bytes, 1}, {1, 5, bytes, 1}});
    std::vector<std::uint32_t> ranks(8);
    std::iota(ranks.begin(), ranks.end(), 0U);
    g.add_collective(s, ranks, "cross");
    return execute(g, platform).makespan_seconds;
  });
  CHECK(out.get<double>() == test::Rel(2 * 1e-6 + 2 * 0.5e-6 + 2 * bytes / 20e9).epsilon(1e-9));
}

TEST_CASE("nvlink_mesh: DGX-1 hybrid cube-mesh of 8 GPUs, 16 links, at most 2 links between GPUs")
{
  const ClusterParams p = direct_nvlink(IntraFabric::nvlink_mesh, 1, 8, 25e9);
  const Topology t = make_cluster(p);
  test::check_all_routes(t);
  const TopologyMetrics m = measure(t);
  CHECK(m.links_per_tier.at(Tier::intra_node) == 6 + 6 + 4);
  CHECK(t.route(0, 3).size() == 1);  // same quad
  CHECK(t.route(1, 5).size() == 1);  // partners
  CHECK(t.route(1, 6).size() == 2);  // 1 -> 2 -> 6
  CHECK(m.diameter_links == 2);
  ClusterParams four = p;
  four.gpus_per_node = 4;
  CHECK(measure(make_cluster(four)).links_per_tier.at(Tier::intra_node) == 6);
  ClusterParams six = p;
  six.gpus_per_node = 6;
  CHECK_THROWS_WITH_AS(validate(six), doctest::Contains("hybrid cube-mesh"), std::invalid_argument);
}

TEST_CASE("routes to and from an aggregating star switch are paths, through the node's PCIe and root complex")
{
  for (NicPlacement nics : {NicPlacement::per_node, NicPlacement::per_pcie_switch, NicPlacement::per_gpu}) {
    ClusterParams p = pcie_nodes(2, nics);
    p.network.switch_reduce_bytes_per_s = 1e12;
    const Topology t = make_cluster(p);
    REQUIRE(t.aggregator_count() == 1);
    const auto agg = static_cast<std::uint32_t>(t.gpu_count());
    for (std::uint32_t gpu = 0; gpu < t.gpu_count(); ++gpu)
      for (auto [from, to] : {std::pair{gpu, agg}, std::pair{agg, gpu}}) {
        topo::Vertex at = t.host(from);
        for (const Hop& h : t.route(from, to)) {
          REQUIRE(at == (h.forward ? t.link_source(h.edge) : t.link_target(h.edge)));
          at = h.forward ? t.link_target(h.edge) : t.link_source(h.edge);
        }
        CHECK(at == t.host(to));
      }
    // NIC per node with two PCIe switches: GPU link, uplink to the root complex, NIC
    if (nics == NicPlacement::per_node)
      CHECK(t.route(0, agg).size() == 3);
  }
}
