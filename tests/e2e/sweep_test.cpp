// End-to-end sweeps: grid and zip, failed points, interruption and --resume, shards and merge.
#include "sim/cli/sweep.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include "e2e/cli_helpers.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <set>
#include <thread>

using namespace ddlsim::scenario;
using namespace ddlsim::cli;

using namespace ddlsim::test;
using nlohmann::json;

namespace {

// ResNet-50 with per-layer all-reduces: each point takes 0.05-0.8 s, longer with more nodes.
json training_sweep(const json& sweep)
{
  json doc = json::parse(R"({"schema": 1, "name": "k", "model": "resnet50",
    "gpu": {"peak": "15.7TFLOPS", "efficiency": 0.5},
    "cluster": {"nodes": 2, "gpus_per_node": 4,
                "intra_node": {"fabric": "nvswitch", "bandwidth": "150GBps", "latency": "1us"},
                "network": {"link": "ib-edr-100"}},
    "workload": {"kind": "training", "batch_per_gpu": 32, "iterations": 1, "scheduling": {"policy": "wfbp"}}})");
  doc["sweep"] = sweep;
  return doc;
}

std::vector<std::string> lines_of(const std::string& text)
{
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::size_t count_lines(const fs::path& file)
{
  return lines_of(read_file(file)).size();
}

/// Starts ddlsim in the background (output discarded) and returns its pid.
pid_t spawn_ddlsim(const std::vector<std::string>& args)
{
  std::vector<std::string> argv_s{DDLSIM_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("sweep: a grid runs every point and writes one CSV row per point in point order")
{
  const std::string file = write_file(
      "grid.json",
      training_sweep({{"cluster.nodes", {1, 2}}, {"workload.scheduling.policy", {"none", "wfbp", "fusion"}}}).dump());
  const fs::path out = temp_dir("sweep-grid");
  const Result r = run_ddlsim("sweep " + file + " -j 2 --quiet --output " + out.string());
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  const std::vector<std::string> csv = lines_of(read_file(out / "results.csv"));
  REQUIRE(csv.size() == 7);
  CHECK(csv[0].rfind("point,cluster.nodes,workload.scheduling.policy,status,gpus,iteration_time_s,", 0) == 0);
  // The last path varies fastest.
  CHECK(csv[1].rfind("0,1,none,ok,4,", 0) == 0);
  CHECK(csv[2].rfind("1,1,wfbp,ok,4,", 0) == 0);
  CHECK(csv[6].rfind("5,2,fusion,ok,8,", 0) == 0);
  CHECK(count_lines(out / "results.jsonl") == 6);
  // Each row carries the full report of its point, as `ddlsim run` writes it (less the wall clock).
  const json row = json::parse(lines_of(read_file(out / "results.jsonl")).front());
  CHECK(row["report"]["kind"] == "training");
  CHECK_FALSE(row["report"].contains("wall_clock"));
}

TEST_CASE("sweep: zip pairs the i-th values, and lists of unequal length are refused")
{
  const std::string file = write_file(
      "zip.json",
      training_sweep({{"mode", "zip"}, {"cluster.nodes", {1, 2}}, {"workload.batch_per_gpu", {16, 8}}}).dump());
  const fs::path out = temp_dir("sweep-zip");
  const Result r = run_ddlsim("sweep " + file + " --quiet --output " + out.string());
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  const std::vector<std::string> csv = lines_of(read_file(out / "results.csv"));
  REQUIRE(csv.size() == 3);
  CHECK(csv[1].rfind("0,1,16,ok,4,", 0) == 0);
  CHECK(csv[2].rfind("1,2,8,ok,8,", 0) == 0);
  const std::string bad =
      write_file("zip_bad.json",
                 training_sweep({{"mode", "zip"}, {"cluster.nodes", {1, 2}}, {"workload.batch_per_gpu", {16}}}).dump());
  const Result e = run_ddlsim("sweep " + bad + " --quiet --output " + temp_dir("sweep-zip-bad").string());
  CHECK(e.exit_code == 2);
  CHECK(e.output.find("/sweep/workload.batch_per_gpu: zip mode: 1 values, but 'cluster.nodes' has 2") !=
        std::string::npos);
}

TEST_CASE("sweep: a point with a bad value is a failed row with the loader's message, the others succeed")
{
  const std::string file =
      write_file("bad_point.json", training_sweep({{"cluster.network.link",
                                                    {json{{"bandwidth", "100Gbps"}, {"latency", "1us"}},
                                                     json{{"bandwidth", "-100Gbps"}, {"latency", "1us"}}, "eth-10"}}})
                                       .dump());
  const fs::path out = temp_dir("sweep-bad-point");
  const Result r = run_ddlsim("sweep " + file + " -j 2 --quiet --output " + out.string());
  CHECK(r.exit_code == 1);  // some point failed
  const std::vector<std::string> csv = lines_of(read_file(out / "results.csv"));
  REQUIRE(csv.size() == 4);
  CHECK(csv[1].find(",ok,") != std::string::npos);
  CHECK(csv[2].find(",failed,") != std::string::npos);
  CHECK(csv[2].find("bad_point.json (point 1): /cluster/network/link/bandwidth: found") != std::string::npos);
  CHECK(csv[3].find(",ok,") != std::string::npos);
}

TEST_CASE("sweep: unknown paths and malformed sweeps are errors before anything runs")
{
  const fs::path out = temp_dir("sweep-unknown");
  const std::string unknown = write_file("unknown_path.json", training_sweep({{"cluster.nodez", {1, 2}}}).dump());
  Result r = run_ddlsim("sweep " + unknown + " --quiet --output " + out.string());
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown_path.json: /sweep/cluster.nodez: 'cluster.nodez' (/cluster/nodez) names no key of "
                      "the scenario") != std::string::npos);
  CHECK_FALSE(fs::exists(out / "results.jsonl"));
  const std::string not_list = write_file("not_list.json", training_sweep({{"cluster.nodes", 4}}).dump());
  r = run_ddlsim("sweep " + not_list + " --quiet --output " + out.string());
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("/sweep/cluster.nodes: found 4; expected a non-empty list of values") != std::string::npos);
  const std::string through_string =
      write_file("through_string.json", training_sweep({{"model.sequence", {64}}}).dump());
  r = run_ddlsim("sweep " + through_string + " --quiet --output " + out.string());
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("'model' holds 'resnet50' in the scenario, not an object") != std::string::npos);
  // A sweep file is not a scenario.
  r = run_ddlsim("run " + unknown);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("/sweep: this is a sweep file: run it with 'ddlsim sweep'") != std::string::npos);
  r = run_ddlsim("sweep " + unknown + " --shard 3/3");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--shard expects I/N with 0 <= I < N, found '3/3'") != std::string::npos);
}

