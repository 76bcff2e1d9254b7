// The courier transport (mailbox comms issued by an actor per host) against one-sided comms: the
// same simulated times on a contention-free star and on an oversubscribed fat-tree, and the rule
// that picks it per collective.
#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/child_process.hpp"
#include "sim_helpers.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cmath>
#include <functional>
#include <string>

using namespace ddlsim::engine;

using namespace ddlsim;
using namespace ddlsim::coll;
using namespace ddlsim::scenario;

namespace {

constexpr double BW = 25e9, LINK_LAT = 1e-6, ALPHA = 2 * LINK_LAT;

struct Run {
  std::vector<double> durations;
  std::uint64_t transfers = 0, courier_transfers = 0;
};

/// Runs `schedules` one after another on the cluster with the given courier threshold.
Run run(const topo::ClusterParams& cluster, const std::vector<Schedule>& schedules, std::uint32_t courier_min_flows)
{
  const nlohmann::json out = run_in_child([&]() -> nlohmann::json {
    const topo::Topology topology = topo::make_cluster(cluster);
    create_engine(Sharing::max_min);
    const Platform platform(topology, Sharing::max_min);
    TaskGraph graph;
    const std::vector<std::uint32_t> barriers = test::add_timed_sequence(graph, schedules);
    ExecOptions options;
    options.courier_min_flows = courier_min_flows;
    const Timeline tl = execute(graph, platform, options);
    std::vector<double> ends;
    for (std::uint32_t b : barriers)
      ends.push_back(tl.end_seconds[b]);
    return {{"ends", ends}, {"transfers", tl.transfers}, {"couriers", tl.courier_transfers}};
  });
  return {test::durations(out["ends"].get<std::vector<double>>()), out["transfers"].get<std::uint64_t>(),
          out["couriers"].get<std::uint64_t>()};
}

topo::ClusterParams star(Rank p)
{
  topo::ClusterParams c{static_cast<int>(p), 1, topo::IntraFabric::nvswitch, {0, 0}, topo::NicPlacement::per_gpu, {}};
  c.network.kind = topo::NetworkKind::star;
  c.network.link = {BW, LINK_LAT};
  return c;
}

struct Maker {
  std::string name;
  std::function<Schedule(Rank, double)> make;
};

const std::vector<Maker>& makers()
{
  static const std::vector<Maker> list{
      {"ring all-reduce (steps)",
       [](Rank p, double S) {
         return ring_allreduce(p, S, ScheduleFidelity::step);
       }},
      {"ring all-reduce (flows)",
       [](Rank p, double S) {
         return ring_allreduce(p, S, ScheduleFidelity::flow);
       }},
      {"binomial broadcast", binomial_broadcast},
      {"recursive doubling", recursive_doubling_allreduce},
      {"halving-doubling", halving_doubling_allreduce},
      {"double binary tree",
       [](Rank p, double S) {
         return double_tree_allreduce(p, S, 4);
       }},
      {"parameter server, 2 servers",
       [](Rank p, double S) {
         return ps_allreduce(p, 2, S);
       }},
      {"pairwise all-to-all", pairwise_alltoall},
      {"direct all-to-all", direct_alltoall},
      {"dissemination barrier",
       [](Rank p, double) {
         return dissemination_barrier(p);
       }},
  };
  return list;
}

}  // namespace

TEST_CASE("couriers give the one-sided comms' simulated times, every algorithm, p in {3, 6, 12, 48}, 8 B to 4 GiB")
{
  std::vector<double> sizes;
  for (double b = 8; b <= 4294967296.0; b *= 64)
    sizes.push_back(b);
  for (const Maker& m : makers()) {
    double worst = 0;
    for (Rank p : {3U, 6U, 12U, 48U}) {
      std::vector<Schedule> s;
      for (double b : sizes)
        s.push_back(m.make(p, b));
      const Run one_sided = run(star(p), s, UINT32_MAX);
      const Run couriers = run(star(p), s, 0);
      CHECK(one_sided.courier_transfers == 0);
      CHECK(couriers.courier_transfers == couriers.transfers);
      CHECK(couriers.transfers == one_sided.transfers);
      REQUIRE(couriers.durations.size() == sizes.size());
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        CAPTURE(m.name);
        CAPTURE(p);
        CAPTURE(sizes[i]);
        CHECK(couriers.durations[i] == test::Rel(one_sided.durations[i]).epsilon(1e-12));
        worst = std::max(worst, std::abs(couriers.durations[i] / one_sided.durations[i] - 1));
      }
    }
    MESSAGE(m.name << ": worst |couriers / one-sided - 1| = " << worst);
  }
}

