// Speed and memory of the simulator on a ring all-reduce: one simulation per process (forked),
// one all-reduce of 1 GiB per rank, every network link 25 GB/s and 1 us.
//   star: p single-GPU nodes, each with its NIC, on one switch (contention-free ring);
//   fat_tree / rail_optimized: p/8 DGX-like nodes (8 GPUs on NVSwitch at 300 GB/s, a NIC per
//   GPU) on a 3-tier Clos of radix-64 switches, 1:1, d-mod-k routing.
// usage: ddlsim_bench_ring [--fidelity step|flow] [--topology star|fat_tree|rail_optimized]
//                          [--algorithm ring|hierarchical|recursive_doubling|halving_doubling|tree|double_tree|
//                                       in_network|collnet|ps|pairwise|direct|dissemination] [p ...]
//        (default: flow, star, ring, p = 1024 16384); tree is a binomial broadcast, pairwise and direct
//        all-to-alls, dissemination a barrier, the rest all-reduces (ps: a server on every rank);
//        in_network makes every switch sum (the star's one, or the fat-tree's aggregation tree);
//        collnet too, in 8 aggregation trees on the Clos (GPU l of every node in tree l).
#include "sim/engine/child_process.hpp"
#include "sim/engine/executor.hpp"
#include "sim/engine/platform.hpp"
#include "sim/workload/collective_plan.hpp"
#include "topologies/cluster.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;

using namespace ddlsim;

namespace {

constexpr double BANDWIDTH = 25e9, LINK_LATENCY = 1e-6, BYTES = 1073741824.0;

topo::ClusterParams cluster(topo::NetworkKind kind, std::uint32_t p, coll::Algorithm algorithm)
{
  topo::ClusterParams c{static_cast<int>(p), 1, topo::IntraFabric::nvswitch, {0, 0}, topo::NicPlacement::per_gpu, {}};
  if (kind == topo::NetworkKind::star) {
    c.network.kind = kind;
    c.network.link = {BANDWIDTH, LINK_LATENCY};
  } else {
    c = {static_cast<int>(p / 8), 8, topo::IntraFabric::nvswitch, {300e9, 0.5e-6}, topo::NicPlacement::per_gpu, {}};
    c.network.kind = kind;
    c.network.clos = {3, 64, 1, topo::ClosRouting::d_mod_k, 1, {BANDWIDTH, LINK_LATENCY}};
  }
  // in_network: switches sum at the line rate of all their ports (32 down ports of a radix-64
  // switch, or 64), so summing never paces the pipeline
  if (algorithm == coll::Algorithm::in_network || algorithm == coll::Algorithm::collnet)
    c.network.switch_reduce_bytes_per_s = 64 * BANDWIDTH;
  if (algorithm == coll::Algorithm::collnet && kind != topo::NetworkKind::star)
    c.network.clos.aggregation_trees = 8;
  return c;
}

/// The operation an algorithm is benchmarked on: broadcast for the binomial tree, all-to-all for
/// pairwise and direct, barrier for dissemination, all-reduce for the rest.
coll::Op bench_op(coll::Algorithm a)
{
  switch (a) {
  case coll::Algorithm::tree: return coll::Op::broadcast;
  case coll::Algorithm::pairwise:
  case coll::Algorithm::direct: return coll::Op::alltoall;
  case coll::Algorithm::dissemination: return coll::Op::barrier;
  default: return coll::Op::allreduce;
  }
}

nlohmann::json one_run(std::uint32_t p, coll::ScheduleFidelity fidelity, topo::NetworkKind kind,
                       coll::Algorithm algorithm)
{
  const auto t0 = std::chrono::steady_clock::now();
  const topo::Topology topology = topo::make_cluster(cluster(kind, p, algorithm));
  const auto tb = std::chrono::steady_clock::now();
  create_engine(Sharing::max_min);
  const Platform platform(topology, Sharing::max_min);
  TaskGraph graph;
  const coll::Op op = bench_op(algorithm);
  const coll::GroupShape shape = group_shape(topology, p, kind == topo::NetworkKind::star ? 1 : 8);
  graph.add_collective(coll::make_schedule(op, algorithm, shape, BYTES, fidelity),
                       coll::schedule_hosts(algorithm, shape), coll::to_string(op));
  const auto t1 = std::chrono::steady_clock::now();
  const Timeline tl = execute(graph, platform);
  const auto t2 = std::chrono::steady_clock::now();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  // The algorithm's alpha-beta cost (what `auto` weighs): exact for the ring on the star, for
  // in_network and collnet on these contention-free Clos trees; an estimate elsewhere.
  const double expected = coll::predicted_seconds(op, algorithm, shape, BYTES);
  return {{"p", p},
          {"topology_s", std::chrono::duration<double>(tb - t0).count()},
          {"links", topology.link_count()},
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
  topo::NetworkKind kind = topo::NetworkKind::star;
  coll::Algorithm algorithm = coll::Algorithm::ring;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--fidelity" && i + 1 < argc) {
      const std::string f = argv[++i];
      fidelity = f == "step" ? coll::ScheduleFidelity::step : coll::ScheduleFidelity::flow;
    } else if (a == "--algorithm" && i + 1 < argc) {
      const std::string name = argv[++i];
      const auto& names = coll::algorithm_names();
      const auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        std::fprintf(stderr, "unknown algorithm %s\n", name.c_str());
        return 2;
      }
      algorithm = static_cast<coll::Algorithm>(it - names.begin());
    } else if (a == "--topology" && i + 1 < argc) {
      const std::string t = argv[++i];
      kind = t == "fat_tree"         ? topo::NetworkKind::fat_tree
             : t == "rail_optimized" ? topo::NetworkKind::rail_optimized
                                     : topo::NetworkKind::star;
    } else {
      sizes.push_back(static_cast<std::uint32_t>(std::stoul(a)));
    }
  }
  if (sizes.empty())
    sizes = {1024, 16384};
  std::printf("%s %s, 1 GiB per rank, %s, %s fidelity\n", coll::to_string(algorithm),
              coll::to_string(bench_op(algorithm)), topo::to_string(kind),
              fidelity == coll::ScheduleFidelity::flow ? "flow" : "step");
  std::printf("%8s %8s %12s %12s %10s %10s %10s %14s %12s %14s\n", "GPUs", "links", "transfers", "topology (s)",
              "setup (s)", "run (s)", "wall (s)", "peak RSS (MiB)", "sim/formula-1", "simulated (s)");
  for (std::uint32_t p : sizes) {
    const nlohmann::json r = run_in_child([&] { return one_run(p, fidelity, kind, algorithm); });
    const double setup = r["setup_s"].get<double>(), run = r["run_s"].get<double>();
    std::printf("%8u %8zu %12llu %12.3f %10.3f %10.3f %10.3f %14.1f %12.1e %14.6f\n", p, r["links"].get<std::size_t>(),
                r["transfers"].get<unsigned long long>(), r["topology_s"].get<double>(), setup, run, setup + run,
                r["peak_rss_mib"].get<double>(), r["simulated_s"].get<double>() / r["formula_s"].get<double>() - 1,
                r["simulated_s"].get<double>());
    std::fflush(stdout);
  }
  return 0;
}
