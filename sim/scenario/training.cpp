// A training workload's section: batch, precision, parallelism (parallelism.cpp), compute, sync
// scheme, architecture, scheduling policy, compression (compression.cpp), fidelity, recomputation
// and failures; its resolved JSON; and its checks against the model and GPU sections.
#include "sim/scenario/sections.hpp"

#include "models/zoo.hpp"
#include "sim/scenario/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace ddlsim::scenario {

namespace {

// In the order of Precision.
const std::vector<std::string_view> PRECISION_NAMES{"fp32", "fp16", "bf16", "tf32"};

/// workload.compute: a measured single-GPU iteration (time, or samples per second) and how ranks differ.
ComputeConfig parse_compute(const JsonNode& w, int batch, int ranks, std::string_view ranks_are)
{
  ComputeConfig c;
  const auto compute = w.optional_child("compute");
  if (!compute)
    return c;
  compute->allow_keys({"iteration_time", "samples_per_s", "jitter", "stragglers"});
  if (compute->has("iteration_time") && compute->has("samples_per_s"))
    compute->fail("give the measured single-GPU speed once: 'iteration_time' or 'samples_per_s', not both");
  if (compute->has("iteration_time"))
    c.iteration_seconds = compute->quantity("iteration_time", Dimension::seconds, Bound::positive);
  if (compute->has("samples_per_s"))
    c.iteration_seconds = batch / compute->child("samples_per_s").as_number(Bound::positive);
  if (c.iteration_seconds > 0)
    c.iteration_source = "scenario";
  c.jitter = compute->number_or("jitter", 0, Bound::non_negative);
  if (c.jitter >= 1)
    compute->child("jitter").fail(fmt::format("found {}; expected a fraction in [0, 1): each rank's compute is "
                                              "scaled by 1 + u, u uniform in [-jitter, jitter]",
                                              c.jitter));
  if (auto slow = compute->optional_child("stragglers")) {
    slow->allow_keys({"ranks", "slowdown"});
    const JsonNode list = slow->child("ranks");
    for (std::size_t i = 0; i < list.array_size(); ++i) {
      const auto r = list.element(i).as_integer(0);
      if (r >= ranks)
        list.element(i).fail(fmt::format("found rank {}; the {} are 0 to {}", r, ranks_are, ranks - 1));
      c.slow_ranks.push_back(static_cast<std::uint32_t>(r));
    }
    std::sort(c.slow_ranks.begin(), c.slow_ranks.end());
    c.slow_ranks.erase(std::unique(c.slow_ranks.begin(), c.slow_ranks.end()), c.slow_ranks.end());
    c.slowdown = slow->child("slowdown").as_number(Bound::positive);
    if (c.slowdown < 1)
      slow->child("slowdown")
          .fail(fmt::format("found {}; expected a factor >= 1 (compute time of a straggler over "
                            "that of the others)",
                            c.slowdown));
  }
  return c;
}

/// What pipeline and tensor parallelism are modelled with: all-reduce of each stage's gradients
/// over its data-parallel group, every iteration, in buckets released during the last
/// micro-batch's backward.
void check_model_parallel_support(const JsonNode& w, const TrainingConfig& t, int gpus_per_node)
{
  const std::string what = t.pipeline_parallel > 1
                               ? fmt::format("pipeline parallelism (pipeline {})", t.pipeline_parallel)
                           : t.tensor_parallel > 1 ? fmt::format("tensor parallelism (tensor {})", t.tensor_parallel)
                           : t.expert_parallel > 1 ? fmt::format("expert parallelism (expert {})", t.expert_parallel)
                                                   : fmt::format("ZeRO stage {}", t.zero_stage);
  if (t.architecture != ArchitectureKind::allreduce)
    w.child("architecture")
        .child("kind")
        .fail(fmt::format("{} is modelled with architecture 'allreduce'; found '{}'", what, to_string(t.architecture)));
  if (t.sync != SyncScheme::bsp)
    w.child("sync").child("scheme").fail(
        fmt::format("{} is modelled with scheme 'bsp'; found '{}'", what, to_string(t.sync)));
  if (t.policy == SchedulingPolicy::mg_wfbp || t.policy == SchedulingPolicy::priority)
    w.child("scheduling")
        .child("policy")
        .fail(fmt::format("{} is modelled with policy 'none', 'wfbp' or 'fusion'; found '{}'", what,
                          to_string(t.policy)));
  if (t.compression.codec != compress::Codec::none)
    w.child("compression")
        .child("codec")
        .fail(fmt::format("{} is modelled without compression; found codec '{}'", what,
                          compress::to_string(t.compression.codec)));
  if (t.zero_stage > 0 && t.algorithm != coll::Algorithm::ring && t.algorithm != coll::Algorithm::auto_)
    w.child("architecture")
        .child("algorithm")
        .fail(fmt::format("ZeRO stage {} reduce-scatters and all-gathers with rings; found '{}'; expected 'ring' or "
                          "'auto'",
                          t.zero_stage, coll::to_string(t.algorithm)));
  const int group_per_node = std::min(gpus_per_node / t.tensor_parallel, t.data_parallel);
  if (t.channels > group_per_node)
    w.child("architecture")
        .child("channels")
        .fail(fmt::format("found {}; each data-parallel group has {} GPUs in a node; expected at most {}", t.channels,
                          group_per_node, group_per_node));
}

/// workload.architecture: all-reduce (algorithm, channels), parameter server (servers, placement,
/// their summing rate) or gossip (graph).
void parse_architecture(const JsonNode& w, int gpus, int gpus_per_node, TrainingConfig& t)
{
  t.architecture = ArchitectureKind::allreduce;
  t.algorithm = coll::Algorithm::ring;
  t.channels = 1;
  t.servers = 0;
  t.placement = PsPlacement::colocated;
  t.server_reduce_bytes_per_s = 0;
  t.graph = GossipGraph::ring;
  std::optional<JsonNode> arch = w.optional_child("architecture");
  if (arch) {
    arch->allow_keys({"kind", "algorithm", "channels", "servers", "placement", "server_reduce", "graph"});
    t.architecture = static_cast<ArchitectureKind>(arch->choice_or("kind", {"allreduce", "ps", "gossip"}, 0));
    const auto only_for = [&](std::initializer_list<std::string_view> keys, ArchitectureKind kind) {
      for (std::string_view key : keys)
        if (t.architecture != kind && arch->has(key))
          arch->child(key).fail(fmt::format("'{}' applies to architecture kind '{}'; this one is '{}'", key,
                                            to_string(kind), to_string(t.architecture)));
    };
    only_for({"algorithm", "channels"}, ArchitectureKind::allreduce);
    only_for({"servers", "placement", "server_reduce"}, ArchitectureKind::ps);
    only_for({"graph"}, ArchitectureKind::gossip);
    if (arch->has("algorithm"))
      t.algorithm = parse_algorithm(arch->child("algorithm"), coll::Op::allreduce);
    t.channels = parse_channels(*arch, gpus_per_node, t.algorithm, coll::Op::allreduce);
    if (t.architecture == ArchitectureKind::ps) {
      t.placement = static_cast<PsPlacement>(arch->choice_or("placement", {"colocated", "dedicated"}, 0));
      const int nodes = gpus / gpus_per_node;
      t.servers = arch->int_or("servers", nodes, 1);  // BytePS: one server per machine
      if (t.placement == PsPlacement::colocated && t.servers > nodes)
        arch->child("servers").fail(
            fmt::format("found {} servers; expected at most {} (co-located servers: one per node of the cluster); use "
                        "\"placement\": \"dedicated\" for servers on CPU hosts of their own",
                        t.servers, nodes));
      t.server_reduce_bytes_per_s = arch->quantity_or("server_reduce", Dimension::bytes_per_s, 0, Bound::positive);
    }
    if (t.architecture == ArchitectureKind::gossip)
      t.graph = static_cast<GossipGraph>(arch->choice_or("graph", {"ring", "torus", "exponential"}, 0));
  }
}

/// workload.sync: bsp, ssp (staleness), asp, local_sgd (period), checked against the architecture.
void parse_sync(const JsonNode& w, TrainingConfig& t)
{
  t.sync = SyncScheme::bsp;
  t.staleness = 0;
  t.period = 1;
  if (auto sync = w.optional_child("sync")) {
    sync->allow_keys({"scheme", "staleness", "period"});
    t.sync = static_cast<SyncScheme>(sync->child("scheme").as_choice({"bsp", "ssp", "asp", "local_sgd"}));
    if (sync->has("staleness") && t.sync != SyncScheme::ssp)
      sync->child("staleness")
          .fail(fmt::format("'staleness' applies to scheme 'ssp'; this one is '{}'", to_string(t.sync)));
    if (sync->has("period") && t.sync != SyncScheme::local_sgd)
      sync->child("period").fail(
          fmt::format("'period' applies to scheme 'local_sgd'; this one is '{}'", to_string(t.sync)));
    if (t.sync == SyncScheme::ssp)
      t.staleness = sync->int_value("staleness", 0);
    if (t.sync == SyncScheme::local_sgd)
      t.period = sync->int_value("period", 1);
    if ((t.sync == SyncScheme::ssp || t.sync == SyncScheme::asp) && t.architecture != ArchitectureKind::ps)
      sync->child("scheme").fail(
          fmt::format("scheme '{}' needs a parameter server (architecture kind 'ps'); '{}' synchronises every step",
                      to_string(t.sync), to_string(t.architecture)));
    if (t.sync == SyncScheme::local_sgd && t.architecture == ArchitectureKind::gossip)
      sync->child("scheme").fail("scheme 'local_sgd' averages through all-reduce or a parameter server; gossip "
                                 "already exchanges with neighbours every step (use 'bsp')");
  }
}

/// workload.scheduling: the policy that releases gradients and its bucket, cycle, slice and credit.
void parse_scheduling(const JsonNode& w, TrainingConfig& t)
{
  t.policy = SchedulingPolicy::fusion;
  t.bucket_bytes = 25.0 * 1024 * 1024;  // PyTorch DDP's default bucket_cap_mb = 25 (MiB)
  t.cycle_seconds = 0;
  t.partition_bytes = 0;
  t.credit_bytes = 0;
  if (auto sched = w.optional_child("scheduling")) {
    sched->allow_keys({"policy", "bucket", "cycle_time", "partition", "credit"});
    t.policy =
        static_cast<SchedulingPolicy>(sched->choice_or("policy", {"none", "wfbp", "fusion", "mg_wfbp", "priority"}, 2));
    const auto only_for = [&](std::string_view key, SchedulingPolicy policy) {
      if (t.policy != policy && sched->has(key))
        sched->child(key).fail(
            fmt::format("'{}' applies to policy '{}'; this one is '{}'", key, to_string(policy), to_string(t.policy)));
    };
    only_for("bucket", SchedulingPolicy::fusion);
    only_for("cycle_time", SchedulingPolicy::fusion);
    only_for("partition", SchedulingPolicy::priority);
    only_for("credit", SchedulingPolicy::priority);
    t.bucket_bytes = sched->quantity_or("bucket", Dimension::bytes, t.bucket_bytes, Bound::non_negative);
    t.cycle_seconds = sched->quantity_or("cycle_time", Dimension::seconds, 0, Bound::non_negative);
    if (t.policy == SchedulingPolicy::priority) {
      // ByteScheduler tunes both; 4 MiB slices and 4 in flight are a middle of its search range.
      t.partition_bytes = sched->quantity_or("partition", Dimension::bytes, 4.0 * 1024 * 1024, Bound::positive);
      t.credit_bytes = sched->quantity_or("credit", Dimension::bytes, 4 * t.partition_bytes, Bound::positive);
      if (t.credit_bytes < t.partition_bytes)
        sched->child("credit").fail(fmt::format("found {:g} bytes; expected at least the partition size ({:g} bytes)",
                                                t.credit_bytes, t.partition_bytes));
    }
    if (t.policy == SchedulingPolicy::mg_wfbp && t.architecture != ArchitectureKind::allreduce)
      sched->child("policy").fail(
          fmt::format("policy 'mg_wfbp' merges all-reduces; architecture '{}' has none", to_string(t.architecture)));
    if (t.policy == SchedulingPolicy::priority && t.architecture == ArchitectureKind::gossip)
      sched->child("policy").fail("policy 'priority' schedules all-reduce or parameter-server traffic, not gossip");
  }
  if (t.policy != SchedulingPolicy::fusion)
    t.bucket_bytes = 0;
}

/// workload.failures: GPU MTBF, restart time, checkpoint cost and interval.
FailureConfig parse_failures(const JsonNode& f)
{
  f.allow_keys({"mtbf", "restart", "checkpoint_time", "checkpoint_bandwidth", "interval"});
  FailureConfig c;
  c.enabled = true;
  c.gpu_mtbf_seconds = f.quantity("mtbf", Dimension::seconds, Bound::positive);
  c.restart_seconds = f.quantity("restart", Dimension::seconds, Bound::non_negative);
  if (f.has("checkpoint_time") == f.has("checkpoint_bandwidth"))
    f.fail("expected exactly one of 'checkpoint_time' (how long writing a checkpoint takes) and "
           "'checkpoint_bandwidth' (the storage's aggregate write rate for weights and optimizer states)");
  if (f.has("checkpoint_time"))
    c.checkpoint_seconds = f.quantity("checkpoint_time", Dimension::seconds, Bound::positive);
  else
    c.checkpoint_bytes_per_s = f.quantity("checkpoint_bandwidth", Dimension::bytes_per_s, Bound::positive);
  c.interval_seconds = f.quantity_or("interval", Dimension::seconds, 0, Bound::positive);
  return c;
}

/// That the model can be cut as the parallelism asks: tensor shards, expert shards, pipeline stages.
void check_model_shards(const JsonNode& w, const Scenario& s)
{
  if (s.training.tensor_parallel > 1) {
    try {
      model::tensor_shard(scenario_model(s), s.training.tensor_parallel, s.training.sequence_parallel);
    } catch (const std::invalid_argument& e) {
      w.child("parallelism").child("tensor").fail(fmt::format("{}; expected 1", e.what()));
    }
  }
  if (s.training.expert_parallel > 1) {
    const model::Model m = scenario_model(s);
    try {
      model::expert_shard(m, s.training.expert_parallel);
    } catch (const std::invalid_argument& e) {
      const int most = model::max_experts(m);
      w.child("parallelism")
          .child("expert")
          .fail(fmt::format("{}; expected {}", e.what(),
                            most == 0 ? std::string("1") : fmt::format("1 or a divisor of {}", most)));
    }
  }
  if (s.training.pipeline_parallel > 1) {
    const std::size_t blocks = scenario_model(s).block_starts().size();
    if (blocks < static_cast<std::size_t>(s.training.pipeline_parallel))
      w.child("parallelism")
          .child("pipeline")
          .fail(fmt::format("found {} stages, but model '{}' can be cut into at most {} (stages end between "
                            "blocks: residual blocks, transformer blocks, Inception modules); expected at most {}",
                            s.training.pipeline_parallel, s.model, blocks, blocks));
  }
}

/// A codec takes its encode and decode times from the GPU profile: it must have them.
void check_codec_costs(const JsonNode& w, const Scenario& s)
{
  const compress::CodecConfig& codec = s.training.compression;
  if (codec.codec != compress::Codec::none) {
    const JsonNode node = w.child("compression").child("codec");
    if (!s.profile)
      node.fail(fmt::format("codec '{}' takes its encode and decode times from a GPU profile; expected \"gpu\": "
                            "{{\"profile\": NAME}} with a shipped profile ({}) or a profile file",
                            compress::to_string(codec.codec), join_names(shipped_profiles())));
    for (const char* needed : {compress::profile_entry(codec.codec), codec.error_feedback ? "error_feedback" : nullptr})
      if (needed && !s.profile->codec(needed))
        node.fail(fmt::format("GPU profile {} has no costs for '{}'; expected a profile with a 'codecs.{}' entry",
                              s.profile->file, needed, needed));
  }
}

/// workload.scheduling, resolved.
nlohmann::json scheduling_json(const TrainingConfig& t)
{
  using nlohmann::json;
  json scheduling = {{"policy", to_string(t.policy)}};
  if (t.policy == SchedulingPolicy::fusion) {
    scheduling["bucket"] = format_quantity(t.bucket_bytes, Dimension::bytes);
    scheduling["cycle_time"] = format_quantity(t.cycle_seconds, Dimension::seconds);
  }
  if (t.policy == SchedulingPolicy::priority) {
    scheduling["partition"] = format_quantity(t.partition_bytes, Dimension::bytes);
    scheduling["credit"] = format_quantity(t.credit_bytes, Dimension::bytes);
  }
  return scheduling;
}

/// workload.compute, resolved.
nlohmann::json compute_json(const TrainingConfig& t)
{
  using nlohmann::json;
  json compute = {{"jitter", t.compute.jitter}};
  if (t.compute.iteration_seconds > 0)
    compute["iteration_time"] = format_quantity(t.compute.iteration_seconds, Dimension::seconds);
  if (!t.compute.slow_ranks.empty())
    compute["stragglers"] = {{"ranks", t.compute.slow_ranks}, {"slowdown", t.compute.slowdown}};
  return compute;
}

/// workload.sync, resolved.
nlohmann::json sync_json(const TrainingConfig& t)
{
  using nlohmann::json;
  json sync = {{"scheme", to_string(t.sync)}};
  if (t.sync == SyncScheme::ssp)
    sync["staleness"] = t.staleness;
  if (t.sync == SyncScheme::local_sgd)
    sync["period"] = t.period;
  return sync;
}

/// workload.architecture, resolved.
nlohmann::json architecture_json(const TrainingConfig& t)
{
  using nlohmann::json;
  json architecture = {{"kind", to_string(t.architecture)}};
  if (t.architecture == ArchitectureKind::allreduce) {
    architecture["algorithm"] = coll::to_string(t.algorithm);
    architecture["channels"] = t.channels;
  } else if (t.architecture == ArchitectureKind::ps) {
    architecture["servers"] = t.servers;
    architecture["placement"] = to_string(t.placement);
    if (t.server_reduce_bytes_per_s > 0)
      architecture["server_reduce"] = format_quantity(t.server_reduce_bytes_per_s, Dimension::bytes_per_s);
  } else {
    architecture["graph"] = to_string(t.graph);
  }
  return architecture;
}

/// workload.parallelism, resolved.
nlohmann::json parallelism_json(const TrainingConfig& t)
{
  using nlohmann::json;
  json parallelism = {{"data", t.data_parallel}, {"tensor", t.tensor_parallel}, {"pipeline", t.pipeline_parallel}};
  if (t.tensor_parallel > 1) {
    parallelism["tensor_comm"] = to_string(t.tensor_comm);
    parallelism["sequence"] = t.sequence_parallel;
  }
  if (t.zero_stage > 0)
    parallelism["zero"] = t.zero_stage;
  if (t.expert_parallel > 1) {
    parallelism["expert"] = t.expert_parallel;
    parallelism["expert_comm"] = to_string(t.expert_comm);
    parallelism["expert_zipf"] = t.expert_zipf;
  }
  if (t.pipeline_parallel > 1) {
    parallelism["microbatches"] = t.microbatches;
    parallelism["schedule"] = to_string(t.pipeline_schedule);
  }
  return parallelism;
}

nlohmann::json failures_json(const FailureConfig& f)
{
  using nlohmann::json;
  json failures = {{"mtbf", format_quantity(f.gpu_mtbf_seconds, Dimension::seconds)},
                   {"restart", format_quantity(f.restart_seconds, Dimension::seconds)}};
  if (f.checkpoint_seconds > 0)
    failures["checkpoint_time"] = format_quantity(f.checkpoint_seconds, Dimension::seconds);
  else
    failures["checkpoint_bandwidth"] = format_quantity(f.checkpoint_bytes_per_s, Dimension::bytes_per_s);
  if (f.interval_seconds > 0)
    failures["interval"] = format_quantity(f.interval_seconds, Dimension::seconds);
  return failures;
}

}  // namespace

