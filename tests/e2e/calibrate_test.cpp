// End-to-end: `ddlsim predict` and `ddlsim calibrate --from-iteration` as a user runs them.
#include <doctest/doctest.h>

#include "approx.hpp"
#include "calibration/profile_json.hpp"
#include "e2e/cli_helpers.hpp"

#include <filesystem>

using namespace ddlsim::test;

TEST_CASE("predict prints the iteration next to its bounds, then the measured one once it is recorded")
{
  const std::string profile = write_profile("e2e-iteration", profile_json());
  const Result before = run_ddlsim("predict resnet50 --gpu " + profile + " --batch 64 --json");
  REQUIRE(before.exit_code == 0);
  const auto p = nlohmann::json::parse(before.output);
  CHECK(p["iteration_s"].get<double>() > p["gemm_bound_s"].get<double>());
  CHECK(p["iteration_s"].get<double>() > p["memory_bound_s"].get<double>());
  CHECK(p["measured_iteration_s"].is_null());

  const Result rec = run_ddlsim("calibrate --from-iteration --gpu " + profile +
                                " --model resnet50 --batch 64 --time 180ms --source 'a test rig'");
  CAPTURE(rec.output);
  REQUIRE(rec.exit_code == 0);
  const Result after = run_ddlsim("predict resnet50 --gpu " + profile + " --batch 64");
  CAPTURE(after.output);
  CHECK(after.output.find("measured iteration     180.000 ms") != std::string::npos);
  CHECK(after.output.find("GEMM-only bound") != std::string::npos);

  // Elementwise fusion removes the ReLUs' and adds' own passes and launches: the same bounds'
  // GEMM part, fewer kernels, a shorter iteration, and the header says so.
  const Result fused_text = run_ddlsim("predict resnet50 --gpu " + profile + " --batch 64 --fusion elementwise");
  CHECK(fused_text.output.find("resnet50 batch 64 fp32, elementwise layers fused on") != std::string::npos);
  const auto fused = nlohmann::json::parse(
      run_ddlsim("predict resnet50 --gpu " + profile + " --batch 64 --fusion elementwise --json").output);
  CHECK(fused["fusion"] == "elementwise");
  CHECK(fused["kernels"].get<int>() == p["kernels"].get<int>() - 2 * (49 + 16));
  CHECK(fused["gemm_bound_s"].get<double>() == Rel(p["gemm_bound_s"].get<double>()).epsilon(1e-12));
  CHECK(fused["iteration_s"].get<double>() < p["iteration_s"].get<double>());

  // Recording again replaces the measurement rather than adding a second one.
  REQUIRE(run_ddlsim("calibrate --from-iteration --gpu " + profile + " --model resnet50 --batch 64 --time 170ms")
              .exit_code == 0);
  const auto again =
      nlohmann::json::parse(run_ddlsim("predict resnet50 --gpu " + profile + " --batch 64 --json").output);
  CHECK(again["measured_iteration_s"].get<double>() == Rel(0.17).epsilon(1e-12));
}

TEST_CASE("predict in tf32: fp32 data, products at the tf32 rate")
{
  auto j = profile_json();
  j["peak"]["tf32"] = "40TFLOPS";  // 4 x the fp32 peak, both at the profile's GEMM efficiency
  const std::string profile = write_profile("e2e-tf32", j);
  const std::string run = "predict gpt2-124m-block --gpu " + profile + " --batch 8 --json --precision ";
  const Result fp32 = run_ddlsim(run + "fp32"), tf32 = run_ddlsim(run + "tf32");
  CAPTURE(tf32.output);
  REQUIRE(fp32.exit_code == 0);
  REQUIRE(tf32.exit_code == 0);
  const auto a = nlohmann::json::parse(fp32.output), b = nlohmann::json::parse(tf32.output);
  CHECK(b["precision"] == "tf32");
  CHECK(b["gemm_bound_s"].get<double>() == Rel(a["gemm_bound_s"].get<double>() / 4).epsilon(1e-12));
  CHECK(b["memory_bound_s"].get<double>() == Rel(a["memory_bound_s"].get<double>()).epsilon(1e-12));
  CHECK(b["bytes"].get<double>() == Rel(a["bytes"].get<double>()).epsilon(1e-12));
}

TEST_CASE("predict --attention flash: the header says so, and attention takes 3 kernels instead of 8")
{
  const std::string profile = write_profile("e2e-flash", profile_json());
  const std::string run = "predict gpt2-124m-block --gpu " + profile + " --batch 8";
  const auto plain = nlohmann::json::parse(run_ddlsim(run + " --json").output);
  const Result text = run_ddlsim(run + " --attention flash");
  CAPTURE(text.output);
  CHECK(text.output.find("gpt2-124m-block batch 8 fp32, sequence 1024, flash attention on") != std::string::npos);
  const auto flash = nlohmann::json::parse(run_ddlsim(run + " --attention flash --json").output);
  CHECK(plain["attention"] == "materialized");
  CHECK(flash["attention"] == "flash");
  CHECK(flash["kernels"].get<int>() == plain["kernels"].get<int>() - 5);
}

TEST_CASE("predict and calibrate refuse bad input with one message and exit status 2")
{
  const std::string profile = write_profile("e2e-bad", profile_json());
  const std::vector<std::pair<std::string, std::string>> cases{
      {"predict resnet5O --gpu " + profile, "unknown model 'resnet5O'"},
      {"predict resnet50 --gpu nope", "--gpu: found 'nope'; expected a shipped GPU profile"},
      {"predict resnet50 --gpu " + profile + " --precision bf16", "has no bf16 peak"},
      {"predict resnet50 --gpu " + profile + " --attention sdpa",
       "--attention: found 'sdpa'; expected materialized or flash"},
      {"predict resnet50 --gpu " + profile + " --precision fp64",
       "--precision: found 'fp64'; expected fp32, tf32, fp16 or bf16"},
      {"predict resnet50", "predict needs --gpu PROFILE"},
      {"predict resnet50 --gpu " + profile + " --fusion xla",
       "--fusion: found 'xla'; expected one of: none, elementwise"},
      {"calibrate --from-iteration --gpu " + profile + " --model resnet50 --batch 8 --time fast",
       "--time expects a positive duration such as '182ms', found 'fast'"},
      {"calibrate --from-nccl-tests /nonexistent.log --output /tmp/x.json", "/nonexistent.log: cannot open the file"},
      {"calibrate --from-nccl-tests a.log --output n.json --op allreduce", "--op: found 'allreduce'; expected one of"},
  };
  for (const auto& [args, message] : cases) {
    CAPTURE(args);
    const Result r = run_ddlsim(args);
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(message) != std::string::npos);
  }
}
