// Speed and memory of the simulator on a ring all-reduce: one simulation per process (forked), on
// a star of p GPUs with a NIC each (25 GB/s, 1 us per link), one all-reduce of 1 GiB per rank.
// usage: ddlsim_bench_ring [--fidelity step|flow] [p ...]   (default: flow, p = 1024 16384)
#include "sim/child_process.hpp"
#include "sim/collectives/ring.hpp"
#include "sim/executor.hpp"
#include "sim/platform.hpp"
#include "topologies/star.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>

using namespace ddlsim;

namespace {

constexpr double BANDWIDTH = 25e9, LINK_LATENCY = 1e-6, BYTES = 1073741824.0;

nlohmann::json one_run(std::uint32_t p, coll::ScheduleFidelity fidelity)
{
  const auto t0 = std::chrono::steady_clock::now();
  const topo::Topology topology =
      topo::make_star({static_cast<int>(p), 1, topo::IntraFabric::nvswitch, {0, 0}, {BANDWIDTH, LINK_LATENCY}, true});
  create_engine(Sharing::max_min);
  const Platform platform(topology, Sharing::max_min);
  TaskGraph graph;
  std::vector<std::uint32_t> ranks(p);
  std::iota(ranks.begin(), ranks.end(), 0U);
  graph.add_collective(coll::ring_allreduce(p, BYTES, fidelity), ranks, "allreduce");
  const auto t1 = std::chrono::steady_clock::now();
  const Timeline tl = execute(graph, platform);
  const auto t2 = std::chrono::steady_clock::now();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double expected = 2.0 * (p - 1) * (2 * LINK_LATENCY + BYTES / p / BANDWIDTH);
  return {{"p", p},
          {"setup_s", std::chrono::duration<double>(t1 - t0).count()},
          {"run_s", std::chrono::duration<double>(t2 - t1).count()},
          {"peak_rss_mib", usage.ru_maxrss / 1024.0},
          {"transfers", tl.transfers},
          {"simulated_s", tl.makespan_seconds},
          {"formula_s", expected}};
}

}  // namespace

int main(int argc, char** argv)
{
  coll::ScheduleFidelity fidelity = coll::ScheduleFidelity::flow;
  std::vector<std::uint32_t> sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--fidelity" && i + 1 < argc) {
      const std::string f = argv[++i];
      fidelity = f == "step" ? coll::ScheduleFidelity::step : coll::ScheduleFidelity::flow;
    } else {
      sizes.push_back(static_cast<std::uint32_t>(std::stoul(a)));
    }
  }
  if (sizes.empty())
    sizes = {1024, 16384};
  std::printf("ring all-reduce, 1 GiB per rank, star, %s fidelity\n",
              fidelity == coll::ScheduleFidelity::flow ? "flow" : "step");
  std::printf("%8s %12s %10s %10s %10s %14s %12s\n", "GPUs", "transfers", "setup (s)", "run (s)", "wall (s)",
              "peak RSS (MiB)", "sim/formula-1");
  for (std::uint32_t p : sizes) {
    const nlohmann::json r = run_in_child([&] { return one_run(p, fidelity); });
    const double setup = r["setup_s"].get<double>(), run = r["run_s"].get<double>();
    std::printf("%8u %12llu %10.3f %10.3f %10.3f %14.1f %12.1e\n", p, r["transfers"].get<unsigned long long>(), setup,
                run, setup + run, r["peak_rss_mib"].get<double>(),
                r["simulated_s"].get<double>() / r["formula_s"].get<double>() - 1);
    std::fflush(stdout);
  }
  return 0;
}
