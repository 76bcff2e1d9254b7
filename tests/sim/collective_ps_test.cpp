// Parameter-server all-reduce in collective mode: co-located servers and servers on CPU hosts of
// their own, against their closed forms on a contention-free star, and the loader's errors.
#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <algorithm>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::runner;
using namespace ddlsim::report;

using namespace ddlsim;

namespace {

constexpr double BW = 25e9, LINK_LAT = 1e-6, ALPHA = 2 * LINK_LAT;

/// p single-GPU nodes on a star of 25 GB/s, 1 us links; a PS all-reduce of 64 B..1 GiB (shards of
/// whole bytes: the simulator counts bytes).
nlohmann::json ps_scenario(int p, const nlohmann::json& extra)
{
  nlohmann::json j = nlohmann::json::parse(R"({
    "schema": 1, "name": "ps",
    "cluster": {"nodes": 8, "gpus_per_node": 1,
                "network": {"topology": "star", "link": {"bandwidth": "25GB/s", "latency": "1us"}}},
    "workload": {"kind": "collective", "op": "allreduce", "algorithm": "ps",
                 "sizes": {"list": ["64B", "1MiB", "64MiB", "1GiB"]}}
  })");
  j["cluster"]["nodes"] = p;
  j["workload"].update(extra);
  return j;
}

std::vector<double> times_s(const nlohmann::json& scenario)
{
  const Scenario s = parse_scenario(scenario, "ps.json");
  const nlohmann::json report = run_in_child([&] { return simulate(s).report; });
  std::vector<double> t;
  for (const auto& row : report["results"])
    t.push_back(row["time_us"].get<double>() * 1e-6);
  return t;
}

const std::vector<double> SIZES{64, 1048576, 67108864, 1073741824};

}  // namespace

TEST_CASE("collective-mode PS, dedicated servers: T = 2 (alpha + max(1, p / S) bytes / B)")
{
  const int p = 8;
  for (int servers : {2, 8, 16}) {
    const auto t = times_s(ps_scenario(p, {{"placement", "dedicated"}, {"servers", servers}}));
    REQUIRE(t.size() == SIZES.size());
    for (std::size_t i = 0; i < SIZES.size(); ++i) {
      CAPTURE(servers);
      CAPTURE(SIZES[i]);
      const double expected = 2 * (ALPHA + std::max(1.0, double(p) / servers) * SIZES[i] / BW);
      CHECK(t[i] == test::Rel(expected).epsilon(1e-6));
    }
  }
}

TEST_CASE("collective-mode PS, co-located servers: T = 2 (alpha + (p - 1) bytes / (S B)), every rank by default")
{
  const int p = 8;
  for (int servers : {1, 2, 8}) {
    const auto t = times_s(ps_scenario(p, {{"servers", servers}}));
    for (std::size_t i = 0; i < SIZES.size(); ++i) {
      CAPTURE(servers);
      CAPTURE(SIZES[i]);
      CHECK(t[i] == test::Rel(2 * (ALPHA + (p - 1) * SIZES[i] / (servers * BW))).epsilon(1e-6));
    }
  }
  CHECK(times_s(ps_scenario(p, nlohmann::json::object())) == times_s(ps_scenario(p, {{"servers", p}})));
}

TEST_CASE("collective-mode PS: dedicated servers that sum slower than their links bound the push")
{
  // 8 workers, 1 server summing at 10 GB/s: the push streams 8 x 1 GiB into it at 25 GB/s, and
  // it sums each worker's shard as it arrives, one at a time: 8 GiB / 10 GB/s, then the pull.
  const auto t = times_s(ps_scenario(8, {{"placement", "dedicated"}, {"servers", 1}, {"server_reduce", "10GB/s"}}));
  const double S = SIZES.back();
  CHECK(t.back() > 2 * (ALPHA + 8 * S / BW));
  CHECK(t.back() == test::Rel(8 * S / 10e9 + ALPHA + 8 * S / BW).epsilon(0.01));
}

TEST_CASE("collective-mode PS: bytes per rank, and the loader's errors name the key")
{
  const coll::Schedule s = coll::ps_push_pull(8, std::vector<coll::Rank>(2, coll::NO_WORKER), 1e9);
  CHECK(s.ranks() == 10);
  CHECK(s.bytes_sent_by(0) == test::Rel(1e9).epsilon(1e-12));      // a worker pushes its whole buffer
  CHECK(s.bytes_sent_by(8) == test::Rel(8 * 5e8).epsilon(1e-12));  // a server sends its shard to 8 workers

  // The registry's view of dedicated servers: their hosts follow the group's, and the cost above.
  coll::GroupShape g{8, 1, ALPHA, BW, ALPHA, BW};
  g.ps_servers = 2;
  g.ps_server_host = 100;
  CHECK(coll::schedule_hosts(coll::Algorithm::ps, g) == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 100, 101});
  CHECK(coll::make_schedule(coll::Op::allreduce, coll::Algorithm::ps, g, 1e9).ranks() == 10);
  CHECK(coll::predicted_seconds(coll::Op::allreduce, coll::Algorithm::ps, g, 1e9) ==
        test::Rel(2 * (ALPHA + 4 * 1e9 / BW)).epsilon(1e-12));

  const Scenario dedicated = parse_scenario(
      ps_scenario(8, {{"placement", "dedicated"}, {"servers", 2}, {"server_reduce", "10GB/s"}}), "ps.json");
  CHECK(dedicated.collective.servers == 2);
  CHECK(dedicated.collective.server_reduce_bytes_per_s == 10e9);
  CHECK(to_json(parse_scenario(to_json(dedicated), "ps.json")) == to_json(dedicated));
  CHECK(parse_scenario(ps_scenario(8, {{"placement", "dedicated"}}), "ps.json").collective.servers ==
        8);  // one per node

  auto fails = [](const nlohmann::json& j, const std::string& message) {
    CHECK_THROWS_WITH_AS(parse_scenario(j, "ps.json"), doctest::Contains(message.c_str()), ScenarioError);
  };
  nlohmann::json ring = ps_scenario(8, nlohmann::json::object());
  ring["workload"]["algorithm"] = "ring";
  ring["workload"]["servers"] = 2;
  fails(ring, "ps.json: /workload/servers: 'servers' applies to algorithm 'ps'; this one is 'ring'");
  fails(ps_scenario(8, {{"servers", 9}}), "/workload/servers: found 9 servers; expected at most 8");
  fails(ps_scenario(8, {{"server_reduce", "10GB/s"}}), "/workload/server_reduce: 'server_reduce' applies to dedicated");
  fails(ps_scenario(8, {{"placement", "dedicated"}, {"server_reduce", "10 apples"}}), "/workload/server_reduce");
  nlohmann::json tree = ps_scenario(8, {{"placement", "dedicated"}});
  tree["cluster"]["network"] = nlohmann::json::parse(
      R"({"topology": "fat_tree", "tiers": 2, "radix": 8, "link": {"bandwidth": "25GB/s", "latency": "1us"}})");
  fails(tree, "/workload/placement: dedicated parameter servers attach to a star network");
}
