#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
using namespace ddlsim::scenario;
using namespace ddlsim::engine;

using namespace ddlsim;

namespace {
coll::Schedule one_transfer(coll::Rank ranks, coll::Rank src, coll::Rank dst, double bytes)
{
  coll::Schedule s(ranks);
  s.add_step({{src, dst, bytes, 1}});
  return s;
}
}  // namespace

TEST_CASE("a lone point-to-point transfer takes exactly latency + S/B")
{
  const double bw = 12.5e9, lat = 0.75e-6;  // per link; the route has two links
  const std::vector<double> sizes{1, 8, 1000, 12345.678, 1e6, 4194304, 1e9, 8589934592.0};
  const auto d = test::durations(test::simulate_in_child(test::flat_star(4, bw, lat), [&](TaskGraph& g) {
    std::vector<coll::Schedule> s;
    for (double b : sizes)
      s.push_back(one_transfer(4, 1, 3, b));
    return test::add_timed_sequence(g, s);
  }));
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    CAPTURE(sizes[i]);
    CHECK(d[i] == test::Rel(2 * lat + sizes[i] / bw).epsilon(1e-9));
  }
}

TEST_CASE("a transfer across nodes pays every link's latency and the slowest link's bandwidth")
{
  // GPU link 100 GB/s 0.5 us, NIC 10 GB/s 2 us: route latency 5 us, bottleneck 10 GB/s.
  const topo::StarParams star{2, 2, topo::IntraFabric::pcie, {100e9, 0.5e-6}, {10e9, 2e-6}, false};
  const double bytes = 3e8;
  const auto d = test::durations(test::simulate_in_child(star, [&](TaskGraph& g) {
    return test::add_timed_sequence(g, {one_transfer(4, 0, 3, bytes), one_transfer(4, 0, 1, bytes)});
  }));
  CHECK(d[0] == test::Rel(5e-6 + bytes / 10e9).epsilon(1e-9));
  CHECK(d[1] == test::Rel(1e-6 + bytes / 100e9).epsilon(1e-9));
}

TEST_CASE("concurrent flows into one link share it max-min fairly - links are full duplex")
{
  const double bw = 10e9, lat = 1e-6, bytes = 1e9;
  const auto d = test::durations(test::simulate_in_child(test::flat_star(4, bw, lat), [&](TaskGraph& g) {
    coll::Schedule incast(4), duplex(4);
    incast.add_step({{0, 2, bytes, 1}, {1, 2, bytes, 1}});  // both into GPU 2's downlink
    duplex.add_step({{0, 1, bytes, 1}, {1, 0, bytes, 1}});  // opposite directions of the same links
    return test::add_timed_sequence(g, {incast, duplex});
  }));
  CHECK(d[0] == test::Rel(2 * lat + 2 * bytes / bw).epsilon(1e-9));
  CHECK(d[1] == test::Rel(2 * lat + bytes / bw).epsilon(1e-9));
}

TEST_CASE("the tcp sharing model is SimGrid's LV08, not alpha-beta")
{
  const double bw = 10e9, lat = 1e-6, bytes = 1e6;
  const auto d = test::durations(test::simulate_in_child(
      test::flat_star(2, bw, lat),
      [&](TaskGraph& g) { return test::add_timed_sequence(g, {one_transfer(2, 0, 1, bytes)}); }, Sharing::tcp));
  // LV08: latency x 13.01, bandwidth x 0.97 (SimGrid 3.32 defaults, shared/reference probe).
  CHECK(d[0] == test::Rel(13.01 * 2 * lat + bytes / (0.97 * bw)).epsilon(1e-6));
}

TEST_CASE("the ib sharing model is SimGrid's IB model: slower than alpha-beta for a lone 1 MB transfer")
{
  const double bw = 10e9, lat = 1e-6, bytes = 1e6;
  const auto run = [&](Sharing sharing) {
    return test::durations(test::simulate_in_child(
        test::flat_star(2, bw, lat),
        [&](TaskGraph& g) { return test::add_timed_sequence(g, {one_transfer(2, 0, 1, bytes)}); }, sharing))[0];
  };
  const double ideal = run(Sharing::max_min);
  const double ib = run(Sharing::ib);
  CHECK(ideal == test::Rel(2 * lat + bytes / bw).epsilon(1e-9));
  // SMPI/IB factors for messages >= 65,472 B: bandwidth x 0.94 or less, latency x 11.64 (SimGrid 3.32).
  CHECK(ib > ideal * 1.05);
}
