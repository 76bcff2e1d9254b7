#include "sim/report/training_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace ddlsim::report {

using namespace ddlsim::scenario;
using namespace ddlsim::workload;
using nlohmann::json;

namespace {

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

}  // namespace

json algorithm_names(const std::vector<coll::Algorithm>& used)
{
  json names = json::array();
  for (coll::Algorithm a : used)
    names.push_back(coll::to_string(a));
  return names;
}

std::string compute_model_name(const Scenario& s)
{
  if (s.gpu.roofline)
    return fmt::format("roofline of GPU profile {} ({}){}", s.profile->name, s.profile->provenance(),
                       s.gpu.fusion == calib::Fusion::elementwise ? ", elementwise layers fused" : "");
  return fmt::format("placeholder: {:g} of a {:.4g} TFLOP/s peak for every layer", s.gpu.efficiency,
                     s.gpu.peak_flops_per_s / 1e12);
}

json throughput_json(double samples_per_s, int sequence)
{
  json t = {{"samples_per_s", samples_per_s}};
  if (sequence > 0)
    t["tokens_per_s"] = samples_per_s * sequence;
  return t;
}

json steady_stats(const std::vector<double>& v)
{
  const auto first = v.size() > 1 ? v.begin() + 1 : v.begin();
  const double n = static_cast<double>(v.end() - first);
  return {{"mean", std::accumulate(first, v.end(), 0.0) / n},
          {"min", *std::min_element(first, v.end())},
          {"max", *std::max_element(first, v.end())}};
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

json statistics_json(const TrainingConfig& t, const TrainingPlan& plan, const engine::Timeline& tl, std::uint32_t p)
{
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
  return statistics;
}

}  // namespace ddlsim::report
