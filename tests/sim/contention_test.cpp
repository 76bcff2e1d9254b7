// Contention on real topologies: the reason to simulate rather than use formulas.
#include "sim/collectives/registry.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/engine/executor.hpp"
#include "sim/engine/platform.hpp"
#include "sim_helpers.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

using namespace ddlsim;

namespace {

constexpr double B = 25e9, LAT = 1e-6, BYTES = 1e9;

topo::ClusterParams clos_cluster(int gpus, int radix, double oversubscription, topo::ClosRouting routing)
{
  topo::NetworkParams n{};
  n.kind = topo::NetworkKind::fat_tree;
  n.clos = {2, radix, oversubscription, routing, 7, {B, LAT}};
  return {gpus, 1, topo::IntraFabric::nvswitch, {0, 0}, topo::NicPlacement::per_gpu, n};
}

/// One step in which GPU i sends BYTES to perm[i]; returns its duration.
double permutation_time(const topo::ClusterParams& cluster, const std::vector<std::uint32_t>& perm)
{
  const nlohmann::json out = run_in_child([&]() -> nlohmann::json {
    const topo::Topology t = topo::make_cluster(cluster);
    create_engine(Sharing::max_min);
    const Platform platform(t, Sharing::max_min);
    TaskGraph g;
    coll::Schedule s(static_cast<coll::Rank>(perm.size()));
    std::vector<coll::Transfer> step;
    for (std::uint32_t i = 0; i < perm.size(); ++i)
      if (perm[i] != i)
        step.push_back({i, perm[i], BYTES, 1});
    s.add_step(step);
    std::vector<std::uint32_t> ranks(perm.size());
    std::iota(ranks.begin(), ranks.end(), 0U);
    g.add_collective(s, ranks, "permutation");
    return execute(g, platform).makespan_seconds;
  });
  return out.get<double>();
}

}  // namespace

TEST_CASE("a permutation across the spine takes twice as long at 2:1 oversubscription as at 1:1")
{
  // Two leaves of 4 hosts each; every host of leaf 0 sends to one of leaf 1 and back.
  // 1:1 radix 8 has 4 uplinks per leaf, 2:1 radix 6 has 2.
  const std::vector<std::uint32_t> swap{4, 5, 6, 7, 0, 1, 2, 3};
  const double alpha = 4 * LAT;  // NIC, uplink, downlink, NIC
  const double full = permutation_time(clos_cluster(8, 8, 1, topo::ClosRouting::d_mod_k), swap);
  const double over = permutation_time(clos_cluster(8, 6, 2, topo::ClosRouting::d_mod_k), swap);
  CHECK(full == test::Rel(alpha + BYTES / B).epsilon(1e-9));
  CHECK(over == test::Rel(alpha + 2 * BYTES / B).epsilon(1e-9));
  CHECK((over - alpha) / (full - alpha) == test::Rel(2.0).epsilon(1e-9));
}

TEST_CASE("failed links between switches: routes take the next uplink that is up, and crowd it")
{
  // 2 leaves of 4 hosts under 4 spines (radix 8, 1:1); d-mod-k sends the flow to host b through
  // spine b mod 4, so the swap uses every spine once each way. With leaf0-spine1 and
  // leaf0-spine2 down, the flows to hosts 1, 2, 5 and 6 move to spine 3: three flows share each
  // direction of its links.
  const std::vector<std::uint32_t> swap{4, 5, 6, 7, 0, 1, 2, 3};
  const double alpha = 4 * LAT;
  topo::ClusterParams cluster = clos_cluster(8, 8, 1, topo::ClosRouting::d_mod_k);
  cluster.network.clos.failed_links = {"leaf0-spine1", "leaf0-spine2"};
  CHECK(permutation_time(cluster, swap) == test::Rel(alpha + 3 * BYTES / B).epsilon(1e-9));
  const topo::Topology t = topo::make_cluster(cluster);
  const std::vector<topo::Hop> route = t.route(1, 5);
  REQUIRE(route.size() == 4);
  CHECK(t.link(route[1].edge).name == "leaf0-spine3");
  CHECK(t.link(route[2].edge).name == "leaf1-spine3");
  // Three tiers: a failed core link moves the flow to the next core of the same group.
  topo::ClusterParams three = cluster;
  three.network.clos = {3, 4, 1, topo::ClosRouting::d_mod_k, 7, {B, LAT}};
  three.nodes = 8;  // radix 4: pods of 2 leaves of 2 hosts, 2 aggregation switches, cores 2 x 2
  const topo::Topology before = topo::make_cluster(three);
  const std::vector<topo::Hop> usual = before.route(0, 4);
  REQUIRE(usual.size() == 6);
  const std::string core_link = before.link(usual[2].edge).name;
  three.network.clos.failed_links = {core_link};
  const topo::Topology after = topo::make_cluster(three);
  const std::vector<topo::Hop> moved = after.route(0, 4);
  REQUIRE(moved.size() == 6);
  CHECK(after.link(moved[2].edge).name != core_link);
  CHECK(after.link(moved[1].edge).name == before.link(usual[1].edge).name);  // same aggregation switch
  // Cutting a leaf off, a NIC, or an unknown name: errors that say so.
  cluster.network.clos.failed_links = {"leaf0-spine0", "leaf0-spine1", "leaf0-spine2", "leaf0-spine3"};
  CHECK_THROWS_WITH_AS(topo::make_cluster(cluster),
                       doctest::Contains("failed_links: no path is left between leaf0 and leaf1"),
                       std::invalid_argument);
  cluster.network.clos.failed_links = {"node0-gpu0-nic"};
  CHECK_THROWS_WITH_AS(topo::make_cluster(cluster),
                       doctest::Contains("'node0-gpu0-nic' is not a link between two switches of this network"),
                       std::invalid_argument);
}

