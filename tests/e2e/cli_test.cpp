// End-to-end: the ddlsim binary on shipped scenarios and on bad input, as a user runs it.
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"
#include "e2e/cli_helpers.hpp"

#include <sys/wait.h>

#include <map>
#include <set>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace ddlsim::scenario;

namespace fs = std::filesystem;
using namespace ddlsim::test;

namespace {

const char* GOOD = R"({"schema": 1, "name": "g",
  "cluster": {"nodes": 4, "network": {"link": "ib-hdr-200"}},
  "workload": {"kind": "collective", "op": "allreduce", "sizes": {"list": ["1MiB"]}}})";

}  // namespace

TEST_CASE("every shipped scenario runs and writes report.json and summary.txt")
{
  int count = 0;
  for (const auto& entry : fs::directory_iterator(std::string(DDLSIM_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() != ".json")
      continue;
    ++count;
    const fs::path out = temp_dir("shipped-" + entry.path().stem().string());
    const Result r = run_ddlsim("run " + entry.path().string() + " --quiet --output " + out.string());
    CAPTURE(entry.path());
    CAPTURE(r.output);
    CHECK(r.exit_code == 0);
    CHECK(fs::file_size(out / "report.json") > 0);
    CHECK(fs::file_size(out / "summary.txt") > 0);
    const auto report = nlohmann::json::parse(read_file(out / "report.json"));
    CHECK(report["schema"] == 1);
  }
  CHECK(count >= 2);
}

TEST_CASE("quickstart prints a summary with units and writes a Chrome trace")
{
  const fs::path out = temp_dir("quickstart");
  const Result r = run_ddlsim("run " + scenario_path("quickstart.json") + " --output " + out.string());
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("iteration time") != std::string::npos);
  CHECK(r.output.find(" ms (mean of 2 after the first") != std::string::npos);
  CHECK(r.output.find("samples/s") != std::string::npos);
  const auto trace = nlohmann::json::parse(read_file(out / "trace.json"));
  CHECK(trace["traceEvents"].size() > 8);
}

TEST_CASE("the collective scenario writes an nccl-tests-style table whose busbw approaches the link bandwidth")
{
  const fs::path out = temp_dir("ring16");
  const Result r = run_ddlsim("run " + scenario_path("ring_allreduce_16gpu.json") + " --output " + out.string());
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("busbw (GB/s)") != std::string::npos);
  const std::string csv = read_file(out / "results.csv");
  CHECK(csv.rfind("size_B,count,time_us,algbw_GBps,busbw_GBps,algorithm\n", 0) == 0);
  const auto report = nlohmann::json::parse(read_file(out / "report.json"));
  const auto& last = report["results"].back();
  CHECK(last["size_bytes"].get<double>() == 8589934592.0);
  CHECK(last["count"].get<double>() == 8589934592.0 / 4);
  CHECK(last["busbw_GBps"].get<double>() == ddlsim::test::Rel(25.0).epsilon(1e-3));  // ib-hdr-200 = 25 GB/s
}

TEST_CASE("the same scenario twice gives byte-identical report.json apart from the wall_clock key")
{
  const fs::path a = temp_dir("det-a"), b = temp_dir("det-b");
  REQUIRE(run_ddlsim("run " + scenario_path("quickstart.json") + " --quiet --output " + a.string()).exit_code == 0);
  REQUIRE(run_ddlsim("run " + scenario_path("quickstart.json") + " --quiet --output " + b.string()).exit_code == 0);
  auto ra = nlohmann::json::parse(read_file(a / "report.json"));
  auto rb = nlohmann::json::parse(read_file(b / "report.json"));
  CHECK(ra.contains("wall_clock"));
  ra.erase("wall_clock");
  rb.erase("wall_clock");
  CHECK(ra.dump(2) == rb.dump(2));
  CHECK(read_file(a / "trace.json") == read_file(b / "trace.json"));
}

TEST_CASE("--print-resolved prints every default, and the printout is itself a valid scenario")
{
  const Result r = run_ddlsim("run " + write_file("good.json", GOOD) + " --print-resolved");
  REQUIRE(r.exit_code == 0);
  const auto resolved = nlohmann::json::parse(r.output);
  CHECK(resolved["cluster"]["network"]["sharing"] == "max-min");
  CHECK(resolved["workload"]["fidelity"] == "auto");
  CHECK(resolved["output"]["dir"] == "out/g");
  const Result again = run_ddlsim("run " + write_file("resolved.json", resolved.dump()) + " --print-resolved");
  CHECK(again.exit_code == 0);
  CHECK(nlohmann::json::parse(again.output) == resolved);
}

