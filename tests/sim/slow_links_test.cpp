// Degraded links (cluster.slow_links): a link that runs at a fraction of its bandwidth, against
// the closed form of a ring that it gates, and the loader's errors.
#include "sim/engine/child_process.hpp"
#include "sim/report/outputs.hpp"
#include "sim/report/summary.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cmath>
#include <string>

#include <fmt/format.h>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::report;
using namespace ddlsim::runner;

using namespace ddlsim;
using nlohmann::json;

namespace {

/// p single-GPU nodes on a star of 25 GB/s, 1 us links; a step-fidelity ring all-reduce.
json ring_on_star(int p)
{
  return {
      {"schema", 1},
      {"name", "slow"},
      {"cluster",
       {{"nodes", p}, {"network", {{"topology", "star"}, {"link", {{"bandwidth", "25GB/s"}, {"latency", "1us"}}}}}}},
      {"workload",
       {{"kind", "collective"},
        {"op", "allreduce"},
        {"algorithm", "ring"},
        {"fidelity", "step"},
        {"sizes", {{"list", {"64MiB", "1GiB"}}}}}}};
}

}  // namespace

TEST_CASE("a slow NIC gates every step of a ring: 2 (p - 1) (alpha + S / (p f B))")
{
  constexpr double B = 25e9, ALPHA = 2e-6;
  const int p = 4;
  for (double f : {1.0, 0.5, 0.25}) {
    CAPTURE(f);
    json doc = ring_on_star(p);
    doc["cluster"]["slow_links"] = {{{"link", "node1-gpu0-nic"}, {"bandwidth_factor", f}}};
    const Scenario s = parse_scenario(doc, "slow.json");
    const json out = run_in_child([&] {
      RunResult run = simulate(s);
      return json{{"report", run.report}, {"links", run.links_csv}};
    });
    const json& results = out["report"]["results"];
    REQUIRE(results.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      const double bytes = results[i]["size_bytes"].get<double>();
      CHECK(results[i]["time_us"].get<double>() * 1e-6 ==
            test::Rel(2 * (p - 1) * (ALPHA + bytes / p / (f * B))).epsilon(1e-9));
    }
    // links.csv gives the link's degraded bandwidth (both directions); the others keep theirs.
    const std::string csv = out["links"].get<std::string>();
    CHECK(csv.find("node1-gpu0-nic,node1-gpu0,switch,nic," + std::to_string(std::llround(f * B)) + ",") !=
          std::string::npos);
    CHECK(csv.find("node1-gpu0-nic,switch,node1-gpu0,nic," + std::to_string(std::llround(f * B)) + ",") !=
          std::string::npos);
    CHECK(csv.find("node2-gpu0-nic,node2-gpu0,switch,nic,25000000000,") != std::string::npos);
    CHECK(out["report"]["cluster"]["slow_links"].size() == 1);
    CHECK(summary_text(s, out["report"])
              .find("; slow links: node1-gpu0-nic at " + fmt::format("{:g}", f) + " of its bandwidth") !=
          std::string::npos);
    // The resolved scenario keeps them.
    CHECK(parse_scenario(to_json(s), "again.json").cluster.slow_links == s.cluster.slow_links);
  }
}

TEST_CASE("slow links: bad input names the entry and what was expected")
{
  json doc = ring_on_star(4);
  doc["cluster"]["slow_links"] = {{{"link", "node1-nic"}, {"bandwidth_factor", 0.5}}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "slow.json"),
                       doctest::Contains("slow.json: /cluster/slow_links/0/link: found 'node1-nic'; expected the name "
                                         "of a link of this cluster, as the 'link' column of links.csv gives it"),
                       ScenarioError);
  doc["cluster"]["slow_links"] = {{{"link", "node1-gpu0-nic"}, {"bandwidth_factor", 1.5}}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "slow.json"),
                       doctest::Contains("/cluster/slow_links/0/bandwidth_factor: found 1.5; expected a factor in "
                                         "(0, 1]"),
                       ScenarioError);
  doc["cluster"]["slow_links"] = {{{"link", "node1-gpu0-nic"}, {"bandwidth_factor", 0}}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "slow.json"), doctest::Contains("/cluster/slow_links/0/bandwidth_factor"),
                       ScenarioError);
  doc["cluster"]["slow_links"] = {{{"link", "node1-gpu0-nic"}, {"bandwidth_factor", 0.5}},
                                  {{"link", "node1-gpu0-nic"}, {"bandwidth_factor", 0.2}}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "slow.json"),
                       doctest::Contains("/cluster/slow_links/1/link: found 'node1-gpu0-nic' twice"), ScenarioError);
  doc["cluster"]["slow_links"] = {{{"link", "node1-gpu0-nic"}, {"factor", 0.5}}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "slow.json"), doctest::Contains("/cluster/slow_links/0/factor: unknown key"),
                       ScenarioError);
  doc["cluster"]["slow_links"] = json::object();
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "slow.json"), doctest::Contains("/cluster/slow_links: found an object"),
                       ScenarioError);
}

TEST_CASE("failed links: a scenario names them under its fat-tree, and bad ones get the key's path")
{
  json doc = {{"schema", 1},
              {"name", "failed"},
              {"cluster",
               {{"nodes", 8},
                {"network",
                 {{"topology", "fat_tree"},
                  {"radix", 8},
                  {"link", {{"bandwidth", "25GB/s"}, {"latency", "1us"}}},
                  {"failed_links", {"leaf0-spine1"}}}}}},
              {"workload",
               {{"kind", "collective"}, {"op", "allreduce"}, {"algorithm", "ring"}, {"sizes", {{"list", {"1MiB"}}}}}}};
  const Scenario s = parse_scenario(doc, "failed.json");
  CHECK(s.cluster.network.failed_links == std::vector<std::string>{"leaf0-spine1"});
  CHECK(parse_scenario(to_json(s), "again.json").cluster.network.failed_links == s.cluster.network.failed_links);
  doc["cluster"]["network"]["failed_links"] = {"leaf0-spine9"};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failed.json"),
                       doctest::Contains("failed.json: /cluster/network/failed_links: 'leaf0-spine9' is not a link "
                                         "between two switches of this network"),
                       ScenarioError);
  doc["cluster"]["network"]["failed_links"] = {"leaf0-spine0", "leaf0-spine1", "leaf0-spine2", "leaf0-spine3"};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failed.json"),
                       doctest::Contains("/cluster/network/failed_links: no path is left between leaf0 and leaf1"),
                       ScenarioError);
  // With failed links too, an unknown slow link is still named at its own entry.
  doc["cluster"]["network"]["failed_links"] = {"leaf0-spine1"};
  doc["cluster"]["slow_links"] = {{{"link", "nope"}, {"bandwidth_factor", 0.5}}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failed.json"),
                       doctest::Contains("/cluster/slow_links/0/link: found 'nope'"), ScenarioError);
  doc["cluster"].erase("slow_links");
  doc["cluster"]["network"] = {{"topology", "star"}, {"link", "ib-hdr-200"}, {"failed_links", json::array()}};
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "failed.json"),
                       doctest::Contains("/cluster/network/failed_links: unknown key"), ScenarioError);
}
