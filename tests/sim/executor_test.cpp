#include "approx.hpp"
#include "sim/collectives/ring.hpp"
#include "sim/scenario/error.hpp"
#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

using namespace ddlsim;

TEST_CASE("delays on a stream run in dependency order - joins wait for all their predecessors")
{
  const auto ends = test::simulate_in_child(test::flat_star(2, 1e9, 0), [](TaskGraph& g) {
    const auto a = g.add_delay(0, Stream::compute, 1.5, "a");
    const auto b = g.add_delay(0, Stream::compute, 2.0, "b");
    const auto c = g.add_delay(1, Stream::compute, 0.25, "c");
    const auto j = g.add_join("j");
    const auto d = g.add_delay(1, Stream::compute, 1e-6, "d");
    g.add_dependency(a, b);
    g.add_dependency(b, j);
    g.add_dependency(c, j);
    g.add_dependency(j, d);
    return std::vector<std::uint32_t>{a, b, c, j, d};
  });
  CHECK(ends[0] == 1.5);
  CHECK(ends[1] == 3.5);
  CHECK(ends[2] == 0.25);
  CHECK(ends[3] == 3.5);
  CHECK(ends[4] == test::Rel(3.5 + 1e-6).epsilon(1e-12));
}

TEST_CASE("a collective starts per rank: a late rank delays only the steps that need it")
{
  // Ring of 3 on a flat star; rank 2 joins 1 ms late. Rank 0 -> 1 can go at once, but every later
  // step depends on data passing through rank 2.
  const double bw = 1e9, lat = 1e-6, bytes = 3e6, late = 1e-3;
  const auto ends = test::simulate_in_child(test::flat_star(3, bw, lat), [&](TaskGraph& g) {
    const auto c = g.add_collective(coll::ring_allreduce(3, bytes, coll::ScheduleFidelity::step), {0, 1, 2}, "ar");
    const auto delay = g.add_delay(2, Stream::compute, late, "late");
    g.add_dependency(delay, g.collective(c).tasks[2]);
    return g.collective(c).tasks;
  });
  const double hop = 2 * lat + bytes / 3 / bw;
  // Rank 2 starts its 4 steps at `late`; each step needs the previous one of its predecessor.
  CHECK(ends[2] == test::Rel(late + 4 * hop).epsilon(1e-9));
  CHECK(ends[0] > late);
  CHECK(ends[0] <= ends[2] + hop * 1.000001);
}

TEST_CASE("collectives of equal schedules share one copy, and each still runs on its own")
{
  TaskGraph g;
  const auto a = g.add_collective(coll::ring_allreduce(3, 3e6, coll::ScheduleFidelity::step), {0, 1, 2}, "a");
  const auto b = g.add_collective(coll::ring_allreduce(3, 3e6, coll::ScheduleFidelity::step), {1, 2, 3}, "b");
  const auto c = g.add_collective(coll::ring_allreduce(3, 6e6, coll::ScheduleFidelity::step), {0, 1, 2}, "c");
  CHECK(g.collective(a).schedule == g.collective(b).schedule);
  CHECK(g.collective(a).schedule != g.collective(c).schedule);
  CHECK(*g.collective(a).schedule == coll::ring_allreduce(3, 3e6, coll::ScheduleFidelity::step));

  // The same schedule twice at once on disjoint links, then once more after both: each instance
  // keeps its own progress, and the third starts afresh once the first two have finished.
  const double bw = 1e9, lat = 1e-6, bytes = 3e6;
  const auto ends = test::simulate_in_child(test::flat_star(6, bw, lat), [&](TaskGraph& t) {
    const auto x = t.add_collective(coll::ring_allreduce(3, bytes, coll::ScheduleFidelity::step), {0, 1, 2}, "x");
    const auto y = t.add_collective(coll::ring_allreduce(3, bytes, coll::ScheduleFidelity::step), {3, 4, 5}, "y");
    const auto z = t.add_collective(coll::ring_allreduce(3, bytes, coll::ScheduleFidelity::step), {0, 1, 2}, "z");
    const auto j = t.add_join("both");
    for (std::uint32_t r = 0; r < 3; ++r) {
      t.add_dependency(t.collective(x).tasks[r], j);
      t.add_dependency(t.collective(y).tasks[r], j);
      t.add_dependency(j, t.collective(z).tasks[r]);
    }
    return std::vector<std::uint32_t>{t.collective(x).tasks[0], t.collective(y).tasks[0], t.collective(z).tasks[0]};
  });
  const double ring = 4 * (2 * lat + bytes / 3 / bw);  // 2 (p - 1) steps of S / p
  CHECK(ends[0] == test::Rel(ring).epsilon(1e-9));
  CHECK(ends[1] == test::Rel(ring).epsilon(1e-9));
  CHECK(ends[2] == test::Rel(2 * ring).epsilon(1e-9));
}