TEST_CASE("bad input exits with 2 and one message naming the file and the JSON path")
{
  struct Case {
    std::string name, text, expected;
  };
  const std::vector<Case> cases{
      {"malformed.json", "{\"schema\": 1,\n \"cluster\": [}", "malformed.json: malformed JSON at line 2, column"},
      {"unknown_key.json", R"({"schema": 1, "colour": "blue"})",
       "/colour: unknown key 'colour'; expected one of: schema"},
      {"wrong_unit.json",
       R"({"schema": 1, "cluster": {"nodes": 2, "network": {"link": {"bandwidth": "100Gbs", "latency": "1us"}}}})",
       "/cluster/network/link/bandwidth: found '100Gbs'; expected a bandwidth"},
      {"zero_nodes.json", R"({"schema": 1, "cluster": {"nodes": 0}})", "/cluster/nodes: found 0"},
      {"negative_batch.json",
       R"({"schema": 1, "model": "resnet50", "gpu": {"peak": "1TFLOPS", "efficiency": 0.5},
           "cluster": {"nodes": 2, "network": {"link": "eth-100"}}, "workload": {"kind": "training", "batch_per_gpu": -1}})",
       "/workload/batch_per_gpu: found -1"},
      {"missing_model.json",
       R"({"schema": 1, "model": "gpt-5", "gpu": {"peak": "1TFLOPS", "efficiency": 0.5},
           "cluster": {"nodes": 2, "network": {"link": "eth-100"}}, "workload": {"kind": "training", "batch_per_gpu": 8}})",
       "/model: unknown model 'gpt-5'; expected one of: bert-base, bert-large"},
  };
  for (const Case& c : cases) {
    const std::string path = write_file(c.name, c.text);
    const Result r = run_ddlsim("run " + path);
    CAPTURE(c.name);
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(path) != std::string::npos);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);  // one message
  }
  const Result missing = run_ddlsim("run /nonexistent/scenario.json");
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("/nonexistent/scenario.json: cannot open the file") != std::string::npos);
  const Result usage = run_ddlsim("frobnicate");
  CHECK(usage.exit_code == 2);
  CHECK(usage.output.find("unknown command 'frobnicate'") != std::string::npos);
}

TEST_CASE("ddlsim topo describes a cluster as text, JSON and Graphviz")
{
  const Result text = run_ddlsim("topo " + scenario_path("fat_tree_2to1_64gpu.json"));
  CHECK(text.exit_code == 0);
  CHECK(text.output.find("bisection       400.00 GB/s") != std::string::npos);
  const fs::path dot = temp_dir("topo") / "ft.dot";
  const Result json = run_ddlsim("topo " + scenario_path("fat_tree_2to1_64gpu.json") + " --json --dot " + dot.string());
  REQUIRE(json.exit_code == 0);
  const auto d = nlohmann::json::parse(json.output);
  CHECK(d["gpus"] == 64);
  CHECK(d["switches"] == 8 + 8 + 4);  // 8 NVSwitches, 8 leaves, 4 spines
  CHECK(d["links_per_tier"]["leaf_spine"] == 32);
  CHECK(d["bisection_bytes_per_s"].get<double>() == 64 / 4 * 25e9);  // 2:1: N/4 x B
  CHECK(d["diameter_links"] == 4);
  CHECK(read_file(dot).rfind("graph ddlsim {", 0) == 0);
  const Result bad = run_ddlsim("topo /nonexistent.json");
  CHECK(bad.exit_code == 2);
  CHECK(text.output.find("summing") == std::string::npos);  // no switch sums there
  // switches that sum: 8 rail leaves, and spine j of each of the 8 aggregation trees
  const Result summing = run_ddlsim("topo " + scenario_path("collnet_rail_256gpu.json"));
  CHECK(summing.output.find("summing         16 switches in 8 aggregation trees, 3200.00 GB/s each\n") !=
        std::string::npos);
  const Result one = run_ddlsim("topo " + scenario_path("in_network_32gpu.json") + " --json");
  REQUIRE(one.exit_code == 0);
  CHECK(nlohmann::json::parse(one.output)["summing_switches"]["count"] == 1);
  CHECK(nlohmann::json::parse(one.output)["summing_switches"]["aggregation_trees"] == 1);
}