TEST_CASE("sweep: killed halfway by a signal, --resume finishes it with the same CSV as an uninterrupted run")
{
  const std::string file =
      write_file("resume.json", training_sweep({{"cluster.nodes", {2, 3, 4, 5, 6, 7, 8, 9}}}).dump());
  const fs::path whole = temp_dir("sweep-whole");
  REQUIRE(run_ddlsim("sweep " + file + " -j 1 --quiet --output " + whole.string()).exit_code == 0);

  const fs::path out = temp_dir("sweep-killed");
  const pid_t pid = spawn_ddlsim({"sweep", file, "-j", "1", "--quiet", "--output", out.string()});
  // Wait for three finished points (of eight; the later ones take longest), then stop it.
  for (int i = 0; i < 3000 && (!fs::exists(out / "results.jsonl") || count_lines(out / "results.jsonl") < 3); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  const std::size_t done = count_lines(out / "results.jsonl");
  CHECK(done >= 3);
  REQUIRE(done < 8);  // interrupted halfway, not at the end

  // Without --resume the folder is not overwritten.
  CHECK(run_ddlsim("sweep " + file + " --quiet --output " + out.string()).exit_code == 2);
  const Result r = run_ddlsim("sweep " + file + " -j 2 --resume --quiet --output " + out.string());
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find(std::to_string(done) + " done before") != std::string::npos);
  CHECK(read_file(out / "results.csv") == read_file(whole / "results.csv"));
  std::set<std::size_t> points;
  for (const std::string& line : lines_of(read_file(out / "results.jsonl")))
    CHECK(points.insert(json::parse(line)["point"].get<std::size_t>()).second);  // no duplicates
  CHECK(points.size() == 8);
}

