#include "sim/run.hpp"

#include "models/zoo.hpp"
#include "sim/collective_plan.hpp"
#include "sim/error.hpp"
#include "sim/failures.hpp"
#include "sim/link_report.hpp"
#include "sim/pipeline.hpp"
#include "sim/trace.hpp"
#include "sim/training.hpp"
#include "sim/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <numeric>
#include <optional>

namespace ddlsim {

namespace {

using nlohmann::json;

json algorithm_names(const std::vector<coll::Algorithm>& used)
{
  json names = json::array();
  for (coll::Algorithm a : used)
    names.push_back(coll::to_string(a));
  return names;
}

json cluster_summary(const Scenario& s, const topo::Topology& topology)
{
  const ClusterConfig& c = s.cluster;
  return {{"gpus", c.gpus()},
          {"nodes", c.nodes},
          {"gpus_per_node", c.gpus_per_node},
          {"nics_per_node", c.nics_per_node},
          {"topology", topo::to_string(c.network.topology)},
          {"network_link", c.network.link.preset.empty() ? "inline" : c.network.link.preset},
          {"network_bandwidth_bytes_per_s", c.network.link.bandwidth_bytes_per_s},
          {"network_latency_s", c.network.link.latency_seconds},
          {"sharing", to_string(c.network.sharing)},
          {"links", topology.link_count()},
          {"slow_links", slow_links_json(c)}};
}

ExecOptions exec_options(const Scenario& s)
{
  ExecOptions o;
  o.reduce_seconds_per_byte = s.gpu.reduce_seconds_per_byte();
  o.record_transfers = s.output.trace;
  return o;
}

/// Adds the link summary to the report; the link table and (when asked for) the trace to the result.
RunResult finish(const Scenario& s, const topo::Topology& topology, const Timeline& tl, const TaskGraph& graph,
                 json report)
{
  LinkReport links = link_report(topology, tl);
  report["links"] = std::move(links.summary);
  RunResult result{std::move(report), nullptr, std::move(links.csv)};
  if (s.output.trace)
    result.trace = chrome_trace(graph, tl, s.cluster.gpus_per_node, s.output.trace_ranks);
  return result;
}

/// Where the report's codec costs come from.
std::string codec_source(compress::Codec codec, const GpuProfile& profile)
{
  if (const char* entry = compress::profile_entry(codec))
    return profile.codec(entry)->source;
  const std::string roofline = "roofline of each matrix's GEMMs at the profile's fp32 GEMM rate and copy bandwidth";
  if (const CodecCost* measured = profile.codec("powersgd"))
    return roofline + ", scaled to the profile's rank-4 PowerSGD at as many elements (" + measured->source + ")";
  return roofline;
}

/// Where layer times come from, as the report says it.
std::string compute_model_name(const Scenario& s)
{
  if (s.gpu.roofline)
    return fmt::format("roofline of GPU profile {} ({}){}", s.profile->name, s.profile->provenance(),
                       s.gpu.fusion == calib::Fusion::elementwise ? ", elementwise layers fused" : "");
  return fmt::format("placeholder: {:g} of a {:.4g} TFLOP/s peak for every layer", s.gpu.efficiency,
                     s.gpu.peak_flops_per_s / 1e12);
}

/// Samples per second, and tokens per second for sequence models.
json throughput_json(double samples_per_s, int sequence)
{
  json t = {{"samples_per_s", samples_per_s}};
  if (sequence > 0)
    t["tokens_per_s"] = samples_per_s * sequence;
  return t;
}

/// Mean, min and max of the iterations after the first (warm-up: nothing to overlap with yet), or
/// of the first when there is only one.
json steady_stats(const std::vector<double>& v)
{
  const auto first = v.size() > 1 ? v.begin() + 1 : v.begin();
  const double n = static_cast<double>(v.end() - first);
  return {{"mean", std::accumulate(first, v.end(), 0.0) / n},
          {"min", *std::min_element(first, v.end())},
          {"max", *std::max_element(first, v.end())}};
}

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

json training_config_json(const Scenario& s, const TrainingPlan& plan)
{
  const TrainingConfig& t = s.training;
  json arch = {{"kind", to_string(t.architecture)}};
  if (t.architecture == ArchitectureKind::allreduce) {
    arch["algorithm"] = coll::to_string(t.algorithm);
    arch["algorithms_used"] = algorithm_names(plan.algorithms);
  } else if (t.architecture == ArchitectureKind::ps) {
    arch["servers"] = t.servers;
    arch["placement"] = to_string(t.placement);
  } else {
    arch["graph"] = to_string(t.graph);
    arch["neighbours"] = gossip_neighbours(t.graph, static_cast<std::uint32_t>(t.data_parallel), 0).size();
  }
  json sync = {{"scheme", to_string(t.sync)}};
  if (t.sync == SyncScheme::ssp)
    sync["staleness"] = t.staleness;
  if (t.sync == SyncScheme::local_sgd)
    sync["period"] = t.period;
  json sched = {{"policy", to_string(t.policy)}, {"buckets", plan.buckets.size()}};
  if (t.policy == SchedulingPolicy::fusion) {
    sched["bucket_bytes"] = t.bucket_bytes;
    sched["cycle_time_s"] = t.cycle_seconds;
  }
  if (t.policy == SchedulingPolicy::priority) {
    sched["partition_bytes"] = t.partition_bytes;
    sched["credit_bytes"] = t.credit_bytes;
    sched["slices"] = plan.slices;
  }
  json result = {{"architecture", arch}, {"sync", sync}, {"scheduling", sched}, {"recompute", to_string(t.recompute)}};
  const compress::CodecConfig& c = t.compression;
  if (c.codec != compress::Codec::none) {
    const CompressionStats& stats = plan.compression;
    json codec = to_json(s).at("workload").at("compression");
    codec["summable"] = compress::summable(c.codec);
    if (t.architecture == ArchitectureKind::ps)
      codec["exchange"] = "ps";
    codec["gradient_bytes"] = plan.gradient_bytes;
    codec["wire_bytes_per_worker"] = stats.wire_bytes;
    codec["compression_ratio"] = stats.wire_bytes > 0 ? plan.gradient_bytes / stats.wire_bytes : 0;
    codec["encode_s"] = stats.encode_seconds;
    codec["decode_s"] = stats.decode_seconds;
    codec["extra_memory_bytes"] = stats.extra_memory_bytes;
    codec["profile"] = {{"name", s.profile->name},
                        {"file", s.profile->file},
                        {"measured", s.profile->measured},
                        {"provenance", s.profile->provenance()},
                        {"codec_source", codec_source(c.codec, *s.profile)}};
    result["compression"] = codec;
  }
  return result;
}

json pipeline_json(const Scenario& s, const model::Model& model, const PipelineTraining& pt)
{
  const TrainingConfig& t = s.training;
  json stages = json::array();
  for (const PipelineStage& st : pt.stages)
    stages.push_back({{"layers", st.layers},
                      {"first_layer", model.layers[st.first_layer].name},
                      {"last_layer", model.layers[st.first_layer + st.layers - 1].name},
                      {"forward_s", st.forward_seconds},
                      {"backward_s", st.backward_seconds},
                      {"gradient_bytes", st.gradient_bytes},
                      {"send_bytes", st.send_bytes},
                      {"micro_batches_in_flight", st.in_flight},
                      {"activation_bytes_in_flight", st.in_flight * st.activation_bytes}});
  return {{"stages", t.pipeline_parallel},
          {"microbatches", t.microbatches},
          {"schedule", to_string(t.pipeline_schedule)},
          {"samples_per_iteration", double(t.batch_per_gpu) * t.microbatches * t.data_parallel},
          {"ideal_iteration_s", pt.ideal_seconds},
          {"bubble_fraction", 1 - pt.busiest_compute_seconds / pt.ideal_seconds},
          {"per_stage", stages}};
}

/// Bytes of Adam's state per parameter: momentum and variance in fp32, plus an fp32 master copy of
/// the weights when training in fp16 or bf16 (mixed precision: K = 12 in Rajbhandari et al., 2020).
/// tf32 keeps fp32 weights.
double adam_bytes_per_parameter(Precision precision)
{
  return precision == Precision::fp32 || precision == Precision::tf32 ? 8 : 12;
}

/// Bytes one GPU keeps of a stage's `weights` bytes of parameters, of their gradients and of
/// Adam's state: ZeRO's 1/d shards over the d replicas (stage 1 shards the optimizer states, 2
/// also the gradients, 3 also the parameters), before what stage 3 gathers. The `experts` bytes of
/// them (its own experts') are sharded over the d / e replicas that hold the same experts (all d
/// without expert parallelism, which gives the same as counting them with the rest).
struct ZeroShares {
  double parameters, gradients, optimizer_states;
};
ZeroShares zero_shares(const TrainingConfig& t, double weights, double experts = 0)
{
  const auto shares = [&](double bytes, double d) {
    const double params = bytes / bytes_per_element(t.precision);
    return ZeroShares{t.zero_stage >= 3 ? bytes / d : bytes, t.zero_stage >= 2 ? bytes / d : bytes,
                      adam_bytes_per_parameter(t.precision) * params / (t.zero_stage >= 1 ? d : 1)};
  };
  const double d = t.data_parallel;
  const ZeroShares dense = shares(weights - experts, d), own = shares(experts, d / t.expert_parallel);
  return {dense.parameters + own.parameters, dense.gradients + own.gradients,
          dense.optimizer_states + own.optimizer_states};
}

/// What one GPU keeps in device memory at its peak, from what the simulator knows of the model:
/// the weights and their gradients in the training precision, Adam's state, ZeRO's shards of them
/// over the d replicas, the layer outputs its micro-batches in flight keep for backward, and a
/// codec's residuals. `stages`: (parameters' bytes, activation bytes of a micro-batch, micro-batches
/// in flight, bytes that recomputation re-creates at once, and of the parameters' bytes its experts'
/// under expert parallelism) per pipeline stage of a GPU; the stage
/// that needs the most is reported. An estimate: without recomputation every layer's output and
/// attention's probabilities (flash attention: its row log-sum-exps) count as kept (in-place ReLUs
/// keep less), and
/// framework workspace and fragmentation are not counted.
/// ZeRO stage 3 keeps a 1/d shard of the weights plus the two units it may have gathered at once
/// (`units`: each unit's bytes), and a 1/d shard of the gradients plus the full gradient of the
/// unit being reduce-scattered.
json memory_json(const Scenario& s, const std::vector<std::array<double, 5>>& stages, double codec_bytes,
                 std::vector<double> units = {})
{
  const TrainingConfig& t = s.training;
  std::sort(units.begin(), units.end(), std::greater<>());
  units.resize(2, 0.0);
  json best;
  double most = -1;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const auto [full_weights, activations, in_flight, recomputed, experts] = stages[i];
    const ZeroShares shares = zero_shares(t, full_weights, experts);
    const double weights = shares.parameters + units[0] + units[1];  // units: stage 3 only
    const double gradients = shares.gradients + units[0];
    const double optimizer = shares.optimizer_states;
    const double kept = activations * in_flight + recomputed;
    const double total = weights + gradients + optimizer + kept + codec_bytes;
    if (total > most) {
      most = total;
      best = {{"stage", i},
              {"bytes_per_gpu",
               {{"parameters", weights},
                {"gradients", gradients},
                {"optimizer_states", optimizer},
                {"activations", kept},
                {"codec_state", codec_bytes},
                {"total", total}}}};
    }
  }
  best["optimizer"] = "adam";
  best["recompute"] = to_string(t.recompute);
  best["note"] =
      fmt::format("an estimate: weights and gradients in the training precision, Adam's state (ZeRO-sharded; stage 3: "
                  "weight and gradient shards plus two gathered units), what backward needs of forward (every "
                  "layer's output and attention's {}, less what recomputation re-creates), codec "
                  "residuals; no workspace or fragmentation",
                  s.gpu.flash_attention ? "row log-sum-exps (flash)" : "probabilities");
  const double capacity = s.profile ? s.profile->memory_bytes : 0;
  best["capacity_bytes"] = capacity > 0 ? json(capacity) : json(nullptr);
  best["fits"] = capacity > 0 ? json(most <= capacity) : json(nullptr);
  return best;
}

/// The expected share of wall time a long job trains between failures, restarts and checkpoints
/// (sim/failures.hpp), and the throughput that leaves. A checkpoint holds one copy of the weights
/// in the training precision and of Adam's state, however they are sharded over the GPUs.
json failures_json(const Scenario& s, const model::Model& model, double iteration_seconds, double samples_per_s)
{
  const TrainingConfig& t = s.training;
  const double state_bytes =
      double(model.total_params()) * (bytes_per_element(t.precision) + adam_bytes_per_parameter(t.precision));
  const FailureEstimate e = estimate_failures(t.failures, s.cluster.gpus(), state_bytes, iteration_seconds);
  return {{"gpu_mtbf_s", t.failures.gpu_mtbf_seconds},
          {"job_mtbf_s", e.job_mtbf_seconds},
          {"failures_per_day", e.failures_per_day},
          {"checkpoint_bytes", e.state_bytes},
          {"checkpoint_s", e.checkpoint_seconds},
          {"restart_s", e.restart_seconds},
          {"interval_s", e.interval_seconds},
          {"interval_iterations", e.interval_iterations},
          {"interval_source", e.optimal ? "optimal" : "scenario"},
          {"young_interval_s", e.young_interval_seconds},
          {"efficiency", e.efficiency},
          {"effective_samples_per_s", samples_per_s * e.efficiency},
          {"note", "expected fraction of wall time that trains, with exponentially distributed failures of the "
                   "job's GPUs, checkpoints between iterations and a restart from the last one after each failure "
                   "(Daly, 2006)"}};
}

json tensor_json(const Scenario& s, const PipelineTraining& pt)
{
  const TrainingConfig& t = s.training;
  json stages = json::array();
  for (const PipelineStage& st : pt.stages)
    stages.push_back({{"allreduces_forward", st.tensor_allreduces_forward},
                      {"allreduces_backward", st.tensor_allreduces_backward},
                      {"bytes_forward", st.tensor_bytes_forward},
                      {"bytes_backward", st.tensor_bytes_backward},
                      {"alpha_beta_forward_s", st.tensor_forward_seconds},
                      {"alpha_beta_backward_s", st.tensor_backward_seconds},
                      {"allgathers_backward", st.tensor_allgathers_backward},
                      {"allgather_bytes_backward", st.tensor_gather_bytes_backward}});
  return {{"size", t.tensor_parallel},
          {"comm", to_string(t.tensor_comm)},
          {"sequence_parallel", t.sequence_parallel},
          {"algorithm", "ring"},
          {"note", t.sequence_parallel
                       ? "per micro-batch and GPU: the tensor-parallel group's reduce-scatters and all-gathers, costed "
                         "as the all-reduces they add up to (two per transformer block each way, the embedding's in "
                         "forward, the LM head's input gradient in backward), plus in backward an all-gather of each "
                         "column-parallel layer's sharded input; on the compute stream"
                       : "per micro-batch and GPU: the tensor-parallel group's all-reduces (Megatron-LM's split: two "
                         "per transformer block each way, the embedding's in forward, the LM head's input gradient in "
                         "backward), on the compute stream"},
          {"per_stage", stages}};
}

json expert_json(const Scenario& s, const model::Model& model, const PipelineTraining& pt)
{
  const TrainingConfig& t = s.training;
  int layers = 0;
  for (const model::Layer& l : model.layers)
    layers += l.dispatch_elements_per_sample > 0 ? 1 : 0;
  json stages = json::array();
  for (const PipelineStage& st : pt.stages)
    stages.push_back({{"alltoalls_forward", st.alltoalls_forward},
                      {"alltoalls_backward", st.alltoalls_backward},
                      {"bytes_forward", st.alltoall_bytes_forward},
                      {"bytes_backward", st.alltoall_bytes_backward},
                      {"alpha_beta_forward_s", st.alltoall_forward_seconds},
                      {"alpha_beta_backward_s", st.alltoall_backward_seconds},
                      {"expert_gradient_bytes", st.expert_gradient_bytes}});
  return {{"size", t.expert_parallel},
          {"experts_per_layer", model::max_experts(model)},
          {"experts_per_gpu", model::max_experts(model) / t.expert_parallel},
          {"moe_layers", layers},
          {"algorithm", "direct"},
          {"comm", to_string(t.expert_comm)},
          {"zipf", t.expert_zipf},
          {"gradient_group", t.data_parallel / t.expert_parallel},
          {"note", "per micro-batch and GPU: the expert-parallel group's all-to-alls (dispatch before and combine "
                   "after each mixture-of-experts feed-forward, their gradients in backward; bytes: what a GPU sends, "
                   "its own share included), on the compute stream; expert gradients are all-reduced over the "
                   "gradient_group replicas that hold the same experts"},
          {"per_stage", stages}};
}

RunResult simulate_training(const Scenario& s, const topo::Topology& topology, const Platform& platform)
{
  const model::Model model = scenario_model(s);
  const TrainingConfig& t = s.training;
  const auto d = static_cast<std::uint32_t>(t.data_parallel);
  const auto gpn = static_cast<std::uint32_t>(s.cluster.gpus_per_node);
  // Every GPU is a rank: d data-parallel replicas, each over pipeline_parallel stages of
  // tensor_parallel GPUs. GPU (s d + i) t + k runs tensor rank k of stage s of replica i.
  const auto tp = static_cast<std::uint32_t>(t.tensor_parallel);
  const auto p = static_cast<std::uint32_t>(t.data_parallel * t.model_parallel());
  std::optional<PipelineTraining> pipeline;
  TrainingPlan plan;
  if (t.staged()) {
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
    pipeline = build_pipeline_training(s, model, groups, tensor_groups, experts);
    plan = std::move(pipeline->plan);
  } else {
    coll::GroupShape shape = group_shape(topology, p, gpn);
    shape.channels = static_cast<coll::Rank>(t.channels);
    const TrainingHosts hosts{server_hosts(s, topology)};
    if (!hosts.servers.empty() && p > 1) {  // the cost model's route: a worker to a server not on its host
      const std::uint32_t server = hosts.servers.back(), worker = server == 0 ? p - 1 : 0;
      shape.alpha_inter_s = topology.route_latency_seconds(worker, server);
      shape.bandwidth_inter = topology.route_bandwidth_bytes_per_s(worker, server);
    }
    plan = build_training(s, model, shape, hosts);
  }
  const Timeline tl = execute(plan.graph, platform, exec_options(s));

  // A rank's iteration ends with the last of its compute and its synchronisation; the iteration
  // time is the span between the slowest rank's ends of consecutive iterations.
  const auto n = static_cast<std::size_t>(t.iterations);
  std::vector<std::vector<double>> end(n, std::vector<double>(p, 0));
  std::vector<double> iteration_seconds;
  double prev_end = 0;
  for (std::size_t it = 0; it < n; ++it) {
    double slowest = 0;
    for (std::uint32_t r = 0; r < p; ++r) {
      for (std::uint32_t task : plan.iteration_end[it][r])
        end[it][r] = std::max(end[it][r], tl.end_seconds[task]);
      slowest = std::max(slowest, end[it][r]);
    }
    iteration_seconds.push_back(slowest - prev_end);
    prev_end = slowest;
  }
  const json stats = steady_stats(iteration_seconds);
  const double mean = stats["mean"].get<double>();
  // Per rank: its own steady-state iteration time; throughput is the sum of the ranks' rates, each
  // GPU of a model replica credited with 1/(stages x tensor) of its replica's micro-batches.
  std::vector<double> rank_seconds(p);
  double samples_per_s = 0;
  const double samples_per_rank = double(t.batch_per_gpu) * t.microbatches / t.model_parallel();
  for (std::uint32_t r = 0; r < p; ++r) {
    rank_seconds[r] = n > 1 ? (end[n - 1][r] - end[0][r]) / double(n - 1) : end[0][r];
    samples_per_s += samples_per_rank / rank_seconds[r];
  }
  json per_rank = {{"iteration_time_s",
                    {{"mean", std::accumulate(rank_seconds.begin(), rank_seconds.end(), 0.0) / p},
                     {"min", *std::min_element(rank_seconds.begin(), rank_seconds.end())},
                     {"max", *std::max_element(rank_seconds.begin(), rank_seconds.end())}}},
                   {"finish_s",
                    {{"min", *std::min_element(end[n - 1].begin(), end[n - 1].end())},
                     {"max", *std::max_element(end[n - 1].begin(), end[n - 1].end())}}}};
  if (p <= 256)
    per_rank["values_s"] = rank_seconds;

  // Staleness (ssp, asp): when worker w's pull of iteration i completes, how many iterations
  // (i + 1 minus those every worker has pushed) its parameters lag behind.
  json statistics = {{"scheme", to_string(t.sync)}};
  if (!plan.last_push.empty()) {
    std::vector<double> all_pushed(plan.last_push.size(), 0);
    for (std::size_t it = 0; it < plan.last_push.size(); ++it)
      for (std::uint32_t w = 0; w < p; ++w)
        all_pushed[it] = std::max(all_pushed[it], tl.end_seconds[plan.last_push[it][w]]);
    double sum = 0, worst = 0;
    for (std::size_t it = 0; it < plan.last_pull.size(); ++it)
      for (std::uint32_t w = 0; w < p; ++w) {
        const double at = tl.end_seconds[plan.last_pull[it][w]];
        const auto done = std::upper_bound(all_pushed.begin(), all_pushed.end(), at) - all_pushed.begin();
        const double stale = std::max(0.0, double(it + 1) - double(done));
        sum += stale;
        worst = std::max(worst, stale);
      }
    statistics["staleness_iterations"] = {{"mean", sum / double(plan.last_pull.size() * p)}, {"max", worst}};
    statistics["note"] = t.sync == SyncScheme::asp
                             ? "asp: workers never wait for each other; gradients are applied to parameters that "
                               "many updates old (max above), which slows convergence per iteration"
                             : "ssp: a worker runs at most 'staleness' iterations ahead of the slowest; staleness "
                               "trades waiting for convergence per iteration";
  } else if (t.sync == SyncScheme::local_sgd) {
    statistics["note"] = "local_sgd: replicas take " + std::to_string(t.period - 1) +
                         " local steps between averagings; communication drops by the period, replicas drift "
                         "between averagings";
  } else if (t.architecture == ArchitectureKind::gossip) {
    statistics["note"] = "gossip: each replica averages with its neighbours only; replicas agree only "
                         "approximately (consensus distance), not exactly as with all-reduce";
  } else {
    statistics["staleness_iterations"] = {{"mean", 0}, {"max", 0}};
    statistics["note"] = "bsp: every iteration uses every worker's gradients of that iteration";
  }

  // Codec kernels of rank 0, per iteration; on the compute stream they add to the iteration as
  // compute does, so they are not counted as exposed communication.
  double codec_seconds = 0;
  for (const Task& task : plan.graph.tasks())
    if (task.stream == Stream::codec && task.rank == 0)
      codec_seconds += task.seconds;
  codec_seconds /= t.iterations;
  const double exposed_codec = t.compression.separate_stream ? 0 : codec_seconds;
  const double single_gpu_samples_per_s = t.batch_per_gpu / plan.compute_seconds;
  double sent_rank0 = 0;
  for (const CollectiveInstance& c : plan.graph.collectives())
    for (std::size_t g = 0; g < c.ranks.size(); ++g)
      if (c.ranks[g] == 0)
        sent_rank0 += c.schedule->bytes_sent_by(static_cast<coll::Rank>(g));
  if (pipeline)  // what GPU 0 sends in the collectives that alpha_beta charges without simulating them
    sent_rank0 += pipeline->alpha_beta_bytes_sent_gpu0;

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
  // Per GPU and iteration: compute (the busiest stage's, under pipeline parallelism), the pipeline
  // bubble (what the schedule idles it with free communication), exposed communication (the rest).
  // Tensor-parallel all-reduces: the time the busiest stage's first GPU spends in them, waits for
  // the rest of its group included.
  double compute_s = plan.compute_seconds, forward_s = plan.forward_seconds, bubble_s = 0, tensor_s = 0, alltoall_s = 0;
  std::vector<std::array<double, 5>> memory_stages;  // per stage: see memory_json
  std::vector<double> unit_bytes;                    // ZeRO stage 3: per unit gathered
  if (!pipeline) {
    const KeptActivations kept = kept_activations(model, 0, model.layers.size(), t.recompute);
    const double per_sample = t.batch_per_gpu * bytes_per_element(t.precision);
    memory_stages.push_back({plan.gradient_bytes, kept.kept * per_sample, 1, kept.peak * per_sample, 0});
  } else {
    if (t.pipeline_parallel > 1)
      workload["pipeline"] = pipeline_json(s, model, *pipeline);
    if (tp > 1)
      workload["tensor"] = tensor_json(s, *pipeline);
    if (t.expert_parallel > 1)
      workload["expert"] = expert_json(s, model, *pipeline);
    if (t.zero_stage > 0) {
      // What the busiest stage's GPUs keep of its parameters, gradients and Adam's state.
      const PipelineStage& busiest = pipeline->stages[pipeline->busiest_stage];
      const ZeroShares shares = zero_shares(t, busiest.gradient_bytes, busiest.expert_gradient_bytes);
      // Per GPU and iteration: one all-gather per bucket with parameters (stage 3: two, but for the
      // unit that keeps its parameters from forward to backward); none without replicas.
      long long units = 0;
      for (const Bucket& b : plan.buckets)
        units += b.gradient_bytes > 0 ? 1 : 0;
      // With expert parallelism a bucket's experts are gathered over their own replicas: one more.
      const long long gathers = d < 2 || units == 0     ? 0
                                : t.zero_stage == 3     ? 2 * units - 1
                                : t.expert_parallel > 1 ? static_cast<long long>(plan.slices)
                                                        : units;
      workload["zero"] = {
          {"stage", t.zero_stage},
          {"allgathers_per_iteration", gathers},
          {"note", t.zero_stage == 3
                       ? "each bucket is a unit whose parameters are all-gathered over the data-parallel group before "
                         "its forward and again before its backward (the last unit of the forward keeps them), "
                         "at most two units gathered at once; its gradients are reduce-scattered as backward "
                         "releases it; each GPU keeps and updates a 1/d shard of parameters, gradients and "
                         "optimizer states"
                       : "each bucket is reduce-scattered over the data-parallel group as backward releases it; once "
                         "all are, each GPU updates its 1/d shard and the buckets' parameters are all-gathered "
                         "before the next forward"},
          {"bytes_per_gpu",
           {{"parameters", shares.parameters},
            {"gradients", shares.gradients},
            {"optimizer_states", shares.optimizer_states}}}};
    }
    for (const PipelineStage& st : pipeline->stages)
      memory_stages.push_back({st.gradient_bytes, st.activation_bytes, double(st.in_flight), st.recompute_peak_bytes,
                               st.expert_gradient_bytes});
    if (t.zero_stage == 3)
      for (const Bucket& b : plan.buckets)
        unit_bytes.push_back(b.gradient_bytes);
    compute_s = pipeline->busiest_compute_seconds;
    forward_s = pipeline->busiest_forward_seconds;
    // At least 0: the ideal pipeline holds its busiest stage's compute and all-reduces (rounding aside).
    bubble_s = std::max(0.0, pipeline->ideal_seconds - compute_s - pipeline->busiest_tensor_seconds -
                                 pipeline->busiest_alltoall_seconds);
    for (std::uint32_t task : pipeline->tensor_tasks)
      tensor_s += tl.end_seconds[task] - tl.start_seconds[task];
    tensor_s /= t.iterations;
    for (std::uint32_t task : pipeline->alltoall_tasks)
      alltoall_s += tl.end_seconds[task] - tl.start_seconds[task];
    alltoall_s /= t.iterations;
  }
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
      {"per_rank", per_rank},
      {"statistics", statistics},
      {"traffic", {{"bytes_sent_per_gpu_per_iteration", sent_rank0 / t.iterations}}},
      {"memory", memory_json(s, memory_stages, plan.compression.extra_memory_bytes, unit_bytes)},
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

RunResult simulate_collective(const Scenario& s, const topo::Topology& topology, const Platform& platform)
{
  const CollectiveConfig& c = s.collective;
  const auto p = static_cast<std::uint32_t>(s.cluster.gpus());
  coll::GroupShape shape = group_shape(topology, p, static_cast<std::uint32_t>(s.cluster.gpus_per_node));
  shape.channels = static_cast<coll::Rank>(c.channels);

  // One collective per size, separated by barriers so each is timed from a common start.
  TaskGraph g;
  std::vector<std::uint32_t> barriers{g.add_join("start")};
  std::vector<PlannedCollective> plans;
  if (c.algorithm == coll::Algorithm::ps && c.placement == PsPlacement::colocated)
    shape.ps_servers = static_cast<coll::Rank>(c.servers);
  if (!c.alltoall_weights.empty() || c.alltoall_zipf >= 0)  // an all-to-allv
    shape.alltoall_shares = std::make_shared<const std::vector<double>>(
        coll::alltoall_shares(p, c.alltoall_zipf >= 0 ? coll::zipf_weights(p, c.alltoall_zipf) : c.alltoall_weights));
  for (double bytes : c.sizes_bytes) {
    plans.push_back(plan_collective(c.op, c.algorithm, c.fidelity, shape, bytes));
    const std::uint32_t col =
        g.add_collective(std::move(plans.back().schedule), plans.back().hosts, coll::to_string(c.op));
    const std::uint32_t barrier = g.add_join("barrier");
    for (std::uint32_t task : g.collective(col).tasks) {
      g.add_dependency(barriers.back(), task);
      g.add_dependency(task, barrier);
    }
    barriers.push_back(barrier);
  }
  const Timeline tl = execute(g, platform, exec_options(s));

  json rows = json::array();
  const double element = bytes_per_element(c.precision);
  const double bus_factor = coll::busbw_factor(c.op, p);
  for (std::size_t i = 0; i < c.sizes_bytes.size(); ++i) {
    const double bytes = c.sizes_bytes[i];
    const double seconds = tl.end_seconds[barriers[i + 1]] - tl.end_seconds[barriers[i]];
    const double algbw = seconds > 0 ? bytes / seconds : 0;
    rows.push_back({{"size_bytes", bytes},
                    {"count", std::floor(bytes / element)},
                    {"time_us", seconds * 1e6},
                    {"algbw_GBps", algbw / 1e9},
                    {"busbw_GBps", algbw * bus_factor / 1e9},
                    {"algorithm", coll::to_string(plans[i].algorithm)},
                    {"fidelity", plans[i].fidelity == coll::ScheduleFidelity::step ? "step" : "flow"}});
  }
  json report = {
      {"schema", 1},
      {"scenario", s.name},
      {"kind", "collective"},
      {"cluster", cluster_summary(s, topology)},
      {"collective",
       {{"op", coll::to_string(c.op)},
        {"algorithm", coll::to_string(c.algorithm)},
        {"ranks", p},
        {"precision", to_string(c.precision)},
        {"fidelity", plans.empty() || plans.back().fidelity == coll::ScheduleFidelity::step ? "step" : "flow"},
        {"fidelity_requested", to_string(c.fidelity)},
        {"servers", c.algorithm == coll::Algorithm::ps ? json(c.servers) : json(nullptr)},
        {"placement", c.algorithm == coll::Algorithm::ps ? json(to_string(c.placement)) : json(nullptr)},
        {"alltoall_weights", c.op != coll::Op::alltoall    ? json(nullptr)
                             : c.alltoall_zipf >= 0        ? json(fmt::format("zipf {}", c.alltoall_zipf))
                             : !c.alltoall_weights.empty() ? json("matrix")
                                                           : json("uniform")}}},
      {"results", rows},
      {"reduction",
       {{"charged", s.gpu.reduce_seconds_per_byte() > 0}, {"seconds_per_byte", s.gpu.reduce_seconds_per_byte()}}},
      {"simulation",
       {{"transfers", tl.transfers},
        {"timers", tl.timers},
        {"tasks", g.tasks().size()},
        {"simulated_seconds", tl.makespan_seconds}}}};
  return finish(s, topology, tl, g, std::move(report));
}

}  // namespace

RunResult simulate(const Scenario& s)
{
  const auto wall_start = std::chrono::steady_clock::now();
  const topo::Topology topology = topo::make_cluster(cluster_params(s));
  create_engine(s.cluster.network.sharing);
  const Platform platform(topology, s.cluster.network.sharing);
  RunResult result = s.kind == WorkloadKind::training ? simulate_training(s, topology, platform)
                                                      : simulate_collective(s, topology, platform);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.report["wall_clock"] = {{"simulator_seconds", wall}};
  return result;
}

}  // namespace ddlsim