TEST_CASE("on a torus, a ring along one dimension is contention-free - a badly mapped ring is not")
{
  topo::NetworkParams n{};
  n.kind = topo::NetworkKind::torus;
  n.torus = {{4, 4}, {B, LAT}};
  const topo::ClusterParams torus{16, 1, topo::IntraFabric::nvswitch, {0, 0}, topo::NicPlacement::per_gpu, n};
  // The row y = 0 holds ranks 0, 4, 8, 12 (dimension 0 varies slowest).
  auto ring = [](std::vector<std::uint32_t> order) {
    std::vector<std::uint32_t> perm(16);
    std::iota(perm.begin(), perm.end(), 0U);
    for (std::size_t i = 0; i < order.size(); ++i)
      perm[order[i]] = order[(i + 1) % order.size()];
    return perm;
  };
  const double good = permutation_time(torus, ring({0, 4, 8, 12}));
  const double bad = permutation_time(torus, ring({0, 8, 4, 12}));
  // good: NIC, one torus link, NIC for every hop; each torus link carries one flow
  CHECK(good == test::Rel(3 * LAT + BYTES / B).epsilon(1e-9));
  // bad: 0->8 and 4->12 both cross the link from x=1 to x=2 in the same direction
  CHECK(bad >= 2 * BYTES / B);
}

/// Most flows that any directed link carries when GPU i sends to perm[i].
std::size_t max_link_load(const topo::ClusterParams& cluster, const std::vector<std::uint32_t>& perm)
{
  const topo::Topology t = topo::make_cluster(cluster);
  std::vector<std::size_t> load(2 * t.link_count(), 0);
  std::size_t most = 0;
  for (std::uint32_t i = 0; i < perm.size(); ++i)
    if (perm[i] != i)
      for (const topo::Hop& h : t.route(i, perm[i]))
        most = std::max(most, ++load[2 * h.edge + (h.forward ? 0 : 1)]);
  return most;
}

TEST_CASE("ECMP and d-mod-k on a 1:1 fat-tree: a random permutation takes alpha + L_max * S / B")
{
  // 2-tier, radix 16: 16 leaves of 8 hosts, 8 spines, 128 hosts. With equal flows under max-min
  // sharing, the flows of the most loaded link (L_max flows) finish last, at alpha + L_max * S/B.
  // Hash collisions (ECMP) and destination-based sharing of uplinks (d-mod-k) make L_max > 1,
  // as on real fabrics without adaptive routing.
  std::vector<std::uint32_t> perm(128);
  std::iota(perm.begin(), perm.end(), 0U);
  std::mt19937 rng(2026);
  std::shuffle(perm.begin(), perm.end(), rng);
  const double alpha = 4 * LAT, ideal = alpha + BYTES / B;
  for (auto routing : {topo::ClosRouting::ecmp, topo::ClosRouting::d_mod_k}) {
    const topo::ClusterParams cluster = clos_cluster(128, 16, 1, routing);
    const std::size_t load = max_link_load(cluster, perm);
    const double time = permutation_time(cluster, perm);
    MESSAGE(std::string(routing == topo::ClosRouting::ecmp ? "ECMP" : "d-mod-k")
            << ": most loaded link carries " << load << " flows; " << time / ideal << "x the contention-free time");
    CHECK(load > 1);
    CHECK(time == test::Rel(alpha + double(load) * BYTES / B).epsilon(1e-9));
    CHECK(time < 6 * ideal);  // the factor bench/README.md and the closing note document
  }
}

TEST_CASE("flow fidelity agrees with step fidelity within 5% on a 2:1 oversubscribed fat-tree")
{
  // 8 nodes x 8 GPUs, NVSwitch inside, a NIC per GPU on a 2-tier fat-tree of radix 12 at 2:1.
  topo::NetworkParams n{};
  n.kind = topo::NetworkKind::fat_tree;
  n.clos = {2, 12, 2, topo::ClosRouting::d_mod_k, 1, {B, LAT}};
  const topo::ClusterParams cluster{8, 8, topo::IntraFabric::nvswitch, {300e9, 0.5e-6}, topo::NicPlacement::per_gpu, n};
  const coll::GroupShape shape{64, 8, 0, 1, 0, 1};
  const std::vector<double> sizes{1e6, 64e6, 1e9};
  auto run = [&](coll::Algorithm a, coll::ScheduleFidelity f) {
    return test::durations(test::simulate_in_child(cluster, [&](TaskGraph& g) {
      std::vector<coll::Schedule> s;
      for (double bytes : sizes)
        s.push_back(coll::make_schedule(coll::Op::allreduce, a, shape, bytes, f));
      return test::add_timed_sequence(g, s);
    }));
  };
  for (auto a : {coll::Algorithm::ring, coll::Algorithm::hierarchical}) {
    const auto step = run(a, coll::ScheduleFidelity::step);
    const auto flow = run(a, coll::ScheduleFidelity::flow);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double diff = flow[i] / step[i] - 1;
      MESSAGE(std::string(coll::to_string(a))
              << " all-reduce of " << sizes[i] << " B on a 2:1 fat-tree: step " << step[i] * 1e3 << " ms, flow "
              << flow[i] * 1e3 << " ms, flow/step - 1 = " << diff);
      CHECK(std::abs(diff) < 0.05);
    }
  }
}