TrainingConfig parse_training(const JsonNode& w, int gpus, int gpus_per_node)
{
  w.allow_keys({"kind", "batch_per_gpu", "precision", "iterations", "parallelism", "compute", "sync", "architecture",
                "scheduling", "compression", "fidelity", "recompute", "failures"});
  TrainingConfig t{};
  t.batch_per_gpu = w.int_value("batch_per_gpu", 1);
  t.precision = static_cast<Precision>(w.choice_or("precision", PRECISION_NAMES, 0));
  t.iterations = w.int_or("iterations", 3, 1);
  t.data_parallel = gpus;
  t.tensor_parallel = t.pipeline_parallel = 1;
  if (auto par = w.optional_child("parallelism"))
    parse_parallelism(*par, gpus, gpus_per_node, t);
  t.compute = parse_compute(w, t.batch_per_gpu, t.model_parallel() > 1 ? gpus : t.data_parallel,
                            t.model_parallel() > 1 ? "GPU ranks" : "data-parallel ranks");

  parse_architecture(w, gpus, gpus_per_node, t);

  parse_sync(w, t);

  parse_scheduling(w, t);
  t.compression = parse_compression(w, t);
  t.fidelity = parse_fidelity(w);
  t.recompute = static_cast<Recompute>(w.choice_or("recompute", {"none", "selective", "full"}, 0));
  if (auto f = w.optional_child("failures"))
    t.failures = parse_failures(*f);
  if (t.staged())
    check_model_parallel_support(w, t, gpus_per_node);
  return t;
}

