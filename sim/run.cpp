#include "sim/run.hpp"

#include "models/zoo.hpp"
#include "sim/collective_plan.hpp"
#include "sim/error.hpp"
#include "sim/link_report.hpp"
#include "sim/trace.hpp"
#include "sim/training.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

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
          {"links", topology.link_count()}};
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

/// Samples per second, and tokens per second for sequence models.
json throughput_json(double samples_per_s, int sequence)
{
  json t = {{"samples_per_s", samples_per_s}};
  if (sequence > 0)
    t["tokens_per_s"] = samples_per_s * sequence;
  return t;
}

RunResult simulate_training(const Scenario& s, const topo::Topology& topology, const Platform& platform)
{
  const model::Model model = *model::find_model(s.model, s.sequence);
  const auto p_ranks = static_cast<std::uint32_t>(s.training.data_parallel);
  coll::GroupShape shape = group_shape(topology, p_ranks, static_cast<std::uint32_t>(s.cluster.gpus_per_node));
  shape.channels = static_cast<coll::Rank>(s.training.channels);
  const TrainingPlan plan = build_training(s, model, shape);
  const Timeline tl = execute(plan.graph, platform, exec_options(s));
  const TrainingConfig& t = s.training;
  const auto p = static_cast<std::uint32_t>(t.data_parallel);

  // An iteration ends, for a rank, when its last backward segment and its last all-reduce are done;
  // the iteration time is the span between the slowest rank's ends of consecutive iterations.
  std::vector<double> iteration_seconds;
  double prev_end = 0;
  for (int it = 0; it < t.iterations; ++it) {
    double end = 0;
    for (std::uint32_t r = 0; r < p; ++r) {
      end = std::max(end, tl.end_seconds[plan.last_compute[it][r]]);
      if (!plan.last_comm[it].empty())
        end = std::max(end, tl.end_seconds[plan.last_comm[it][r]]);
    }
    iteration_seconds.push_back(end - prev_end);
    prev_end = end;
  }
  const double mean = std::accumulate(iteration_seconds.begin(), iteration_seconds.end(), 0.0) / t.iterations;
  const double min = *std::min_element(iteration_seconds.begin(), iteration_seconds.end());
  const double max = *std::max_element(iteration_seconds.begin(), iteration_seconds.end());
  const double samples = double(t.batch_per_gpu) * p;
  const double single_gpu_samples_per_s = t.batch_per_gpu / plan.compute_seconds;

  double sent_rank0 = 0;
  for (const CollectiveInstance& c : plan.graph.collectives())
    sent_rank0 += c.schedule.bytes_sent_by(0);
  std::size_t collectives_per_iteration = 0;
  for (const Bucket& b : plan.buckets)
    collectives_per_iteration += (b.gradient_bytes > 0 && p > 1) ? 1 : 0;

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
      {"workload",
       {{"data_parallel", p},
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
        {"collectives_per_iteration", collectives_per_iteration}}},
      {"iteration_time_s", {{"mean", mean}, {"min", min}, {"max", max}, {"per_iteration", iteration_seconds}}},
      {"throughput", throughput_json(samples / mean, s.sequence)},
      {"single_gpu", {{"iteration_time_s", plan.compute_seconds}, {"samples_per_s", single_gpu_samples_per_s}}},
      {"scaling_efficiency", (samples / mean) / (p * single_gpu_samples_per_s)},
      {"breakdown_s",
       {{"compute", plan.compute_seconds},
        {"forward", plan.forward_seconds},
        {"backward", plan.compute_seconds - plan.forward_seconds},
        {"exposed_communication", mean - plan.compute_seconds}}},
      {"traffic", {{"bytes_sent_per_gpu_per_iteration", sent_rank0 / t.iterations}}},
      {"reduction",
       {{"charged", s.gpu.reduce_seconds_per_byte() > 0}, {"seconds_per_byte", s.gpu.reduce_seconds_per_byte()}}},
      {"simulation",
       {{"transfers", tl.transfers},
        {"timers", tl.timers},
        {"tasks", plan.graph.tasks().size()},
        {"simulated_seconds", tl.makespan_seconds}}},
  };
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
        {"fidelity_requested", to_string(c.fidelity)}}},
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
  const topo::Topology topology = topo::make_cluster(cluster_params(s.cluster, s.seed));
  create_engine(s.cluster.network.sharing);
  const Platform platform(topology, s.cluster.network.sharing);
  RunResult result = s.kind == WorkloadKind::training ? simulate_training(s, topology, platform)
                                                      : simulate_collective(s, topology, platform);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.report["wall_clock"] = {{"simulator_seconds", wall}};
  return result;
}

}  // namespace ddlsim