TEST_CASE("sweep: a row cut short by a kill is dropped on resume, another sweep's folder is refused")
{
  const std::string file = write_file("cut.json", training_sweep({{"cluster.nodes", {1, 2, 3}}}).dump());
  const fs::path whole = temp_dir("sweep-cut-whole");
  REQUIRE(run_ddlsim("sweep " + file + " --quiet --output " + whole.string()).exit_code == 0);
  const std::vector<std::string> rows = lines_of(read_file(whole / "results.jsonl"));
  const fs::path out = temp_dir("sweep-cut");
  std::ofstream(out / "results.jsonl") << rows[0] << "\n" << rows[1].substr(0, rows[1].size() / 2);
  const Result r = run_ddlsim("sweep " + file + " --resume --quiet --output " + out.string());
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(read_file(out / "results.csv") == read_file(whole / "results.csv"));
  CHECK(count_lines(out / "results.jsonl") == 3);

  const std::string other = write_file("other.json", training_sweep({{"cluster.nodes", {1, 4}}}).dump());
  const Result e = run_ddlsim("sweep " + other + " --resume --quiet --output " + out.string());
  CHECK(e.exit_code == 2);
  CHECK(e.output.find("holds the results of another sweep") != std::string::npos);
}

TEST_CASE("sweep: shards 0/3, 1/3 and 2/3 merged equal the unsharded sweep")
{
  const std::string file = write_file(
      "shards.json",
      training_sweep({{"cluster.nodes", {1, 2}}, {"workload.scheduling.policy", {"none", "wfbp", "fusion"}}}).dump());
  const fs::path whole = temp_dir("sweep-shards-whole");
  REQUIRE(run_ddlsim("sweep " + file + " --quiet --output " + whole.string()).exit_code == 0);
  std::string dirs;
  for (int i = 0; i < 3; ++i) {
    const fs::path dir = temp_dir("sweep-shard-" + std::to_string(i));
    const Result r =
        run_ddlsim("sweep " + file + " --shard " + std::to_string(i) + "/3 --quiet --output " + dir.string());
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(count_lines(dir / "results.jsonl") == 2);
    dirs += ' ';
    dirs += dir.string();
  }
  const fs::path merged = temp_dir("sweep-merged");
  const Result r = run_ddlsim("sweep merge " + merged.string() + dirs);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(read_file(merged / "results.csv") == read_file(whole / "results.csv"));
  // A shard with no points of its own still writes the CSV's header.
  const fs::path empty = temp_dir("sweep-shard-empty");
  REQUIRE(run_ddlsim("sweep " + file + " --shard 7/8 --quiet --output " + empty.string()).exit_code == 0);
  const std::vector<std::string> empty_csv = lines_of(read_file(empty / "results.csv"));
  REQUIRE(empty_csv.size() == 1);
  CHECK(empty_csv[0] == lines_of(read_file(whole / "results.csv"))[0]);
  // Shards of different sweeps do not merge.
  const std::string other = write_file("shards_other.json", training_sweep({{"cluster.nodes", {3}}}).dump());
  const fs::path other_dir = temp_dir("sweep-shard-other");
  REQUIRE(run_ddlsim("sweep " + other + " --quiet --output " + other_dir.string()).exit_code == 0);
  const Result e = run_ddlsim("sweep merge " + temp_dir("sweep-merged-bad").string() + dirs + " " + other_dir.string());
  CHECK(e.exit_code == 2);
  CHECK(e.output.find("cannot merge with sweep") != std::string::npos);
}

TEST_CASE("every shipped sweep loads and each of its points is a valid scenario")
{
  int sweeps = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(DDLSIM_SOURCE_DIR) + "/scenarios")) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".json")
      continue;
    if (json::parse(read_file(entry.path())).count("sweep") == 0)
      continue;
    ++sweeps;
    CAPTURE(path);
    const ddlsim::cli::Sweep sweep = ddlsim::cli::load_sweep(path);
    CHECK(sweep.point_count() > 1);
    for (std::size_t i = 0; i < sweep.point_count(); ++i) {
      CAPTURE(i);
      CHECK_NOTHROW(ddlsim::scenario::parse_scenario(sweep.point_document(i), path));
    }
  }
  CHECK(sweeps >= 3);  // scaling, GRACE codecs, in-network algorithms
}
