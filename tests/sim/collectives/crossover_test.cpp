// Known orderings between algorithms, simulated, and `auto` following them.
#include "sim/collectives/algorithms.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::workload;

using namespace ddlsim;
using namespace ddlsim::coll;
using namespace ddlsim::engine;

TEST_CASE("latency-bound sizes favour recursive doubling, bandwidth-bound sizes the ring, and auto follows")
{
  // 32 GPUs, a NIC each, 10 us per link (a latency-dominated network), 25 GB/s.
  const double small = 4096, large = 256e6;
  const auto d = test::durations(test::simulate_in_child(test::flat_star(32, 25e9, 10e-6), [&](TaskGraph& g) {
    return test::add_timed_sequence(g, {ring_allreduce(32, small, ScheduleFidelity::step),
                                        recursive_doubling_allreduce(32, small), halving_doubling_allreduce(32, small),
                                        ring_allreduce(32, large, ScheduleFidelity::step),
                                        recursive_doubling_allreduce(32, large)});
  }));
  CHECK(d[1] < d[0] / 5);  // recursive doubling: 5 steps against the ring's 62
  CHECK(d[2] < d[0] / 3);
  CHECK(d[3] < d[4] / 2);  // ring: 2(p-1)/p S/B against log p S/B
  const GroupShape g{32, 1, 20e-6, 25e9, 20e-6, 25e9};
  CHECK(choose_algorithm(Op::allreduce, g, small) == Algorithm::recursive_doubling);
  CHECK(choose_algorithm(Op::allreduce, g, large) == Algorithm::halving_doubling);  // = ring's bandwidth, fewer alphas
  const GroupShape odd{48, 1, 20e-6, 25e9, 20e-6, 25e9};  // not a power of two: halving-doubling pays 2 S/B more
  CHECK(choose_algorithm(Op::allreduce, odd, large) == Algorithm::ring);
}

TEST_CASE("hierarchical beats the flat ring when inter-node bandwidth is much lower than intra-node")
{
  // 8 nodes x 8 GPUs on a 300 GB/s NVSwitch, one 12.5 GB/s NIC per node.
  const topo::StarParams star{8, 8, topo::IntraFabric::nvswitch, {300e9, 0.5e-6}, {12.5e9, 1e-6}, false};
  const std::vector<double> sizes{1e6, 64e6, 1e9};
  const auto d = test::durations(test::simulate_in_child(star, [&](TaskGraph& g) {
    std::vector<Schedule> s;
    for (double b : sizes) {
      s.push_back(ring_allreduce(64, b, ScheduleFidelity::step));
      s.push_back(hierarchical_allreduce(64, 8, b));
    }
    return test::add_timed_sequence(g, s);
  }));
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    CAPTURE(sizes[i]);
    MESSAGE("size " << sizes[i] << " B: flat ring " << d[2 * i] * 1e3 << " ms, hierarchical " << d[2 * i + 1] * 1e3
                    << " ms");
    CHECK(d[2 * i + 1] < d[2 * i]);
  }
}
