// NCCL's double binary tree all-reduce: the two trees' shape, the bytes each rank sends, the
// closed form where every transfer has a link of its own, and the crossover with the ring.
#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/collectives/ring.hpp"
#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cmath>
#include <functional>

using namespace ddlsim;
using namespace ddlsim::coll;
using namespace ddlsim::scenario;
using namespace ddlsim::engine;

namespace {

constexpr double BW = 25e9, LINK_LAT = 1e-6;

/// p GPUs with a direct link between every pair: no two transfers ever share a link.
topo::Topology full_mesh(Rank p)
{
  topo::Topology t;
  std::vector<topo::Vertex> gpus;
  for (Rank r = 0; r < p; ++r)
    gpus.push_back(t.add_gpu("gpu" + std::to_string(r)));
  std::vector<std::uint32_t> link(std::size_t(p) * p);
  for (Rank a = 0; a < p; ++a)
    for (Rank b = a + 1; b < p; ++b)
      link[a * p + b] = t.add_link(gpus[a], gpus[b], "l" + std::to_string(a) + "-" + std::to_string(b), BW, LINK_LAT,
                                   topo::Tier::custom);
  t.set_routing([link, p](std::uint32_t s, std::uint32_t d, std::vector<topo::Hop>& out) {
    out.push_back({link[std::min(s, d) * p + std::max(s, d)], s < d});
  });
  return t;
}

using Cases = std::vector<std::pair<double, Rank>>;  // bytes, chunks

/// Simulated seconds of double_tree_allreduce(p, bytes, chunks) for each case, one after another.
std::vector<double> simulate(const std::function<topo::Topology()>& make_topology, Rank p, const Cases& cases)
{
  return test::durations(test::simulate_in_child(make_topology, [&](TaskGraph& g) {
    std::vector<Schedule> s;
    for (const auto& [bytes, chunks] : cases)
      s.push_back(double_tree_allreduce(p, bytes, chunks));
    return test::add_timed_sequence(g, s);
  }));
}

}  // namespace

TEST_CASE("double binary tree: two trees over all ranks, each rank has children in at most one")
{
  for (Rank p = 2; p <= 130; ++p) {
    CAPTURE(p);
    const DoubleTree t = double_binary_tree(p);
    for (int tree = 0; tree < 2; ++tree) {
      Rank links = 0;
      for (Rank r = 0; r < p; ++r) {
        CHECK(t.children[tree][r].size() <= 2);
        links += Rank(t.children[tree][r].size());
        if (r == t.root[tree])
          CHECK(t.parent[tree][r] == p);
        else
          CHECK(t.parent[tree][r] < p);  // everyone else is reached
      }
      CHECK(links == p - 1);
      CHECK(t.height[tree][t.root[tree]] == Rank(std::floor(std::log2(p))));  // the in-order tree's depth
    }
    for (Rank r = 0; r < p; ++r)
      CHECK((t.children[0][r].empty() || t.children[1][r].empty()));
  }
}

TEST_CASE("double binary tree: each rank sends S/2 up each tree and S/2 to each child, 2(p-1)S in all")
{
  const double S = 1 << 24;
  for (Rank p : {2U, 3U, 6U, 12U, 48U, 100U}) {
    CAPTURE(p);
    const DoubleTree t = double_binary_tree(p);
    const Schedule s = double_tree_allreduce(p, S, 8);
    double total = 0;
    for (Rank r = 0; r < p; ++r) {
      double expected = 0;
      for (int tree = 0; tree < 2; ++tree)
        expected += S / 2 * ((t.parent[tree][r] != p ? 1 : 0) + double(t.children[tree][r].size()));
      CHECK(s.bytes_sent_by(r) == test::Rel(expected).epsilon(1e-12));
      CHECK(s.bytes_sent_by(r) <= 2 * S);
      CHECK(s.bytes_received_by(r) == test::Rel(expected).epsilon(1e-12));
      total += s.bytes_sent_by(r);
    }
    CHECK(total == test::Rel(2.0 * (p - 1) * S).epsilon(1e-12));
  }
}

TEST_CASE("double binary tree on links of their own: 2(floor(log2 p) + chunks - 1)(alpha + S/(2 chunks B)) to 1e-6")
{
  for (Rank p : {3U, 6U, 12U, 48U}) {
    const std::vector<std::pair<double, Rank>> cases{
        {8, 1}, {1 << 20, 1}, {1 << 20, 4}, {1 << 30, 16}, {4294967296.0, 64}};
    const auto d = test::durations(test::simulate_in_child([&] { return full_mesh(p); },
                                                           [&](TaskGraph& g) {
                                                             std::vector<Schedule> s;
                                                             for (const auto& [bytes, chunks] : cases)
                                                               s.push_back(double_tree_allreduce(p, bytes, chunks));
                                                             return test::add_timed_sequence(g, s);
                                                           }));
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto [S, C] = cases[i];
      CAPTURE(p);
      CAPTURE(S);
      CAPTURE(C);
      const double expected = 2 * (std::floor(std::log2(double(p))) + C - 1) * (LINK_LAT + S / (2 * C * BW));
      CHECK(d[i] == test::Rel(expected).epsilon(1e-6));
    }
  }
}