TEST_CASE("a dependency cycle is reported as a stalled task graph, not a hang")
{
  CHECK_THROWS_WITH_AS(test::simulate_in_child(test::flat_star(2, 1e9, 0),
                                               [](TaskGraph& g) {
                                                 const auto a = g.add_delay(0, Stream::compute, 1, "a");
                                                 const auto b = g.add_delay(0, Stream::compute, 1, "b");
                                                 g.add_dependency(a, b);
                                                 g.add_dependency(b, a);
                                                 return std::vector<std::uint32_t>{a};
                                               }),
                       doctest::Contains("the task graph stalled: 2 tasks never finished"), SimulationError);
}

TEST_CASE("a simulation that crashes in its child process is reported, and the next one still runs")
{
  CHECK_THROWS_WITH_AS(run_in_child([]() -> nlohmann::json { std::abort(); }), doctest::Contains("killed by signal"),
                       SimulationError);
  CHECK(run_in_child([] { return nlohmann::json(42); }) == 42);
}

TEST_CASE("collectives run over any subset of ranks, concurrently, and contend where they share links")
{
  // 2 nodes x 4 GPUs sharing one 10 GB/s NIC per node. Two rings over disjoint groups: {0, 4} and
  // {1, 5} (each crosses the nodes), then {0, 1} and {2, 3} (each inside node 0).
  const topo::StarParams star{2, 4, topo::IntraFabric::nvswitch, {100e9, 0.5e-6}, {10e9, 1e-6}, false};
  const double S = 1e9;
  const auto ends = test::simulate_in_child(star, [&](TaskGraph& g) {
    const auto a = g.add_collective(coll::ring_allreduce(2, S, coll::ScheduleFidelity::step), {0, 4}, "a");
    const auto b = g.add_collective(coll::ring_allreduce(2, S, coll::ScheduleFidelity::step), {1, 5}, "b");
    const auto lone = g.add_join("after");
    for (auto c : {a, b})
      for (auto t : g.collective(c).tasks)
        g.add_dependency(t, lone);
    const auto c = g.add_collective(coll::ring_allreduce(2, S, coll::ScheduleFidelity::step), {0, 1}, "c");
    const auto d = g.add_collective(coll::ring_allreduce(2, S, coll::ScheduleFidelity::step), {2, 3}, "d");
    for (auto x : {c, d})
      for (auto t : g.collective(x).tasks)
        g.add_dependency(lone, t);
    return std::vector<std::uint32_t>{g.collective(a).tasks[0], g.collective(b).tasks[1], lone,
                                      g.collective(c).tasks[0], g.collective(d).tasks[1]};
  });
  // Inter-node: both rings push S/2 per step through each NIC direction: twice the time of one ring.
  const double inter_alpha = 2 * 0.5e-6 + 2 * 1e-6;
  const double shared = 2 * (inter_alpha + 2 * (S / 2) / 10e9);
  CHECK(ends[0] == test::Rel(shared).epsilon(1e-9));
  CHECK(ends[1] == test::Rel(shared).epsilon(1e-9));
  // Inside node 0 the two rings use different GPU links: no contention.
  const double intra = 2 * (1e-6 + (S / 2) / 100e9);
  CHECK(ends[3] - ends[2] == test::Rel(intra).epsilon(1e-9));
  CHECK(ends[4] - ends[2] == test::Rel(intra).epsilon(1e-9));
}