TEST_CASE("couriers: halving-doubling meets its alpha-beta cost to 1e-6 on the contention-free star")
{
  for (Rank p : {6U, 48U}) {
    const std::vector<double> sizes{8, 1e6, 4294967296.0};
    std::vector<Schedule> s;
    for (double b : sizes)
      s.push_back(halving_doubling_allreduce(p, b));
    const Run r = run(star(p), s, 0);
    CHECK(r.courier_transfers > 0);
    const double q = std::exp2(std::floor(std::log2(p)));
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double S = sizes[i];
      const double expected = 2 * std::log2(q) * ALPHA + 2 * (q - 1) / q * S / BW + (q < p ? 2 * (ALPHA + S / BW) : 0);
      CAPTURE(p);
      CAPTURE(S);
      CHECK(r.durations[i] == test::Rel(expected).epsilon(1e-6));
    }
  }
}

TEST_CASE("couriers under contention: the same times as one-sided comms on a 2:1 oversubscribed fat-tree")
{
  // 8 nodes x 8 GPUs, NVSwitch inside, a NIC per GPU on a 2-tier fat-tree of radix 12 at 2:1.
  topo::NetworkParams n{};
  n.kind = topo::NetworkKind::fat_tree;
  n.clos = {2, 12, 2, topo::ClosRouting::d_mod_k, 1, {BW, LINK_LAT}};
  const topo::ClusterParams cluster{8, 8, topo::IntraFabric::nvswitch, {300e9, 0.5e-6}, topo::NicPlacement::per_gpu, n};
  const GroupShape shape{64, 8, 0, 1, 0, 1};
  for (auto a : {Algorithm::halving_doubling, Algorithm::recursive_doubling, Algorithm::double_tree, Algorithm::ring}) {
    std::vector<Schedule> s;
    for (double bytes : {1e6, 64e6, 1e9})
      s.push_back(make_schedule(Op::allreduce, a, shape, bytes, ScheduleFidelity::flow));
    const Run one_sided = run(cluster, s, UINT32_MAX), couriers = run(cluster, s, 0);
    for (std::size_t i = 0; i < s.size(); ++i) {
      CAPTURE(to_string(a));
      CAPTURE(i);
      CHECK(couriers.durations[i] == test::Rel(one_sided.durations[i]).epsilon(1e-9));
    }
  }
}

TEST_CASE("couriers are chosen per collective: several steps and one of at least courier_min_flows transfers, or "
          "one step of 16 times that")
{
  const Rank p = 48;
  // halving-doubling: 2 log2(32) steps of 32 transfers plus the fold of the 16 others; ring in
  // flow form: one step of 48 flows.
  const std::vector<Schedule> hd{halving_doubling_allreduce(p, 1e6)};
  const std::vector<Schedule> ring{ring_allreduce(p, 1e6, ScheduleFidelity::flow)};
  std::size_t widest = 0;
  for (std::size_t k = 0; k < hd[0].steps(); ++k)
    widest = std::max(widest, hd[0].step(k).size());
  CHECK(run(star(p), hd, static_cast<std::uint32_t>(widest)).courier_transfers > 0);
  CHECK(run(star(p), hd, static_cast<std::uint32_t>(widest + 1)).courier_transfers == 0);
  CHECK(ring[0].steps() == 1);
  CHECK(run(star(p), ring, 4).courier_transfers == 0);  // one step of 48 < 16 x 4: one-sided comms
  CHECK(run(star(p), ring, 0).courier_transfers == 48);
  // a direct all-to-all: one step of p(p-1) = 2,256 flows, couriers from a threshold of 2,256 / 16 down
  const std::vector<Schedule> a2a{direct_alltoall(p, 1e6)};
  REQUIRE(a2a[0].steps() == 1);
  CHECK(run(star(p), a2a, 2256 / 16).courier_transfers == 2256);
  CHECK(run(star(p), a2a, 2256 / 16 + 1).courier_transfers == 0);
}
