#include "sim/collectives/ring.hpp"
#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cmath>
using namespace ddlsim::scenario;
using namespace ddlsim::engine;

using namespace ddlsim;
using coll::ScheduleFidelity;

namespace {
constexpr double BW = 25e9;        // bytes/s per NIC link
constexpr double LINK_LAT = 1e-6;  // per link; a route has two links
constexpr double ALPHA = 2 * LINK_LAT;

std::vector<double> sizes_1kib_to_1gib()
{
  std::vector<double> s;
  for (double b = 1024; b <= 1073741824.0; b *= 2)
    s.push_back(b);
  return s;
}

double ring_formula(int p, double bytes)
{
  return 2.0 * (p - 1) * (ALPHA + bytes / (p * BW));
}

std::vector<double> simulate_ring(int p, const std::vector<double>& sizes, ScheduleFidelity f)
{
  return test::durations(test::simulate_in_child(test::flat_star(p, BW, LINK_LAT), [&](TaskGraph& g) {
    std::vector<coll::Schedule> schedules;
    for (double b : sizes)
      schedules.push_back(coll::ring_allreduce(static_cast<coll::Rank>(p), b, f));
    return test::add_timed_sequence(g, schedules);
  }));
}
}  // namespace

TEST_CASE("ring all-reduce schedule: 2(p-1) steps of p transfers of S/p - each rank sends 2(p-1)/p * S")
{
  for (coll::Rank p : {2U, 3U, 8U, 12U}) {
    const double S = 1e6;
    const coll::Schedule s = coll::ring_allreduce(p, S, ScheduleFidelity::step);
    CHECK(s.steps() == 2 * (p - 1));
    CHECK(s.transfer_count() == 2 * (p - 1) * p);
    for (coll::Rank r = 0; r < p; ++r) {
      CHECK(s.bytes_sent_by(r) == test::Rel(2.0 * (p - 1) / p * S).epsilon(1e-12));
      CHECK(s.bytes_received_by(r) == test::Rel(2.0 * (p - 1) / p * S).epsilon(1e-12));
    }
    for (const coll::Transfer& t : s.step(0))
      CHECK(t.dst == (t.src + 1) % p);
    const coll::Schedule flow = coll::ring_allreduce(p, S, ScheduleFidelity::flow);
    CHECK(flow.steps() == 1);
    CHECK(flow.step(0)[0].messages == 2 * (p - 1));
    CHECK(flow.bytes_sent_by(0) == test::Rel(s.bytes_sent_by(0)).epsilon(1e-12));
  }
  CHECK(coll::ring_allreduce(1, 1e6, ScheduleFidelity::step).steps() == 0);
  CHECK_THROWS_AS(coll::ring_allreduce(0, 1, ScheduleFidelity::step), std::invalid_argument);
}

TEST_CASE("ring all-reduce matches 2(p-1)(alpha + S/(pB)) to 1e-6 at step fidelity, 1 KiB..1 GiB, p in {2,3,8,64}")
{
  const auto sizes = sizes_1kib_to_1gib();
  for (int p : {2, 3, 8, 64}) {
    const auto step = simulate_ring(p, sizes, ScheduleFidelity::step);
    const auto flow = simulate_ring(p, sizes, ScheduleFidelity::flow);
    REQUIRE(step.size() == sizes.size());
    double worst_step = 0, worst_flow_vs_step = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double expected = ring_formula(p, sizes[i]);
      CAPTURE(p);
      CAPTURE(sizes[i]);
      CHECK(step[i] == test::Rel(expected).epsilon(1e-6));
      CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
      worst_step = std::max(worst_step, std::abs(step[i] / expected - 1));
      worst_flow_vs_step = std::max(worst_flow_vs_step, std::abs(flow[i] / step[i] - 1));
    }
    MESSAGE("p=" << p << ": worst |step/formula - 1| = " << worst_step
                 << ", worst |flow/step - 1| = " << worst_flow_vs_step);
  }
}

TEST_CASE("ring all-reduce over nodes of 4 GPUs: flow agrees with step within 1% when NIC hops are the bottleneck")
{
  // 4 nodes x 4 GPUs, NIC per node: ring hops 3->4, 7->8, ... cross nodes; the rest stay in the node.
  const topo::StarParams star{4, 4, topo::IntraFabric::nvswitch, {150e9, 0.5e-6}, {12.5e9, 1e-6}, false};
  const std::vector<double> sizes{1e3, 1e6, 64e6, 1e9};
  auto run = [&](ScheduleFidelity f) {
    return test::durations(test::simulate_in_child(star, [&](TaskGraph& g) {
      std::vector<coll::Schedule> s;
      for (double b : sizes)
        s.push_back(coll::ring_allreduce(16, b, f));
      return test::add_timed_sequence(g, s);
    }));
  };
  const auto step = run(ScheduleFidelity::step);
  const auto flow = run(ScheduleFidelity::flow);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    // The slowest hop sets the pace: alpha = 0.5+1+1+0.5 us, B = 12.5 GB/s.
    const double expected = 2.0 * 15 * (3e-6 + sizes[i] / 16 / 12.5e9);
    CHECK(step[i] == test::Rel(expected).epsilon(1e-6));
    CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
  }
}
