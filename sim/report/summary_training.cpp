// The training lines of the readable summary: one formatter per line.
#include "sim/report/summary.hpp"

#include "sim/report/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ddlsim::report {

using nlohmann::json;
using scenario::Scenario;

namespace {

/// How a report's codec costs were obtained, when not measured on the GPU itself.
std::string codec_cost_note(const json& profile)
{
  return profile.at("measured").get<bool>() ? "" : " (codec costs " + profile.at("provenance").get<std::string>() + ")";
}

/// "125/125/124/110": each stage's layer count.
std::string stage_layers_text(const json& stages)
{
  std::string text;
  for (const auto& st : stages)
    text += (text.empty() ? "" : "/") + std::to_string(st.at("layers").get<int>());
  return text;
}

std::string model_line(const Scenario& s, const json& r)
{
  const auto& w = r.at("workload");
  const std::string precision = w.at("precision").get<std::string>();
  return fmt::format("  model               {} ({} parameters, {} of {} gradients)\n", s.model,
                     r.at("model").at("parameters").get<long long>(), bytes_text(w.at("gradient_bytes")),
                     precision == "tf32" ? "fp32" : precision);  // tf32 is a rate; the data is fp32
}

/// "ring all-reduce", "parameter server (2 colocated servers)", "gossip (ring graph, 2 neighbours)".
std::string architecture_text(const json& w)
{
  const auto& arch = w.at("architecture");
  const std::string kind = arch.at("kind").get<std::string>();
  if (kind == "ps")
    return fmt::format("parameter server ({} {} servers)", arch.at("servers").get<int>(),
                       arch.at("placement").get<std::string>());
  if (kind != "allreduce")
    return fmt::format("gossip ({} graph, {} neighbours)", arch.at("graph").get<std::string>(),
                       arch.at("neighbours").get<int>());
  std::string architecture = w.at("algorithm").get<std::string>();
  if (architecture == "auto") {
    std::string used;
    for (const auto& a : w.at("algorithms_used")) {
      if (!used.empty())
        used += ", ";
      used += a.get<std::string>();
    }
    architecture += " (" + used + ")";
  }
  return architecture + " all-reduce";
}

std::string sync_text(const json& w)
{
  const auto& sync = w.at("sync");
  std::string scheme = sync.at("scheme").get<std::string>();
  if (sync.contains("staleness"))
    scheme += fmt::format(" (staleness {})", sync.at("staleness").get<int>());
  if (sync.contains("period"))
    scheme += fmt::format(" (period {})", sync.at("period").get<int>());
  return scheme;
}

std::string zero_text(const json& zero)
{
  const int stage = zero.at("stage").get<int>();
  const long long gathers = zero.value("allgathers_per_iteration", 0LL);
  return stage == 3 ? fmt::format(", ZeRO stage 3 (all-gather each unit before forward and backward: {} "
                                  "all-gathers per iteration; reduce-scatter)",
                                  gathers)
                    : fmt::format(", ZeRO stage {} (reduce-scatter, then all-gather)", stage);
}

std::string expert_text(const json& e)
{
  const int group = e.at("gradient_group").get<int>();
  return fmt::format(", expert-parallel x{} ({} of {} experts per GPU in {} MoE layers; {})", e.at("size").get<int>(),
                     e.at("experts_per_gpu").get<int>(), e.at("experts_per_layer").get<int>(),
                     e.at("moe_layers").get<int>(),
                     group > 1 ? fmt::format("expert gradients synchronised over {} replicas", group)
                               : std::string("no other replica holds a GPU's experts"));
}

/// "data-parallel x8, tensor-parallel x2 (...), ZeRO ..., pipeline x4 (...)".
std::string parallelism_text(const json& w)
{
  std::string parallelism = fmt::format("data-parallel x{}", w.at("data_parallel").get<int>());
  if (w.contains("tensor"))
    parallelism += fmt::format(", tensor-parallel x{} (all-reduces: {}){}", w.at("tensor").at("size").get<int>(),
                               w.at("tensor").at("comm").get<std::string>(),
                               w.at("tensor").value("sequence_parallel", false) ? ", sequence-parallel" : "");
  if (w.contains("zero"))
    parallelism += zero_text(w.at("zero"));
  if (w.contains("expert"))
    parallelism += expert_text(w.at("expert"));
  if (const std::string r = w.value("recompute", "none"); r != "none")
    parallelism += fmt::format(", {} activation recomputation", r);
  if (w.contains("pipeline")) {
    const auto& pp = w.at("pipeline");
    parallelism += fmt::format(", pipeline x{} ({}, {} micro-batches, {:.0f} samples per iteration)",
                               pp.at("stages").get<int>(), pp.at("schedule").get<std::string>(),
                               pp.at("microbatches").get<int>(), pp.at("samples_per_iteration").get<double>());
  }
  return parallelism;
}

std::string workload_line(const json& w)
{
  std::string policy = w.at("policy").get<std::string>();
  if (policy == "fusion")
    policy += fmt::format(" with {} buckets", bytes_text(w.at("bucket_bytes")));
  return fmt::format("  workload            {}, batch {} per GPU, {}, {}, {}, "
                     "{} synchronisations per iteration, {} fidelity\n",
                     parallelism_text(w), w.at("batch_per_gpu").get<int>(), architecture_text(w), sync_text(w), policy,
                     w.at("collectives_per_iteration").get<int>(), w.at("fidelity").get<std::string>());
}

/// Iteration time; per-rank spread when ranks differ; staleness of a parameter server.
std::string iteration_lines(const json& r)
{
  const auto& w = r.at("workload");
  const auto& it = r.at("iteration_time_s");
  const int iterations = w.at("iterations").get<int>();
  std::string out =
      fmt::format("  iteration time      {} (mean of {}{}; min {}, max {})\n",
                  seconds_text(it.at("mean").get<double>()), iterations > 1 ? iterations - 1 : 1,
                  iterations > 1 ? " after the first" : "", seconds_text(it.at("min")), seconds_text(it.at("max")));
  const auto& per_rank = r.at("per_rank").at("iteration_time_s");
  if (per_rank.at("max").get<double>() > 1.001 * per_rank.at("min").get<double>())
    out += fmt::format("  per rank            iteration {} to {}\n", seconds_text(per_rank.at("min")),
                       seconds_text(per_rank.at("max")));
  if (r.at("statistics").contains("staleness_iterations") && w.at("architecture").at("kind") == "ps")
    out += fmt::format("  staleness           mean {:.2f}, max {:.0f} iterations\n",
                       r.at("statistics").at("staleness_iterations").at("mean").get<double>(),
                       r.at("statistics").at("staleness_iterations").at("max").get<double>());
  return out;
}

/// Throughput, scaling efficiency and the compute model behind them.
std::string throughput_lines(const json& r)
{
  const auto& tp = r.at("throughput");
  std::string out = fmt::format("  throughput          {:.1f} samples/s{}\n", tp.at("samples_per_s").get<double>(),
                                tp.contains("tokens_per_s") ? fmt::format(" ({:.0f} tokens/s at sequence {})",
                                                                          tp.at("tokens_per_s").get<double>(),
                                                                          r.at("model").at("sequence").get<int>())
                                                            : "");
  out += fmt::format("  scaling efficiency  {:.1f} % of {} x one GPU ({:.1f} samples/s per GPU alone)\n",
                     100 * r.at("scaling_efficiency").get<double>(), r.at("cluster").at("gpus").get<int>(),
                     r.at("single_gpu").at("samples_per_s").get<double>());
  const auto& one = r.at("single_gpu");
  out +=
      fmt::format("  compute model       {}{}\n", one.at("compute_model").get<std::string>(),
                  one.at("scaled_to_measured").is_null()
                      ? ""
                      : ", scaled to the measured iteration (" + one.at("scaled_to_measured").get<std::string>() + ")");
  return out;
}

std::string compression_line(const json& c)
{
  return fmt::format("  compression         {} ({}), {} on the wire per GPU per iteration ({:.1f}x smaller), "
                     "encode {} + decode {} per iteration{}\n",
                     c.at("codec").get<std::string>(), c.at("exchange").get<std::string>(),
                     bytes_text(c.at("wire_bytes_per_worker")), c.at("compression_ratio").get<double>(),
                     seconds_text(c.at("encode_s")), seconds_text(c.at("decode_s")), codec_cost_note(c.at("profile")));
}

/// compute, then codec (with compression), pipeline bubble (with stages), exposed communication.
std::string breakdown_line(const json& r)
{
  const auto& w = r.at("workload");
  const auto& b = r.at("breakdown_s");
  const double mean = r.at("iteration_time_s").at("mean").get<double>();
  const auto part = [&](const char* name, double seconds, const std::string& note) {
    return fmt::format("{} {} ({:.1f} %{})", name, seconds_text(seconds), 100 * seconds / mean, note);
  };
  std::string parts = part("compute", b.at("compute").get<double>(), w.contains("pipeline") ? ", busiest stage" : "");
  if (w.contains("tensor"))
    parts += ", " + part("tensor-parallel all-reduces", b.at("tensor_parallel_communication").get<double>(), "");
  if (w.contains("expert"))
    parts += ", " + part("expert all-to-alls", b.at("expert_parallel_communication").get<double>(), "");
  if (w.contains("compression"))
    parts += ", " + part("codec", b.at("codec").get<double>(),
                         w.at("compression").at("stream").get<std::string>() == "separate" ? ", own stream"
                                                                                           : ", on the compute stream");
  if (w.contains("pipeline"))
    parts += ", " + part("pipeline bubble", b.at("pipeline_bubble").get<double>(), "");
  return fmt::format("  breakdown           {}, {}\n", parts,
                     part("exposed communication", b.at("exposed_communication").get<double>(), ""));
}

std::string pipeline_line(const json& pipeline)
{
  double most = 0;
  for (const auto& st : pipeline.at("per_stage"))
    most = std::max(most, st.at("activation_bytes_in_flight").get<double>());
  return fmt::format("  pipeline stages     {} layers per stage; activations kept: up to {} per GPU\n",
                     stage_layers_text(pipeline.at("per_stage")), bytes_text(most));
}

std::string memory_line(const json& m)
{
  const auto& b = m.at("bytes_per_gpu");
  std::string of;
  if (!m.at("capacity_bytes").is_null())
    of = fmt::format(" of the GPU's {}{}", bytes_text(m.at("capacity_bytes")),
                     m.at("fits").get<bool>() ? "" : ": does NOT fit");
  return fmt::format("  GPU memory          about {} per GPU{} (weights {}, gradients {}, Adam states {}, "
                     "activations {}{})\n",
                     bytes_text(b.at("total")), of, bytes_text(b.at("parameters")), bytes_text(b.at("gradients")),
                     bytes_text(b.at("optimizer_states")), bytes_text(b.at("activations")),
                     b.at("codec_state").get<double>() > 0 ? ", codec state " + bytes_text(b.at("codec_state"))
                                                           : std::string());
}

std::string failures_lines(const json& f)
{
  const auto every = f.at("interval_iterations").get<long long>();
  std::string out =
      fmt::format("  failures            job MTBF {} ({:.1f} a day); a {} checkpoint every {} ({} iteration{}, "
                  "{}); restart {}\n",
                  duration_text(f.at("job_mtbf_s")), f.at("failures_per_day").get<double>(),
                  duration_text(f.at("checkpoint_s")), duration_text(f.at("interval_s")), every, every == 1 ? "" : "s",
                  f.at("interval_source").get<std::string>(), duration_text(f.at("restart_s")));
  out += fmt::format("  goodput             {:.1f} % of wall time trains: {:.1f} samples/s\n",
                     100 * f.at("efficiency").get<double>(), f.at("effective_samples_per_s").get<double>());
  return out;
}

}  // namespace

std::string training_summary_lines(const Scenario& s, const json& r)
{
  const auto& w = r.at("workload");
  std::string out = model_line(s, r) + workload_line(w) + iteration_lines(r) + throughput_lines(r);
  if (w.contains("compression"))
    out += compression_line(w.at("compression"));
  out += breakdown_line(r);
  if (w.contains("pipeline"))
    out += pipeline_line(w.at("pipeline"));
  out += fmt::format("  traffic             {} sent per GPU per iteration\n",
                     bytes_text(r.at("traffic").at("bytes_sent_per_gpu_per_iteration")));
  if (r.contains("memory"))
    out += memory_line(r.at("memory"));
  if (r.contains("failures"))
    out += failures_lines(r.at("failures"));
  return out;
}

}  // namespace ddlsim::report
