// Network calibration from nccl-tests logs: parsing the real format, recovering a synthetic
// log's latency and bandwidth, line-numbered errors, and scenarios using the result as a link.
#include "calibration/nccl_fit.hpp"
#include "sim/cli/calibrate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "calibration/profile_json.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

using namespace ddlsim::scenario;
using namespace ddlsim::cli;

using namespace ddlsim;

namespace {

/// nccl-tests' time column: "%7.2f" below 100 us, "%7.1f" below 10 ms, "%7.0f" above.
std::string nccl_time(double us)
{
  return us >= 10000 ? fmt::format("{:7.0f}", us) : us >= 100 ? fmt::format("{:7.1f}", us) : fmt::format("{:7.2f}", us);
}

/// An all_reduce_perf log as nccl-tests prints it, for `hosts` x `per_host` ranks whose times are
/// alpha + S busfactor / busbw exactly (then rounded as nccl-tests rounds them).
std::string synthetic_log(double alpha_us, double busbw_gbps, int hosts, int per_host)
{
  const int n = hosts * per_host;
  std::string s = fmt::format("# nThread 1 nGpus 1 minBytes 8 maxBytes 8589934592 step: 2(factor) warmup iters: 5 "
                              "iters: 20 agg iters: 1 validation: 1 graph: 0\n#\n# Using devices\n");
  for (int r = 0; r < n; ++r)
    s += fmt::format("#  Rank {:2d} Group  0 Pid {:6d} on {:>10} device {:2d} [0x{:02x}] NVIDIA H100 80GB HBM3\n", r,
                     1000 + r, fmt::format("node{}", r / per_host), r % per_host, 0x18 + r);
  s += "node0:1000:1000 [0] NCCL INFO Bootstrap : Using eth0:10.0.0.1<0>\n";
  s += "#\n#                                                              out-of-place                       in-place  "
       "        \n"
       "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw "
       "#wrong\n"
       "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s) "
       "      \n";
  const double factor = 2.0 * (n - 1) / n;
  for (double bytes = 8; bytes <= 8589934592.0; bytes *= 2) {
    const double us = alpha_us + bytes * factor / (busbw_gbps * 1e3);
    const double algbw = bytes / us / 1e3;
    s += fmt::format("{:12.0f}  {:12.0f}     float     sum      -1  {}  {:6.2f}  {:6.2f}      0  {}  {:6.2f}  {:6.2f}  "
                     "    0\n",
                     bytes, bytes / 4, nccl_time(us), algbw, algbw * factor, nccl_time(us * 1.01), algbw / 1.01,
                     algbw * factor / 1.01);
  }
  s += "node0:1000:1000 [0] NCCL INFO comm 0x55 rank 0 nranks 16 cudaDev 0 busId 18000 - Destroy COMPLETE\n";
  s += "# Out of bounds values : 0 OK\n# Avg bus bandwidth    : 123.456 \n#\n";
  return s;
}

std::string write(const std::string& name, const std::string& text)
{
  const auto path = std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("a synthetic all_reduce_perf log's latency and bus bandwidth come back to 1%")
{
  for (const auto& [alpha, busbw, hosts, per_host] :
       std::vector<std::tuple<double, double, int, int>>{{6.5, 380, 1, 8}, {24, 45, 4, 4}, {60, 11.5, 16, 1}}) {
    CAPTURE(alpha);
    CAPTURE(busbw);
    const calib::NcclLog log = calib::parse_nccl_tests(synthetic_log(alpha, busbw, hosts, per_host), "x.log");
    CHECK(log.ranks == hosts * per_host);
    CHECK(log.hosts == hosts);
    CHECK(log.rows.size() == 31);  // 8 B .. 8 GiB, doubling
    const calib::AlphaBetaFit fit = calib::fit_alpha_beta(log, calib::NcclOp::all_reduce, log.ranks);
    CHECK(fit.alpha_seconds == test::Rel(alpha * 1e-6).epsilon(0.01));
    CHECK(fit.bus_bandwidth_bytes_per_s == test::Rel(busbw * 1e9).epsilon(0.01));
    const calib::AlphaBetaFit in_place = calib::fit_alpha_beta(log, calib::NcclOp::all_reduce, log.ranks, true);
    CHECK(in_place.bus_bandwidth_bytes_per_s == test::Rel(busbw * 1e9 / 1.01).epsilon(0.01));
  }
}

TEST_CASE("nccl-tests bus factors and the simulator's ring steps per operation")
{
  CHECK(calib::bus_factor(calib::NcclOp::all_reduce, 8) == test::Rel(1.75).epsilon(1e-15));
  CHECK(calib::bus_factor(calib::NcclOp::all_gather, 8) == test::Rel(0.875).epsilon(1e-15));
  CHECK(calib::bus_factor(calib::NcclOp::reduce_scatter, 4) == test::Rel(0.75).epsilon(1e-15));
  CHECK(calib::bus_factor(calib::NcclOp::alltoall, 4) == test::Rel(0.75).epsilon(1e-15));
  CHECK(calib::bus_factor(calib::NcclOp::broadcast, 4) == 1);
  CHECK(calib::ring_steps(calib::NcclOp::all_reduce, 8) == 14);
  CHECK(calib::ring_steps(calib::NcclOp::all_gather, 8) == 7);
}

TEST_CASE("the real nccl-tests format: mpirun tags, N/A validation column, NCCL lines around the table")
{
  const std::string text =
      R"(# nThread 1 nGpus 1 minBytes 1048576 maxBytes 4194304 step: 2(factor) warmup iters: 5 iters: 20 agg iters: 1 validation: 0 graph: 0
#
# Using devices
NCCL version 2.20.5+cuda12.4
[1,0]<stdout>:#  Rank  0 Group  0 Pid  15784 on  nid007106 device  0 [0009:01:00] NVIDIA GH200 120GB
[1,1]<stdout>:#  Rank  1 Group  0 Pid  24926 on  nid007109 device  0 [0009:01:00] NVIDIA GH200 120GB
#
#                                                              out-of-place                       in-place
#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)
[1,0]<stdout>:     1048576        262144     float     sum      -1   339.61    3.09    3.09     N/A   335.85    3.12    3.12     N/A
     2097152        524288     float     sum      -1   355.53    5.90    5.90     N/A   361.77    5.80    5.80     N/A
     4194304       1048576     float     sum      -1   476.28    8.81    8.81     N/A   471.14    8.90    8.90     N/A
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 5.93
)";
  const calib::NcclLog log = calib::parse_nccl_tests(text, "gh200.log");
  CHECK(log.ranks == 2);
  CHECK(log.hosts == 2);
  REQUIRE(log.rows.size() == 3);
  CHECK(log.rows[0].bytes == 1048576);
  CHECK(log.rows[0].out_of_place_seconds == test::Rel(339.61e-6).epsilon(1e-12));
  CHECK(log.rows[2].in_place_seconds == test::Rel(471.14e-6).epsilon(1e-12));
  CHECK(log.rows[2].line == 13);
}

TEST_CASE("malformed nccl-tests logs: one message with the file and line")
{
  const std::string header = "#       size         count      type   redop    root     time   algbw   busbw #wrong     "
                             "time   algbw   busbw #wrong\n";
  const std::string row =
      "        1024           256     float     sum      -1    10.00    0.10    0.18      0    10.00 "
      "   0.10    0.18      0\n";
  const std::vector<std::pair<std::string, std::string>> cases{
      {row, "bad.log:1: found a data row before the column header"},
      {header + "        2048           512     float     sum      -1    10.00    0.10\n",
       "bad.log:2: found 7 columns; expected 13 as the header names (size count type redop root time algbw busbw "
       "#wrong time algbw busbw #wrong)"},
      {header + row +
           "        4096          1024     float     sum      -1     abc    0.10    0.18      0    10.00    "
           "0.10    0.18      0\n",
       "bad.log:3: found out-of-place time 'abc'; expected a positive number of microseconds"},
      {header + row + "Segmentation fault (core dumped)\n", "bad.log:3: found 'Segmentation fault (core dumped)'"},
      {"# nThread 1 nGpus 1\n" + header, "bad.log: no data rows"},
  };
  for (const auto& [text, message] : cases) {
    CAPTURE(message);
    CHECK_THROWS_WITH_AS(calib::parse_nccl_tests(text, "bad.log"), doctest::Contains(message.c_str()), ScenarioError);
  }
  const calib::NcclLog one_size = calib::parse_nccl_tests(header + row, "one.log");
  CHECK_THROWS_WITH_AS(calib::fit_alpha_beta(one_size, calib::NcclOp::all_reduce, 8),
                       "one.log: expected rows of at least two sizes to fit latency and bandwidth", ScenarioError);
}

TEST_CASE("calibrate --from-nccl-tests writes both scopes, and a scenario's links read them")
{
  const std::string intra = write("intra.log", synthetic_log(8, 360, 1, 8));
  const std::string inter = write("inter.log", synthetic_log(30, 40, 4, 8));
  const std::string out = (std::filesystem::temp_directory_path() / (std::to_string(getpid()) + "-net.json")).string();
  std::filesystem::remove(out);
  NcclCalibrationRequest r;
  r.logs = {intra, inter};
  r.output = out;
  r.command = "test";
  const std::string summary = calibrate_from_nccl_tests(r);
  CHECK(summary.find("intra_node") != std::string::npos);
  const calib::CalibratedLink in = calib::load_calibrated_link(out, "intra_node");
  const calib::CalibratedLink net = calib::load_calibrated_link(out, "inter_node");
  CHECK(in.bandwidth_bytes_per_s == test::Rel(360e9).epsilon(0.01));
  CHECK(in.latency_seconds == test::Rel(8e-6 / 14 / 2).epsilon(0.01));  // alpha / 2(n-1) steps / 2 links
  CHECK(net.bandwidth_bytes_per_s == test::Rel(40e9).epsilon(0.01));
  CHECK(net.latency_seconds == test::Rel(30e-6 / 62 / 2).epsilon(0.01));

  nlohmann::json j = nlohmann::json::parse(R"({
    "schema": 1, "name": "t", "model": "resnet50", "gpu": {"peak": "15.7TFLOPS", "efficiency": 0.5},
    "cluster": {"nodes": 4, "gpus_per_node": 8, "intra_node": {"fabric": "nvswitch"}, "network": {}},
    "workload": {"kind": "training", "batch_per_gpu": 32}})");
  j["cluster"]["intra_node"]["link"] = out;
  j["cluster"]["network"]["link"] = out;
  const Scenario s = parse_scenario(j, "test.json");
  CHECK(s.cluster.intra.bandwidth_bytes_per_s == in.bandwidth_bytes_per_s);
  CHECK(s.cluster.network.link.latency_seconds == net.latency_seconds);

  // Refitting one scope keeps the other; a file that is not a calibration is refused.
  r.logs = {write("intra2.log", synthetic_log(4, 300, 1, 8))};
  calibrate_from_nccl_tests(r);
  CHECK(calib::load_calibrated_link(out, "inter_node").bandwidth_bytes_per_s == net.bandwidth_bytes_per_s);
  CHECK(calib::load_calibrated_link(out, "intra_node").bandwidth_bytes_per_s == test::Rel(300e9).epsilon(0.01));
  j["cluster"]["network"]["link"] = test::write_profile("not-a-calibration", test::profile_json());
  CHECK_THROWS_WITH_AS(parse_scenario(j, "test.json"),
                       doctest::Contains(": /: expected a network calibration (\"kind\": \"network_calibration\""),
                       ScenarioError);
}
