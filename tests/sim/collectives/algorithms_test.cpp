#include "sim/collectives/algorithms.hpp"
#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cmath>
#include <functional>
#include <string>

using namespace ddlsim;
using namespace ddlsim::coll;

namespace {
constexpr double BW = 25e9, LINK_LAT = 1e-6, ALPHA = 2 * LINK_LAT;

struct Algorithm {
  std::string name;
  std::function<Schedule(Rank, double)> make;
  std::function<double(double p, double S)> formula;
};

double log2_floor_pow2(double p) { return std::floor(std::log2(p)); }
double extra(double p) { return std::exp2(log2_floor_pow2(p)) < p ? 2 * (ALPHA) : 0; }

const std::vector<Algorithm>& algorithms()
{
  static const std::vector<Algorithm> list{
      {"ring reduce-scatter", ring_reduce_scatter, [](double p, double S) { return (p - 1) * (ALPHA + S / (p * BW)); }},
      {"ring all-gather", ring_allgather, [](double p, double S) { return (p - 1) * (ALPHA + S / (p * BW)); }},
      {"binomial broadcast", binomial_broadcast,
       [](double p, double S) { return std::ceil(std::log2(p)) * (ALPHA + S / BW); }},
      {"binomial reduce", binomial_reduce, [](double p, double S) { return std::ceil(std::log2(p)) * (ALPHA + S / BW); }},
      {"recursive-doubling all-reduce", recursive_doubling_allreduce,
       [](double p, double S) {
         const double x = extra(p) > 0 ? 2 * (ALPHA + S / BW) : 0;
         return log2_floor_pow2(p) * (ALPHA + S / BW) + x;
       }},
      {"halving-doubling all-reduce", halving_doubling_allreduce,
       [](double p, double S) {
         const double q = std::exp2(log2_floor_pow2(p));
         const double x = q < p ? 2 * (ALPHA + S / BW) : 0;
         return 2 * std::log2(q) * ALPHA + 2 * (q - 1) / q * S / BW + x;
       }},
      {"pairwise all-to-all", pairwise_alltoall, [](double p, double S) { return (p - 1) * (ALPHA + S / (p * BW)); }},
      {"direct all-to-all", direct_alltoall, [](double p, double S) { return ALPHA + (p - 1) / p * S / BW; }},
      {"send/recv", send_recv, [](double, double S) { return ALPHA + S / BW; }},
      {"dissemination barrier", [](Rank p, double) { return dissemination_barrier(p); },
       [](double p, double) { return std::ceil(std::log2(p)) * ALPHA; }},
  };
  return list;
}

std::vector<double> sizes_8b_to_4gib()
{
  std::vector<double> s;
  for (double b = 8; b <= 4294967296.0; b *= 4)
    s.push_back(b);
  return s;
}
}  // namespace

TEST_CASE("every algorithm matches its alpha-beta cost to 1e-6 at step fidelity, p in {2, 3, 6, 12, 48}, 8 B to 4 GiB")
{
  const auto sizes = sizes_8b_to_4gib();
  for (const Algorithm& a : algorithms()) {
    double worst = 0;
    for (Rank p : {2U, 3U, 6U, 12U, 48U}) {
      const auto d = test::durations(test::simulate_in_child(test::flat_star(static_cast<int>(p), BW, LINK_LAT),
                                                             [&](TaskGraph& g) {
                                                               std::vector<Schedule> s;
                                                               for (double b : sizes)
                                                                 s.push_back(a.make(p, b));
                                                               return test::add_timed_sequence(g, s);
                                                             }));
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        CAPTURE(a.name);
        CAPTURE(p);
        CAPTURE(sizes[i]);
        const double expected = a.formula(p, sizes[i]);
        CHECK(d[i] == test::Rel(expected).epsilon(1e-6));
        worst = std::max(worst, std::abs(d[i] / expected - 1));
      }
    }
    MESSAGE(a.name << ": worst |simulated/formula - 1| = " << worst);
  }
}

TEST_CASE("byte accounting: each rank sends the textbook volume")
{
  const double S = 1 << 20;
  for (Rank p : {2U, 3U, 6U, 8U, 12U}) {
    CAPTURE(p);
    for (Rank r = 0; r < p; ++r) {
      CHECK(ring_reduce_scatter(p, S).bytes_sent_by(r) == test::Rel((p - 1.0) / p * S).epsilon(1e-12));
      CHECK(ring_allgather(p, S).bytes_sent_by(r) == test::Rel((p - 1.0) / p * S).epsilon(1e-12));
      CHECK(pairwise_alltoall(p, S).bytes_sent_by(r) == test::Rel((p - 1.0) / p * S).epsilon(1e-12));
      CHECK(direct_alltoall(p, S).bytes_sent_by(r) == test::Rel((p - 1.0) / p * S).epsilon(1e-12));
    }
    double broadcast = 0;
    for (Rank r = 0; r < p; ++r) {
      broadcast += binomial_broadcast(p, S).bytes_sent_by(r);
      CHECK(binomial_broadcast(p, S).bytes_received_by(r) == (r == 0 ? 0 : S));
    }
    CHECK(broadcast == (p - 1) * S);
  }
  // Power-of-two halving-doubling: every rank sends 2(p-1)/p S, as the ring does, in 2 log p steps.
  const Schedule hd = halving_doubling_allreduce(16, S);
  CHECK(hd.steps() == 8);
  for (Rank r = 0; r < 16; ++r)
    CHECK(hd.bytes_sent_by(r) == test::Rel(2.0 * 15 / 16 * S).epsilon(1e-12));
  // Recursive doubling sends the whole buffer log p times.
  CHECK(recursive_doubling_allreduce(16, S).bytes_sent_by(5) == 4 * S);
  // With 12 ranks, 4 extra ranks hand their data to a partner and get the result back.
  const Schedule rd12 = recursive_doubling_allreduce(12, S);
  CHECK(rd12.steps() == 3 + 2);
  CHECK(rd12.bytes_sent_by(0) == S);  // only the hand-over
  CHECK(rd12.bytes_received_by(0) == S);
}

TEST_CASE("flow fidelity merges a ring's steps into one flow per pair, and refuses other schedules")
{
  const Schedule rs = ring_reduce_scatter(6, 6e6);
  const Schedule f = as_flows(rs);
  REQUIRE(f.steps() == 1);
  CHECK(f.step(0).size() == 6);
  CHECK(f.step(0)[0].messages == 5);
  CHECK(f.step(0)[0].bytes == test::Rel(5e6).epsilon(1e-12));
  CHECK_THROWS_AS(as_flows(pairwise_alltoall(6, 6e6)), std::invalid_argument);
  CHECK_THROWS_AS(as_flows(binomial_broadcast(6, 6e6)), std::invalid_argument);
}