void parse_training_scenario(const JsonNode& root, Scenario& s)
{
  const JsonNode w = root.child("workload");
  s.training = parse_training(w, s.cluster.gpus(), s.cluster.gpus_per_node);
  const JsonNode model = root.child("model");
  parse_model(model, s);
  // Far beyond any trained model, and small enough that gradient bytes stay exact in a transfer.
  if (const double params = double(scenario_model(s).total_params()); params > 1e14)
    model.fail(fmt::format("found a model of {:.3g} parameters; expected at most 1e14", params));
  check_model_shards(w, s);
  const bool measured = s.training.compute.iteration_seconds > 0;
  if (measured && !root.has("gpu")) {
    // Only the split of the measured time between layers matters: any rate gives the same.
    s.gpu.peak_flops_per_s = 1e15;
    s.gpu.efficiency = 1;
  } else {
    parse_training_gpu(root.child("gpu"), measured, s);
  }
  check_codec_costs(w, s);
  if (s.training.architecture == ArchitectureKind::ps && s.training.placement == PsPlacement::dedicated &&
      s.cluster.network.topology != topo::NetworkKind::star)
    w.child("architecture")
        .child("placement")
        .fail(fmt::format("dedicated parameter servers attach to a star network; this cluster's network is a {} (use "
                          "\"colocated\")",
                          topo::to_string(s.cluster.network.topology)));
}

nlohmann::json training_json(const TrainingConfig& t)
{
  using nlohmann::json;
  json workload = {{"kind", "training"},
                   {"batch_per_gpu", t.batch_per_gpu},
                   {"precision", to_string(t.precision)},
                   {"iterations", t.iterations},
                   {"parallelism", parallelism_json(t)},
                   {"compute", compute_json(t)},
                   {"sync", sync_json(t)},
                   {"architecture", architecture_json(t)},
                   {"scheduling", scheduling_json(t)},
                   {"compression", compression_json(t.compression, t.architecture)},
                   {"fidelity", to_string(t.fidelity)},
                   {"recompute", to_string(t.recompute)}};
  if (t.failures.enabled)
    workload["failures"] = failures_json(t.failures);
  return workload;
}

}  // namespace ddlsim::scenario
