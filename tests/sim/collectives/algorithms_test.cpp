#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/engine/child_process.hpp"
#include "sim_helpers.hpp"
#include "topologies/cluster.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <utility>

using namespace ddlsim::engine;

using namespace ddlsim;
using namespace ddlsim::coll;
using namespace ddlsim::scenario;

namespace {
constexpr double BW = 25e9, LINK_LAT = 1e-6, ALPHA = 2 * LINK_LAT;

struct Case {
  std::string name;
  std::function<Schedule(Rank, double)> make;
  std::function<double(double p, double S)> formula;
};

double log2_floor_pow2(double p)
{
  return std::floor(std::log2(p));
}
double extra(double p)
{
  return std::exp2(log2_floor_pow2(p)) < p ? 2 * (ALPHA) : 0;
}

const std::vector<Case>& algorithms()
{
  static const std::vector<Case> list{
      {"ring reduce-scatter", ring_reduce_scatter,
       [](double p, double S) {
         return (p - 1) * (ALPHA + S / (p * BW));
       }},
      {"ring all-gather", ring_allgather,
       [](double p, double S) {
         return (p - 1) * (ALPHA + S / (p * BW));
       }},
      {"binomial broadcast", binomial_broadcast,
       [](double p, double S) {
         return std::ceil(std::log2(p)) * (ALPHA + S / BW);
       }},
      {"binomial reduce", binomial_reduce,
       [](double p, double S) {
         return std::ceil(std::log2(p)) * (ALPHA + S / BW);
       }},
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
      {"parameter server, every rank a server", [](Rank p, double S) { return ps_allreduce(p, p, S); },
       [](double p, double S) {
         return 2 * (ALPHA + (p - 1) * S / (p * BW));
       }},
      {"parameter server, one server", [](Rank p, double S) { return ps_allreduce(p, 1, S); },
       [](double p, double S) {
         return 2 * (ALPHA + (p - 1) * S / BW);
       }},
      {"pairwise all-to-all", pairwise_alltoall,
       [](double p, double S) {
         return (p - 1) * (ALPHA + S / (p * BW));
       }},
      {"direct all-to-all", direct_alltoall,
       [](double p, double S) {
         return ALPHA + (p - 1) / p * S / BW;
       }},
      {"send/recv", send_recv,
       [](double, double S) {
         return ALPHA + S / BW;
       }},
      {"dissemination barrier", [](Rank p, double) { return dissemination_barrier(p); },
       [](double p, double) {
         return std::ceil(std::log2(p)) * ALPHA;
       }},
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
  for (const Case& a : algorithms()) {
    double worst = 0;
    for (Rank p : {2U, 3U, 6U, 12U, 48U}) {
      const auto d = test::durations(
          test::simulate_in_child(test::flat_star(static_cast<int>(p), BW, LINK_LAT), [&](TaskGraph& g) {
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

TEST_CASE("flow fidelity merges runs of steps over the same pairs into flows, and leaves trees alone")
{
  const Schedule f = as_flows(ring_reduce_scatter(6, 6e6));
  REQUIRE(f.steps() == 1);
  CHECK(f.step(0).size() == 6);
  CHECK(f.step(0)[0].messages == 5);
  CHECK(f.step(0)[0].bytes == test::Rel(5e6).epsilon(1e-12));
  CHECK(as_flows(hierarchical_allreduce(16, 4, 1e6)).steps() == 3);
  // the directly built flow schedules equal the merged step schedules
  for (auto [a, b] : {std::pair{as_flows(hierarchical_allreduce(24, 4, 1e6)), hierarchical_allreduce_flows(24, 4, 1e6)},
                      std::pair{as_flows(ring_reduce_scatter(7, 1e6)), ring_pass_flows(7, 1e6, true)},
                      std::pair{as_flows(ring_allgather(7, 1e6)), ring_pass_flows(7, 1e6, false)}}) {
    REQUIRE(a.steps() == b.steps());
    for (std::size_t k = 0; k < a.steps(); ++k) {
      REQUIRE(a.step(k).size() == b.step(k).size());
      for (std::size_t i = 0; i < a.step(k).size(); ++i) {
        CHECK(a.step(k)[i].src == b.step(k)[i].src);
        CHECK(a.step(k)[i].dst == b.step(k)[i].dst);
        CHECK(a.step(k)[i].messages == b.step(k)[i].messages);
        CHECK(a.step(k)[i].bytes == test::Rel(b.step(k)[i].bytes).epsilon(1e-12));
        CHECK(a.step(k)[i].reduce_bytes == doctest::Approx(b.step(k)[i].reduce_bytes).epsilon(1e-12));
      }
    }
  }
  CHECK(as_flows(binomial_broadcast(6, 6e6)).steps() == binomial_broadcast(6, 6e6).steps());
  CHECK(as_flows(pairwise_alltoall(6, 6e6)).transfer_count() == pairwise_alltoall(6, 6e6).transfer_count());
}

TEST_CASE("hierarchical all-reduce: intra-node ring reduce-scatter, inter-node ring all-reduce, intra-node all-gather")
{
  // 4 nodes x 4 GPUs, NVSwitch 100 GB/s 0.5 us per GPU link, a NIC per GPU at 10 GB/s 2 us.
  const topo::StarParams star{4, 4, topo::IntraFabric::nvswitch, {100e9, 0.5e-6}, {10e9, 2e-6}, true};
  const std::vector<double> sizes{1e3, 1e6, 1e9};
  for (auto flows : {false, true}) {
    const auto d = test::durations(test::simulate_in_child(star, [&](TaskGraph& g) {
      std::vector<Schedule> s;
      for (double b : sizes)
        s.push_back(flows ? as_flows(hierarchical_allreduce(16, 4, b)) : hierarchical_allreduce(16, 4, b));
      return test::add_timed_sequence(g, s);
    }));
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double S = sizes[i];
      const double intra = 2 * 3 * (1e-6 + S / 4 / 100e9);
      const double inter = 2 * 3 * (4e-6 + S / 16 / 10e9);
      CAPTURE(flows);
      CHECK(d[i] == test::Rel(intra + inter).epsilon(1e-6));
    }
  }
  const Schedule h = hierarchical_allreduce(16, 4, 1.6e6);
  for (Rank r = 0; r < 16; ++r)  // 2(g-1)/g S inside the node, 2(n-1)/n S/g across nodes
    CHECK(h.bytes_sent_by(r) == test::Rel(2 * 3.0 / 4 * 1.6e6 + 2 * 3.0 / 4 * 1.6e6 / 4).epsilon(1e-12));
  CHECK_THROWS_AS(hierarchical_allreduce(10, 4, 1), std::invalid_argument);
}

TEST_CASE("the reduction (gamma) is charged on the GPU that sums, one buffer at a time")
{
  const double gamma = 3.0 / 900e9;  // 900 GB/s of memory bandwidth, 3 bytes of traffic per summed byte
  const double S = 64e6;
  for (Rank p : {4U, 6U}) {
    CAPTURE(p);
    const double q = 4, lg = 2;  // the power-of-two core: all 4 ranks, or 4 of the 6 (2 extra)
    const bool extra = p != 4;
    const auto d = test::durations(test::simulate_in_child(
        test::flat_star(static_cast<int>(p), BW, LINK_LAT),
        [&](TaskGraph& g) {
          return test::add_timed_sequence(
              g, {ring_allreduce(p, S, ScheduleFidelity::step), ring_allreduce(p, S, ScheduleFidelity::flow),
                  recursive_doubling_allreduce(p, S), halving_doubling_allreduce(p, S), binomial_reduce(p, S),
                  ps_allreduce(p, p, S), ring_reduce_scatter(p, S), ring_allgather(p, S)});
        },
        Sharing::max_min, gamma));
    const double ring = 2 * (p - 1) * (ALPHA + S / (p * BW)) + (p - 1) * (S / p) * gamma;
    CHECK(d[0] == test::Rel(ring).epsilon(1e-6));
    CHECK(d[1] == test::Rel(ring).epsilon(1e-6));
    const double hop = ALPHA + S / BW;
    CHECK(d[2] == test::Rel(lg * (hop + S * gamma) + (extra ? 2 * hop + S * gamma : 0)).epsilon(1e-6));
    CHECK(d[3] == test::Rel(2 * lg * ALPHA + 2 * (q - 1) / q * S / BW + (q - 1) / q * S * gamma +
                            (extra ? 2 * hop + S * gamma : 0))
                      .epsilon(1e-6));
    CHECK(d[4] == test::Rel(std::ceil(std::log2(p)) * (hop + S * gamma)).epsilon(1e-6));
    // every rank serves a shard and sums the p-1 copies it receives, one after the other
    CHECK(d[5] == test::Rel(2 * (ALPHA + (p - 1) * S / (p * BW)) + (p - 1) * (S / p) * gamma).epsilon(1e-6));
    CHECK(d[6] == test::Rel((p - 1) * (ALPHA + S / (p * BW) + (S / p) * gamma)).epsilon(1e-6));
    CHECK(d[7] == test::Rel((p - 1) * (ALPHA + S / (p * BW))).epsilon(1e-6));  // all-gather sums nothing
  }
}

TEST_CASE(
    "in-network all-reduce: C max(l + c/B, p c/R) + l + c/B, and half the ring's traffic and time for large buffers")
{
  const Rank p = 32;
  const double R = 3.2e12;  // the switch sums at 32 ports x 100 GB/s, above its 800 GB/s of ingress
  topo::ClusterParams cluster{static_cast<int>(p),         1, topo::IntraFabric::nvswitch, {0, 0},
                              topo::NicPlacement::per_gpu, {}};
  cluster.network.kind = topo::NetworkKind::star;
  cluster.network.link = {BW, LINK_LAT};
  cluster.network.switch_reduce_bytes_per_s = R;
  const std::vector<double> sizes{512e3, 64.0 * 1024 * 1024, 1024.0 * 1024 * 1024};
  auto run = [&](bool flows, bool ring) {
    return test::durations(test::simulate_in_child(cluster, [&](TaskGraph& g) {
      std::vector<Schedule> s;
      for (double bytes : sizes) {
        const Rank chunks = in_network_chunks(bytes);
        s.push_back(ring    ? ring_allreduce(p, bytes, ScheduleFidelity::step)
                    : flows ? in_network_allreduce_flows(p, bytes, chunks)
                            : in_network_allreduce(p, bytes, chunks));  // rank p is the switch, host p
      }
      return test::add_timed_sequence(g, s);
    }));
  };
  const auto step = run(false, false), flow = run(true, false), ring = run(false, true);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const double S = sizes[i], C = in_network_chunks(S), c = S / C;
    const double expected = C * std::max(LINK_LAT + c / BW, p * c / R) + LINK_LAT + c / BW;
    CAPTURE(S);
    CHECK(step[i] == test::Rel(expected).epsilon(1e-6));
    CHECK(flow[i] == test::Rel(step[i]).epsilon(0.01));
    MESSAGE("in-network all-reduce of " << S << " B on 32 GPUs: " << step[i] * 1e3 << " ms, ring " << ring[i] * 1e3
                                        << " ms, ratio " << step[i] / ring[i]);
  }
  // 1 GiB: about S/B against the ring's 2(p-1)/p S/B = 1.94 S/B: half the time, within the
  // pieces' latency.
  CHECK(step[2] / ring[2] < 0.55);
  // bytes: each GPU sends S (the ring: 2(p-1)/p S)
  const Schedule ina = in_network_allreduce(p, 1e9, 100);
  CHECK(ina.bytes_sent_by(0) == test::Rel(1e9).epsilon(1e-12));
  CHECK(ina.bytes_received_by(0) == test::Rel(1e9).epsilon(1e-12));
  CHECK(ina.bytes_sent_by(0) / ring_allreduce(p, 1e9, ScheduleFidelity::step).bytes_sent_by(0) ==
        test::Rel(p / (2.0 * (p - 1))).epsilon(1e-12));
}

TEST_CASE("ring channels: k rings entering each node at different GPUs use k NICs, dividing the inter-node term by k")
{
  // 4 nodes x 4 GPUs, a 10 GB/s, 2 us NIC per GPU, a 1 TB/s NVSwitch: the node-crossing hop paces
  // every step. One ring crosses nodes through one NIC per node; 4 channels through all 4.
  const topo::StarParams star{4, 4, topo::IntraFabric::nvswitch, {1000e9, 0.5e-6}, {10e9, 2e-6}, true};
  const Rank p = 16;
  const std::vector<double> sizes{1e6, 256e6};
  for (auto fidelity : {ScheduleFidelity::step, ScheduleFidelity::flow}) {
    const auto d = test::durations(test::simulate_in_child(star, [&](TaskGraph& g) {
      std::vector<Schedule> s;
      for (double b : sizes) {
        const bool step = fidelity == ScheduleFidelity::step;
        s.push_back(step ? multichannel_ring_allreduce(p, 4, 1, b) : multichannel_ring_allreduce_flows(p, 4, 1, b));
        s.push_back(step ? multichannel_ring_allreduce(p, 4, 4, b) : multichannel_ring_allreduce_flows(p, 4, 4, b));
      }
      return test::add_timed_sequence(g, s);
    }));
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double S = sizes[i], alpha = 4e-6;
      CAPTURE(S);
      CHECK(d[2 * i] == test::Rel(2 * (p - 1) * (alpha + S / (p * 10e9))).epsilon(1e-6));
      CHECK(d[2 * i + 1] == test::Rel(2 * (p - 1) * (alpha + S / (4 * p * 10e9))).epsilon(1e-6));
    }
  }
  // Every rank sends 2(p-1)/p S in all, as with one ring.
  const Schedule four = multichannel_ring_allreduce(p, 4, 4, 1.6e6);
  CHECK(four.bytes_sent_by(5) == test::Rel(2.0 * 15 / 16 * 1.6e6).epsilon(1e-12));
  CHECK_THROWS_AS(multichannel_ring_allreduce(p, 4, 5, 1), std::invalid_argument);
}