TEST_CASE("collective mode runs every operation, with nccl-tests' busbw factor, and auto says what it picked")
{
  const std::vector<std::pair<std::string, double>> ops{{"allreduce", 2.0 * 7 / 8},
                                                        {"reduce_scatter", 7.0 / 8},
                                                        {"allgather", 7.0 / 8},
                                                        {"broadcast", 1},
                                                        {"reduce", 1},
                                                        {"alltoall", 7.0 / 8},
                                                        {"sendrecv", 1}};
  for (const auto& [op, factor] : ops) {
    const std::string path =
        write_file(op + ".json", R"({"schema": 1, "cluster": {"nodes": 8, "network": {"link": "ib-hdr-200"}},
      "workload": {"kind": "collective", "op": ")" +
                                     op + R"(", "sizes": {"list": ["1MiB", "256MiB"]}}})");
    const fs::path out = temp_dir("op-" + op);
    const Result r = run_ddlsim("run " + path + " --quiet --output " + out.string());
    CAPTURE(op);
    CAPTURE(r.output);
    REQUIRE(r.exit_code == 0);
    const auto report = nlohmann::json::parse(read_file(out / "report.json"));
    for (const auto& row : report["results"])
      CHECK(row["busbw_GBps"].get<double>() ==
            ddlsim::test::Rel(row["algbw_GBps"].get<double>() * factor).epsilon(1e-12));
  }
  const std::string bad =
      write_file("bad_alg.json", R"({"schema": 1, "cluster": {"nodes": 8, "network": {"link": "ib-hdr-200"}},
      "workload": {"kind": "collective", "op": "broadcast", "algorithm": "ring", "sizes": {"list": ["1MiB"]}}})");
  const Result r = run_ddlsim("run " + bad);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("/workload/algorithm: 'ring' does not implement broadcast; expected one of: tree, auto") !=
        std::string::npos);
}

TEST_CASE("the quickstart trace: one slice per compute task and collective part, one flow per transfer")
{
  const fs::path out = temp_dir("trace-counts");
  REQUIRE(run_ddlsim("run " + scenario_path("quickstart.json") + " --quiet --output " + out.string()).exit_code == 0);
  const auto report = nlohmann::json::parse(read_file(out / "report.json"));
  const auto trace = nlohmann::json::parse(read_file(out / "trace.json"));
  const int p = 8, iterations = report["workload"]["iterations"].get<int>();
  const int per_iteration = report["workload"]["collectives_per_iteration"].get<int>();
  std::map<int, double> compute_us;  // per rank
  int comm_slices = 0, starts = 0, finishes = 0, threads = 0, processes = 0;
  std::set<std::string> seen_fields;
  for (const auto& e : trace["traceEvents"]) {
    for (const auto& [k, v] : e.items())
      seen_fields.insert(k);
    const std::string ph = e["ph"];
    const int rank = e.contains("tid") ? e["pid"].get<int>() * 4 + e["tid"].get<int>() / 2 : -1;
    if (ph == "X" && e["cat"] == "compute")
      compute_us[rank] += e["dur"].get<double>();
    comm_slices += ph == "X" && e["cat"] == "communication";
    starts += ph == "s";
    finishes += ph == "f";
    threads += ph == "M" && e["name"] == "thread_name";
    processes += ph == "M" && e["name"] == "process_name";
  }
  for (const char* field : {"name", "cat", "ph", "pid", "tid", "ts", "dur", "id", "bp", "args"})
    CHECK(seen_fields.count(field) == 1);
  CHECK(processes == 2);
  CHECK(threads == 2 * p);
  CHECK(comm_slices == per_iteration * iterations * p);
  // Every transfer the simulation ran is an arrow from its sender to its receiver.
  CHECK(starts == report["simulation"]["transfers"].get<int>());
  CHECK(finishes == starts);
  REQUIRE(compute_us.size() == p);
  for (const auto& [rank, us] : compute_us)
    CHECK(us ==
          ddlsim::test::Rel(iterations * report["single_gpu"]["iteration_time_s"].get<double>() * 1e6).epsilon(1e-9));
}

TEST_CASE("output.trace_ranks keeps only the chosen GPUs' tracks and the transfers between them")
{
  auto doc = nlohmann::json::parse(read_file(scenario_path("quickstart.json")));
  doc["output"]["trace_ranks"] = {5, 0, 1};
  const std::string file = write_file("trace_ranks.json", doc.dump());
  const fs::path out = temp_dir("trace-ranks");
  REQUIRE(run_ddlsim("run " + file + " --quiet --output " + out.string()).exit_code == 0);
  const auto trace = nlohmann::json::parse(read_file(out / "trace.json"));
  std::set<int> ranks;
  int flows = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "M")
      continue;
    ranks.insert(e["pid"].get<int>() * 4 + e["tid"].get<int>() / 2);
    flows += e["ph"] == "s";
  }
  CHECK(ranks == std::set<int>{0, 1, 5});
  CHECK(flows > 0);  // ring neighbours 0 -> 1 exchange in every step
  CHECK(trace["otherData"]["ranks_traced"] == 3);
  doc["output"]["trace_ranks"] = {8};
  const Result bad = run_ddlsim("run " + write_file("trace_ranks_bad.json", doc.dump()));
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("/output/trace_ranks/0: found rank 8; the cluster has ranks 0 to 7") != std::string::npos);
}
