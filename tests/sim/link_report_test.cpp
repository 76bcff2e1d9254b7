#include "sim/collectives/ring.hpp"
#include "sim/report/links.hpp"
#include "sim_helpers.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::report;

using namespace ddlsim;

namespace {

/// Runs `build` on a flat star of p GPUs and returns {bytes per direction, busy per direction, makespan}.
nlohmann::json link_stats(int p, double bw, double lat, const std::function<void(TaskGraph&)>& build)
{
  return run_in_child([&]() -> nlohmann::json {
    const topo::Topology topology = topo::make_star(test::flat_star(p, bw, lat));
    create_engine(Sharing::max_min);
    const Platform platform(topology, Sharing::max_min);
    TaskGraph g;
    build(g);
    const Timeline tl = execute(g, platform);
    const LinkReport report = link_report(topology, tl);
    return {{"bytes", tl.link_bytes},
            {"busy", tl.link_busy_seconds},
            {"makespan", tl.makespan_seconds},
            {"summary", report.summary},
            {"csv_lines", std::count(report.csv.begin(), report.csv.end(), '\n')}};
  });
}

}  // namespace

TEST_CASE("links: ring all-reduce puts 2(p-1)/p S on every NIC direction, busy for the whole collective")
{
  const int p = 4;
  const double bw = 10e9, lat = 1e-6, bytes = 8e6;
  const nlohmann::json r = link_stats(p, bw, lat, [&](TaskGraph& g) {
    g.add_collective(coll::ring_allreduce(p, bytes, coll::ScheduleFidelity::step), {0, 1, 2, 3}, "ar");
  });
  const double expected_time = 2.0 * (p - 1) * (2 * lat + bytes / p / bw);
  CHECK(r["makespan"].get<double>() == test::Rel(expected_time).epsilon(1e-9));
  const auto link_bytes = r["bytes"].get<std::vector<double>>();
  const auto busy = r["busy"].get<std::vector<double>>();
  REQUIRE(link_bytes.size() == 2 * p);  // one NIC link per GPU, two directions
  for (std::size_t d = 0; d < link_bytes.size(); ++d) {
    CAPTURE(d);
    CHECK(link_bytes[d] == test::Rel(2.0 * (p - 1) / p * bytes).epsilon(1e-12));
    CHECK(busy[d] == test::Rel(expected_time).epsilon(1e-9));
  }
  CHECK(r["csv_lines"].get<int>() == 1 + 2 * p);
  const auto& tier = r["summary"]["per_tier"][0];
  CHECK(tier["tier"] == "nic");
  CHECK(tier["used"].get<int>() == 2 * p);
  // Utilization: bytes over capacity x time = (2(p-1)/p S / B) / T.
  CHECK(tier["utilization_max"].get<double>() ==
        test::Rel(2.0 * (p - 1) / p * bytes / bw / expected_time).epsilon(1e-9));
}

TEST_CASE("links: busy time counts transfers in flight, not the idle gap between two collectives")
{
  const double bw = 1e9, lat = 2e-6, bytes = 1e6, gap = 0.5;
  const nlohmann::json r = link_stats(2, bw, lat, [&](TaskGraph& g) {
    const auto first = g.add_collective(coll::ring_allreduce(2, bytes, coll::ScheduleFidelity::step), {0, 1}, "a");
    const auto pause = g.add_delay(0, Stream::compute, gap, "pause");
    const auto second = g.add_collective(coll::ring_allreduce(2, bytes, coll::ScheduleFidelity::step), {0, 1}, "b");
    for (std::uint32_t t : g.collective(first).tasks)
      g.add_dependency(t, pause);
    for (std::uint32_t t : g.collective(second).tasks)
      g.add_dependency(pause, t);
  });
  const double one = 2 * (2 * lat + bytes / 2 / bw);  // p = 2: two steps of S/2
  CHECK(r["makespan"].get<double>() == test::Rel(2 * one + gap).epsilon(1e-9));
  for (double busy : r["busy"].get<std::vector<double>>())
    CHECK(busy == test::Rel(2 * one).epsilon(1e-9));
  for (double b : r["bytes"].get<std::vector<double>>())
    CHECK(b == test::Rel(2 * 2 * (bytes / 2)).epsilon(1e-12));  // two collectives of two S/2 steps
}
