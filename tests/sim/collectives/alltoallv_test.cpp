// All-to-allv (uneven all-to-all, as an MoE layer's token routing): schedules, byte accounting,
// simulated times against the pairwise recurrence and the direct exchange's closed forms on a
// contention-free star, and the scenario keys.
#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::runner;

using namespace ddlsim;
using namespace ddlsim::coll;
using namespace ddlsim::report;

namespace {

constexpr double BW = 25e9, LINK_LAT = 1e-6, ALPHA = 2 * LINK_LAT;

/// Random weights in [0, 1), about a fifth of them zero, from a fixed seed.
std::vector<double> random_weights(Rank p, unsigned seed)
{
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> w(std::size_t(p) * p);
  for (double& x : w)
    x = u(rng) < 0.2 ? 0 : u(rng);
  return w;
}

GroupShape shape(Rank p, const std::vector<double>& weights)
{
  GroupShape g{p, 1, ALPHA, BW, ALPHA, BW};
  g.alltoall_shares = std::make_shared<const std::vector<double>>(alltoall_shares(p, weights));
  return g;
}

/// The pairwise exchange's time by its recurrence on links of their own: rank r enters step k + 1
/// when its send to r + k and its receive from r - k have ended; a message starts when both ends
/// have entered its step and takes alpha + bytes / B.
double pairwise_recurrence(Rank p, const std::vector<double>& bytes)
{
  std::vector<double> enter(p, 0), next(p, 0);
  for (Rank k = 1; k < p; ++k) {
    std::fill(next.begin(), next.end(), 0.0);
    for (Rank r = 0; r < p; ++r) {
      const Rank d = (r + k) % p;
      const double end = std::max(enter[r], enter[d]) + ALPHA + bytes[std::size_t(r) * p + d] / BW;
      next[r] = std::max(next[r], end);
      next[d] = std::max(next[d], end);
    }
    enter.swap(next);
  }
  return *std::max_element(enter.begin(), enter.end());
}

std::vector<double> times(Rank p, const std::vector<Schedule>& schedules)
{
  return test::durations(test::simulate_in_child(test::flat_star(static_cast<int>(p), BW, LINK_LAT),
                                                 [&](TaskGraph& g) { return test::add_timed_sequence(g, schedules); }));
}

const std::vector<double> SIZES{8, 65536, 16777216, 1073741824, 4294967296.0};

}  // namespace