TEST_CASE("double binary tree against the ring on one NIC per GPU: the tree wins small messages, the ring large ones")
{
  const Rank p = 48;
  const auto d = test::durations(test::simulate_in_child(test::flat_star(int(p), BW, LINK_LAT), [&](TaskGraph& g) {
    return test::add_timed_sequence(g, {double_tree_allreduce(p, 8, 1), ring_allreduce(p, 8, ScheduleFidelity::step),
                                        double_tree_allreduce(p, 1 << 30, 64),
                                        ring_allreduce(p, 1 << 30, ScheduleFidelity::step)});
  }));
  MESSAGE("p = 48, 8 B: tree " << d[0] * 1e6 << " us, ring " << d[1] * 1e6 << " us; 1 GiB: tree " << d[2] * 1e3
                               << " ms, ring " << d[3] * 1e3 << " ms");
  CHECK(d[0] < d[1] / 5);  // 2 log2 p steps against 2(p - 1)
  CHECK(d[3] < d[2]);      // two pieces share a NIC in most steps, and the pipeline fills and drains
  // The one-NIC bound of the registry: every step at alpha + 2c/B (alpha: two links of the star).
  const double c = (1 << 30) / (2.0 * 64);
  CHECK(d[2] <= 2 * (std::floor(std::log2(48.0)) + 63) * (2 * LINK_LAT + 2 * c / BW) * (1 + 1e-9));
}

TEST_CASE("double binary tree on one NIC per GPU, large messages: 2(floor(log2 p) + chunks - 1)(alpha + 2c/B) to 1e-6")
{
  for (Rank p : {6U, 12U, 48U}) {
    const Cases cases{{1 << 30, 64}, {4294967296.0, 64}, {1 << 26, 8}};
    const auto d = simulate([&] { return topo::make_star(test::flat_star(int(p), BW, LINK_LAT)); }, p, cases);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto [S, C] = cases[i];
      CAPTURE(p);
      CAPTURE(S);
      const double c = S / (2 * C);
      CHECK(d[i] ==
            test::Rel(2 * (std::floor(std::log2(double(p))) + C - 1) * (2 * LINK_LAT + 2 * c / BW)).epsilon(1e-6));
    }
  }
}

TEST_CASE("the registry runs double_tree with 512 KiB pieces (at most 64) and predicts its one-NIC cost")
{
  CHECK(double_tree_chunks(8) == 1);
  CHECK(double_tree_chunks(4.0 * 1024 * 1024) == 4);  // 2 MiB a tree
  CHECK(double_tree_chunks(1e12) == 64);
  const GroupShape g{12, 1, 2e-6, BW, 2e-6, BW};
  const Schedule s = make_schedule(Op::allreduce, Algorithm::double_tree, g, 1 << 26, ScheduleFidelity::step);
  CHECK(s.steps() == double_tree_allreduce(12, 1 << 26, 64).steps());
  CHECK(s.steps() == 2 * (3 + 64 - 1));
  const double c = (1 << 26) / (2.0 * 64);
  CHECK(predicted_seconds(Op::allreduce, Algorithm::double_tree, g, 1 << 26) ==
        test::Rel(2 * (3 + 63) * (2e-6 + 2 * c / BW)).epsilon(1e-12));
  CHECK(choose_algorithm(Op::allreduce, g, 8) != Algorithm::double_tree);  // not an automatic pick yet
}

TEST_CASE("double binary tree at flow fidelity: the full pipeline as flows, within 1% of step fidelity")
{
  for (Rank p : {6U, 12U, 48U}) {
    const GroupShape g{p, 1, 2 * LINK_LAT, BW, 2 * LINK_LAT, BW};
    const std::vector<double> sizes{1 << 20, 1 << 26, 1 << 30};
    const auto d = test::durations(test::simulate_in_child(test::flat_star(int(p), BW, LINK_LAT), [&](TaskGraph& tg) {
      std::vector<Schedule> s;
      for (double b : sizes) {
        s.push_back(make_schedule(Op::allreduce, Algorithm::double_tree, g, b, ScheduleFidelity::step));
        s.push_back(make_schedule(Op::allreduce, Algorithm::double_tree, g, b, ScheduleFidelity::flow));
      }
      return test::add_timed_sequence(tg, s);
    }));
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      CAPTURE(p);
      CAPTURE(sizes[i]);
      const Schedule flow = make_schedule(Op::allreduce, Algorithm::double_tree, g, sizes[i], ScheduleFidelity::flow);
      const Schedule step = double_tree_allreduce(p, sizes[i], double_tree_chunks(sizes[i]));
      CHECK(flow.steps() <= step.steps());
      if (sizes[i] >= (1 << 30))  // 64 pieces: the full pipeline's 64 - floor(log2 p) steps become one
        CHECK(flow.steps() < step.steps() / 2);
      CHECK(d[2 * i + 1] == test::Rel(d[2 * i]).epsilon(0.01));
      MESSAGE("p = " << p << ", " << sizes[i] << " B: flow / step - 1 = " << d[2 * i + 1] / d[2 * i] - 1);
    }
  }
}
