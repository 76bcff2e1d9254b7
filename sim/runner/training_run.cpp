// A training run: the workload's task graph (data-parallel, or staged: pipeline, tensor, expert,
// ZeRO) run once on the platform, its iterations timed per rank, and report.json assembled.
#include "sim/runner/steps.hpp"

#include "models/zoo.hpp"
#include "sim/report/training_sections.hpp"
#include "sim/workload/collective_plan.hpp"
#include "sim/workload/pipeline.hpp"
#include "sim/workload/training.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <optional>

namespace ddlsim::runner {

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::workload;
using namespace ddlsim::report;
using nlohmann::json;

namespace {

std::vector<std::uint32_t> server_hosts(const Scenario& s, const topo::Topology& topology)
{
  std::vector<std::uint32_t> hosts;
  const TrainingConfig& t = s.training;
  if (t.architecture != ArchitectureKind::ps)
    return hosts;
  for (int j = 0; j < t.servers; ++j) {
    if (t.placement == PsPlacement::dedicated)
      hosts.push_back(topology.server_host(static_cast<std::uint32_t>(j)));
    else  // spread over the nodes, on each one's first GPU
      hosts.push_back(
          static_cast<std::uint32_t>(std::int64_t(j) * s.cluster.nodes / t.servers * s.cluster.gpus_per_node));
  }
  return hosts;
}

/// The task graph of a training: staged (pipeline, tensor, expert parallelism or ZeRO) with its
/// per-stage accounting, or data-parallel alone.
struct TrainingRun {
  std::optional<PipelineTraining> pipeline;
  TrainingPlan plan;
};

/// The communication groups of a staged training. Every GPU is a rank: d data-parallel replicas,
/// each over pipeline_parallel stages of tensor_parallel GPUs; GPU (s d + i) t + k runs tensor rank
/// k of stage s of replica i.
PipelineTraining staged_training(const Scenario& s, const model::Model& model, const topo::Topology& topology)
{
  const TrainingConfig& t = s.training;
  const auto d = static_cast<std::uint32_t>(t.data_parallel);
  const auto gpn = static_cast<std::uint32_t>(s.cluster.gpus_per_node);
  const auto tp = static_cast<std::uint32_t>(t.tensor_parallel);
  std::vector<coll::GroupShape> groups, tensor_groups;
  ExpertGroups experts;
  const auto ep = static_cast<std::uint32_t>(t.expert_parallel);
  for (std::uint32_t stage = 0; stage < static_cast<std::uint32_t>(t.pipeline_parallel); ++stage) {
    for (std::uint32_t k = 0; k < tp; ++k) {
      groups.push_back(group_shape(topology, d, std::min(gpn / tp, d), stage * d * tp + k, tp));
      groups.back().channels = static_cast<coll::Rank>(t.channels);
    }
    for (std::uint32_t i = 0; i < d && tp > 1; ++i)
      tensor_groups.push_back(group_shape(topology, tp, tp, (stage * d + i) * tp));
    // Expert parallelism (tensor 1): groups of e consecutive replicas, and the replicas e apart.
    for (std::uint32_t g = 0; ep > 1 && g < d / ep; ++g)
      experts.alltoall.push_back(group_shape(topology, ep, std::min(gpn, ep), stage * d + g * ep));
    for (std::uint32_t r = 0; ep > 1 && r < ep; ++r) {
      experts.gradients.push_back(
          group_shape(topology, d / ep, std::min(std::max(gpn / ep, 1u), d / ep), stage * d + r, ep));
      experts.gradients.back().channels =
          std::min(static_cast<coll::Rank>(t.channels), experts.gradients.back().gpus_per_node);
    }
  }
  return build_pipeline_training(s, model, groups, tensor_groups, experts);
}

TrainingRun plan_training(const Scenario& s, const model::Model& model, const topo::Topology& topology)
{
  const TrainingConfig& t = s.training;
  TrainingRun run;
  if (t.staged()) {
    run.pipeline = staged_training(s, model, topology);
    run.plan = std::move(run.pipeline->plan);
    return run;
  }
  const auto p = static_cast<std::uint32_t>(t.data_parallel * t.model_parallel());
  const auto gpn = static_cast<std::uint32_t>(s.cluster.gpus_per_node);
  coll::GroupShape shape = group_shape(topology, p, gpn);
  shape.channels = static_cast<coll::Rank>(t.channels);
  const TrainingHosts hosts{server_hosts(s, topology)};
  if (!hosts.servers.empty() && p > 1) {  // the cost model's route: a worker to a server not on its host
    const std::uint32_t server = hosts.servers.back(), worker = server == 0 ? p - 1 : 0;
    shape.alpha_inter_s = topology.route_latency_seconds(worker, server);
    shape.bandwidth_inter = topology.route_bandwidth_bytes_per_s(worker, server);
  }
  run.plan = build_training(s, model, shape, hosts);
  return run;
}

/// When each rank ended each iteration, and the iteration times: a rank's iteration ends with the
/// last of its compute and its synchronisation; the iteration time is the span between the slowest
/// rank's ends of consecutive iterations.
struct IterationTimes {
  std::vector<std::vector<double>> end;  ///< [iteration][rank]
  std::vector<double> seconds;           ///< per iteration
};

IterationTimes iteration_times(const TrainingPlan& plan, const Timeline& tl, std::size_t n, std::uint32_t p)
{
  IterationTimes times{std::vector<std::vector<double>>(n, std::vector<double>(p, 0)), {}};
  double prev_end = 0;
  for (std::size_t it = 0; it < n; ++it) {
    double slowest = 0;
    for (std::uint32_t r = 0; r < p; ++r) {
      for (std::uint32_t task : plan.iteration_end[it][r])
        times.end[it][r] = std::max(times.end[it][r], tl.end_seconds[task]);
      slowest = std::max(slowest, times.end[it][r]);
    }
    times.seconds.push_back(slowest - prev_end);
    prev_end = slowest;
  }
  return times;
}

/// Per rank: its own steady-state iteration time; throughput is the sum of the ranks' rates, each
/// GPU of a model replica credited with 1/(stages x tensor) of its replica's micro-batches.
struct RankRates {
  json per_rank;
  double samples_per_s = 0;
};

RankRates rank_rates(const TrainingConfig& t, const IterationTimes& times, std::uint32_t p)
{
  const std::size_t n = times.end.size();
  const auto& end = times.end;
  std::vector<double> rank_seconds(p);
  RankRates rates;
  const double samples_per_rank = double(t.batch_per_gpu) * t.microbatches / t.model_parallel();
  for (std::uint32_t r = 0; r < p; ++r) {
    rank_seconds[r] = n > 1 ? (end[n - 1][r] - end[0][r]) / double(n - 1) : end[0][r];
    rates.samples_per_s += samples_per_rank / rank_seconds[r];
  }
  rates.per_rank = {{"iteration_time_s",
                     {{"mean", std::accumulate(rank_seconds.begin(), rank_seconds.end(), 0.0) / p},
                      {"min", *std::min_element(rank_seconds.begin(), rank_seconds.end())},
                      {"max", *std::max_element(rank_seconds.begin(), rank_seconds.end())}}},
                    {"finish_s",
                     {{"min", *std::min_element(end[n - 1].begin(), end[n - 1].end())},
                      {"max", *std::max_element(end[n - 1].begin(), end[n - 1].end())}}}};
  if (p <= 256)
    rates.per_rank["values_s"] = rank_seconds;
  return rates;
}

/// Codec kernels of rank 0 per iteration (on the compute stream they add to the iteration as
/// compute does, so they are not counted as exposed communication), and the bytes rank 0 sends.
struct RankZero {
  double codec_seconds = 0;
  double bytes_sent = 0;
};

RankZero rank_zero(const TrainingRun& run, int iterations)
{
  RankZero z;
  for (const Task& task : run.plan.graph.tasks())
    if (task.stream == Stream::codec && task.rank == 0)
      z.codec_seconds += task.seconds;
  z.codec_seconds /= iterations;
  for (const CollectiveInstance& c : run.plan.graph.collectives())
    for (std::size_t g = 0; g < c.ranks.size(); ++g)
      if (c.ranks[g] == 0)
        z.bytes_sent += c.schedule->bytes_sent_by(static_cast<coll::Rank>(g));
  if (run.pipeline)  // what GPU 0 sends in the collectives that alpha_beta charges without simulating them
    z.bytes_sent += run.pipeline->alpha_beta_bytes_sent_gpu0;
  return z;
}

/// Per GPU and iteration: compute (the busiest stage's, under pipeline parallelism), the pipeline
/// bubble (what the schedule idles it with free communication), tensor-parallel all-reduces and
/// expert all-to-alls (the time the busiest stage's first GPU spends in them, waits for the rest of
/// its group included); and what the memory estimate needs per stage.
struct Breakdown {
  double compute = 0, forward = 0, bubble = 0, tensor = 0, alltoall = 0;
  std::vector<std::array<double, 5>> memory_stages;  ///< per stage: see memory_json
  std::vector<double> unit_bytes;                    ///< ZeRO stage 3: per unit gathered
};

Breakdown data_parallel_breakdown(const TrainingConfig& t, const model::Model& model, const TrainingPlan& plan)
{
  Breakdown b{plan.compute_seconds, plan.forward_seconds, 0, 0, 0, {}, {}};
  const KeptActivations kept = kept_activations(model, 0, model.layers.size(), t.recompute);
  const double per_sample = t.batch_per_gpu * bytes_per_element(t.precision);
  b.memory_stages.push_back({plan.gradient_bytes, kept.kept * per_sample, 1, kept.peak * per_sample, 0});
  return b;
}

/// The staged training's breakdown; adds its pipeline, tensor, expert and ZeRO sections to `workload`.
Breakdown staged_breakdown(const Scenario& s, const model::Model& model, const TrainingRun& run, const Timeline& tl,
                           json& workload)
{
  const TrainingConfig& t = s.training;
  const PipelineTraining& pt = *run.pipeline;
  if (t.pipeline_parallel > 1)
    workload["pipeline"] = pipeline_json(s, model, pt);
  if (t.tensor_parallel > 1)
    workload["tensor"] = tensor_json(s, pt);
  if (t.expert_parallel > 1)
    workload["expert"] = expert_json(s, model, pt);
  if (t.zero_stage > 0)
    workload["zero"] = zero_json(t, run.plan, pt);
  Breakdown b;
  for (const PipelineStage& st : pt.stages)
    b.memory_stages.push_back({st.gradient_bytes, st.activation_bytes, double(st.in_flight), st.recompute_peak_bytes,
                               st.expert_gradient_bytes});
  if (t.zero_stage == 3)
    for (const Bucket& bucket : run.plan.buckets)
      b.unit_bytes.push_back(bucket.gradient_bytes);
  b.compute = pt.busiest_compute_seconds;
  b.forward = pt.busiest_forward_seconds;
  // At least 0: the ideal pipeline holds its busiest stage's compute and all-reduces (rounding aside).
  b.bubble = std::max(0.0, pt.ideal_seconds - b.compute - pt.busiest_tensor_seconds - pt.busiest_alltoall_seconds);
  for (std::uint32_t task : pt.tensor_tasks)
    b.tensor += tl.end_seconds[task] - tl.start_seconds[task];
  b.tensor /= t.iterations;
  for (std::uint32_t task : pt.alltoall_tasks)
    b.alltoall += tl.end_seconds[task] - tl.start_seconds[task];
  b.alltoall /= t.iterations;
  return b;
}

/// report.json's "workload" section, before the staged sections.
json workload_json(const Scenario& s, const TrainingPlan& plan)
{
  const TrainingConfig& t = s.training;
  const auto d = static_cast<std::uint32_t>(t.data_parallel);
  json workload = {
      {"data_parallel", d},
      {"batch_per_gpu", t.batch_per_gpu},
      {"precision", to_string(t.precision)},
      {"iterations", t.iterations},
      {"policy", to_string(t.policy)},
      {"bucket_bytes", t.policy == SchedulingPolicy::fusion ? t.bucket_bytes : plan.gradient_bytes},
      {"algorithm", coll::to_string(t.algorithm)},
      {"algorithms_used", algorithm_names(plan.algorithms)},
      {"fidelity", plan.fidelity == coll::ScheduleFidelity::step ? "step" : "flow"},
      {"fidelity_requested", to_string(t.fidelity)},
      {"gradient_bytes", plan.gradient_bytes},
      {"collectives_per_iteration", d > 1 ? plan.slices : 0},
      {"compute_source", t.compute.iteration_seconds > 0 ? "measured single-GPU iteration" : "GPU peak x efficiency"}};
  workload.update(training_config_json(s, plan));
  return workload;
}

}  // namespace

RunResult simulate_training(const Scenario& s, const topo::Topology& topology, const Platform& platform)
{
  const model::Model model = scenario_model(s);
  const TrainingConfig& t = s.training;
  const auto p = static_cast<std::uint32_t>(t.data_parallel * t.model_parallel());
  const TrainingRun run = plan_training(s, model, topology);
  const TrainingPlan& plan = run.plan;
  const Timeline tl = execute(plan.graph, platform, exec_options(s));

  const auto n = static_cast<std::size_t>(t.iterations);
  const IterationTimes times = iteration_times(plan, tl, n, p);
  const std::vector<double>& iteration_seconds = times.seconds;
  const json stats = steady_stats(iteration_seconds);
  const double mean = stats["mean"].get<double>();
  const RankRates rates = rank_rates(t, times, p);
  const double samples_per_s = rates.samples_per_s;
  const RankZero zero = rank_zero(run, t.iterations);
  const double codec_seconds = zero.codec_seconds;
  const double exposed_codec = t.compression.separate_stream ? 0 : codec_seconds;
  const double single_gpu_samples_per_s = t.batch_per_gpu / plan.compute_seconds;
  json workload = workload_json(s, plan);
  const Breakdown b =
      run.pipeline ? staged_breakdown(s, model, run, tl, workload) : data_parallel_breakdown(t, model, plan);
  const double compute_s = b.compute, forward_s = b.forward, bubble_s = b.bubble, tensor_s = b.tensor,
               alltoall_s = b.alltoall;
  json report = {
      {"schema", 1},
      {"scenario", s.name},
      {"kind", "training"},
      {"model",
       {{"name", model.name},
        {"parameters", model.total_params()},
        {"layers", model.layers.size()},
        {"sequence", s.sequence},
        {"forward_flops_per_sample", model.forward_flops_per_sample()}}},
      {"cluster", cluster_summary(s, topology)},
      {"workload", workload},
      {"iteration_time_s",
       {{"mean", mean},
        {"min", stats["min"]},
        {"max", stats["max"]},
        {"per_iteration", iteration_seconds},
        {"steady_state_from", n > 1 ? 1 : 0}}},
      {"throughput", throughput_json(samples_per_s, s.sequence)},
      {"single_gpu",
       {{"iteration_time_s", plan.compute_seconds},
        {"samples_per_s", single_gpu_samples_per_s},
        {"compute_model", compute_model_name(s)},
        {"scaled_to_measured", t.compute.iteration_source.empty() ? json(nullptr) : json(t.compute.iteration_source)}}},
      {"scaling_efficiency", samples_per_s / (p * single_gpu_samples_per_s)},
      {"breakdown_s",
       {{"compute", compute_s},
        {"forward", forward_s},
        {"backward", compute_s - forward_s},
        {"codec", codec_seconds},
        {"pipeline_bubble", bubble_s},
        {"tensor_parallel_communication", tensor_s},
        {"expert_parallel_communication", alltoall_s},
        {"exposed_communication", mean - compute_s - bubble_s - tensor_s - alltoall_s - exposed_codec}}},
      {"per_rank", rates.per_rank},
      {"statistics", statistics_json(t, plan, tl, p)},
      {"traffic", {{"bytes_sent_per_gpu_per_iteration", zero.bytes_sent / t.iterations}}},
      {"memory", memory_json(s, b.memory_stages, plan.compression.extra_memory_bytes, b.unit_bytes)},
      {"reduction",
       {{"charged", s.gpu.reduce_seconds_per_byte() > 0}, {"seconds_per_byte", s.gpu.reduce_seconds_per_byte()}}},
      {"simulation",
       {{"transfers", tl.transfers},
        {"timers", tl.timers},
        {"tasks", plan.graph.tasks().size()},
        {"simulated_seconds", tl.makespan_seconds}}},
  };
  if (t.failures.enabled)
    report["failures"] = failures_json(s, model, mean, samples_per_s);
  return finish(s, topology, tl, plan.graph, std::move(report));
}

}  // namespace ddlsim::runner