TEST_CASE("all-to-allv: each rank sends its row and receives its column, the diagonal stays, uniform weights are "
          "the all-to-all")
{
  const Rank p = 6;
  const std::vector<double> w = random_weights(p, 7);
  const GroupShape g = shape(p, w);
  double total = 0;
  for (double x : w)
    total += x;
  const double S = 1e6;
  for (Algorithm a : {Algorithm::pairwise, Algorithm::direct}) {
    const Schedule s = make_schedule(Op::alltoall, a, g, S);
    for (Rank r = 0; r < p; ++r) {
      double row = 0, column = 0;
      for (Rank d = 0; d < p; ++d)
        if (d != r) {
          row += S * p * w[r * p + d] / total;
          column += S * p * w[d * p + r] / total;
        }
      CAPTURE(r);
      CHECK(s.bytes_sent_by(r) == test::Rel(row).epsilon(1e-12));
      CHECK(s.bytes_received_by(r) == test::Rel(column).epsilon(1e-12));
    }
  }
  // pairwise keeps empty messages (they cost alpha); direct leaves them out
  std::size_t zeros = 0;
  for (Rank r = 0; r < p; ++r)
    for (Rank d = 0; d < p; ++d)
      zeros += d != r && w[r * p + d] == 0;
  REQUIRE(zeros > 0);
  CHECK(make_schedule(Op::alltoall, Algorithm::pairwise, g, S).transfer_count() == p * (p - 1));
  CHECK(make_schedule(Op::alltoall, Algorithm::direct, g, S).transfer_count() == p * (p - 1) - zeros);

  const GroupShape uniform = shape(p, std::vector<double>(p * p, 3.0));
  for (Algorithm a : {Algorithm::pairwise, Algorithm::direct}) {
    const Schedule v = make_schedule(Op::alltoall, a, uniform, S);
    const Schedule plain = make_schedule(Op::alltoall, a, GroupShape{p, 1, ALPHA, BW, ALPHA, BW}, S);
    REQUIRE(v.transfer_count() == plain.transfer_count());
    CHECK(v.bytes_sent_by(0) == test::Rel(plain.bytes_sent_by(0)).epsilon(1e-12));
    CHECK(predicted_seconds(Op::alltoall, a, uniform, S) ==
          test::Rel(predicted_seconds(Op::alltoall, a, GroupShape{p, 1, ALPHA, BW, ALPHA, BW}, S)).epsilon(1e-12));
  }
  CHECK_THROWS_WITH_AS(alltoall_shares(2, {0, 0, 0, 0}), "all-to-allv weights are all zero", std::invalid_argument);
  CHECK_THROWS_WITH_AS(alltoall_shares(2, {1, 1, 1}), doctest::Contains("2 x 2 matrix"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(pairwise_alltoallv(2, {0, -1, 1, 0}), doctest::Contains("must not be negative"),
                       std::invalid_argument);
}

TEST_CASE("pairwise all-to-allv meets its step recurrence to 1e-6 and stays under its slowest-pair bound, p in {3, "
          "6, 12, 48}, 8 B to 4 GiB")
{
  for (Rank p : {3U, 6U, 12U, 48U}) {
    for (const auto& [name, w] :
         {std::pair{"random", random_weights(p, p)}, std::pair{"zipf 1.2", zipf_weights(p, 1.2)}}) {
      const GroupShape g = shape(p, w);
      std::vector<Schedule> schedules;
      for (double S : SIZES)
        schedules.push_back(make_schedule(Op::alltoall, Algorithm::pairwise, g, S));
      const auto t = times(p, schedules);
      for (std::size_t i = 0; i < SIZES.size(); ++i) {
        std::vector<double> bytes(*g.alltoall_shares);
        for (double& b : bytes)
          b *= SIZES[i];
        CAPTURE(p);
        CAPTURE(name);
        CAPTURE(SIZES[i]);
        CHECK(t[i] == test::Rel(pairwise_recurrence(p, bytes)).epsilon(1e-6));
        CHECK(t[i] <= predicted_seconds(Op::alltoall, Algorithm::pairwise, g, SIZES[i]) * (1 + 1e-9));
      }
    }
  }
}

TEST_CASE("direct all-to-allv: alpha + the busiest NIC direction's bytes / B where max-min sharing is even, p in {3, "
          "6, 12, 48}")
{
  for (Rank p : {3U, 6U, 12U, 48U}) {
    // Zipf: every rank sends rank 0 the largest share, and rank 0's link, shared evenly by p - 1
    // flows, ends last. Two neighbours: each rank sends S/2 to r + 1 and r + 2, every link
    // direction carries two flows: alpha + S/B.
    std::vector<double> neighbours(std::size_t(p) * p, 0);
    for (Rank r = 0; r < p; ++r) {
      neighbours[r * p + (r + 1) % p] += 1;
      neighbours[r * p + (r + 2) % p] += 1;
    }
    const GroupShape zipf = shape(p, zipf_weights(p, 1.2)), two = shape(p, neighbours);
    std::vector<Schedule> schedules;
    for (double S : SIZES) {
      schedules.push_back(make_schedule(Op::alltoall, Algorithm::direct, zipf, S));
      schedules.push_back(make_schedule(Op::alltoall, Algorithm::direct, two, S));
    }
    const auto t = times(p, schedules);
    for (std::size_t i = 0; i < SIZES.size(); ++i) {
      const double S = SIZES[i];
      const std::vector<double> w = zipf_weights(p, 1.2);
      double row = 0;
      for (Rank d = 0; d < p; ++d)
        row += w[d];
      CAPTURE(p);
      CAPTURE(S);
      CHECK(t[2 * i] == test::Rel(ALPHA + (p - 1) * (1 / row) * S / BW).epsilon(1e-6));
      CHECK(t[2 * i] == test::Rel(predicted_seconds(Op::alltoall, Algorithm::direct, zipf, S)).epsilon(1e-6));
      CHECK(t[2 * i + 1] == test::Rel(ALPHA + S / BW).epsilon(1e-6));
    }
  }
}

namespace {
nlohmann::json a2a_scenario(const nlohmann::json& extra)
{
  nlohmann::json j = nlohmann::json::parse(R"({
    "schema": 1, "name": "a2av",
    "cluster": {"nodes": 4, "gpus_per_node": 1,
                "network": {"topology": "star", "link": {"bandwidth": "25GB/s", "latency": "1us"}}},
    "workload": {"kind": "collective", "op": "alltoall", "algorithm": "direct", "sizes": {"list": ["1MiB"]}}
  })");
  j["workload"].update(extra);
  return j;
}

std::string error_of(const nlohmann::json& scenario)
{
  return test::scenario_error(scenario, "a2av.json");
}
}  // namespace

TEST_CASE("all-to-allv scenarios: weights or zipf, reported, round-tripped, and clear errors")
{
  const nlohmann::json weights = {{0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {1, 0, 0, 0}};  // a shift: S each
  const Scenario s = parse_scenario(a2a_scenario({{"weights", weights}}), "a2av.json");
  CHECK(s.collective.alltoall_weights.size() == 16);
  CHECK(parse_scenario(to_json(s), "again.json").collective.alltoall_weights == s.collective.alltoall_weights);
  const nlohmann::json report = run_in_child([&] { return simulate(s).report; });
  CHECK(report["collective"]["alltoall_weights"] == "matrix");
  CHECK(report["results"][0]["time_us"].get<double>() * 1e-6 == test::Rel(ALPHA + 1048576 / BW).epsilon(1e-6));

  const Scenario z = parse_scenario(a2a_scenario({{"zipf", 0.8}}), "a2av.json");
  CHECK(parse_scenario(to_json(z), "again.json").collective.alltoall_zipf == 0.8);
  CHECK(run_in_child([&] { return simulate(z).report; })["collective"]["alltoall_weights"] == "zipf 0.8");

  CHECK(error_of(a2a_scenario({{"weights", {{1, 1}}}})) ==
        "a2av.json: /workload/weights: found 1 rows; expected 4 (one per GPU rank: what it sends to each rank)");
  CHECK(error_of(a2a_scenario({{"weights", {{1, 1, 1, 1}, {1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}}}})) ==
        "a2av.json: /workload/weights/1: found 2 numbers; expected 4 (one per destination rank)");
  CHECK(error_of(a2a_scenario(
                     {{"weights", nlohmann::json::array({{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}})}}))
            .find("all weights are zero") != std::string::npos);
  CHECK(error_of(a2a_scenario({{"zipf", -1}})).find("/workload/zipf") != std::string::npos);
  CHECK(error_of(a2a_scenario({{"zipf", 1}, {"weights", weights}})).find("not both") != std::string::npos);
  CHECK(error_of(a2a_scenario({{"op", "allreduce"}, {"algorithm", "ring"}, {"zipf", 1}})) ==
        "a2av.json: /workload/zipf: 'zipf' applies to op 'alltoall' (an all-to-allv); this one is 'allreduce'");
}
