#include "sim/report.hpp"

#include "sim/error.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

namespace ddlsim {

namespace {

/// How a report's codec costs were obtained, when not measured on the GPU itself.
std::string codec_cost_note(const nlohmann::json& profile)
{
  return profile.at("measured").get<bool>() ? "" : " (codec costs " + profile.at("provenance").get<std::string>() + ")";
}

std::string seconds_text(double s)
{
  if (s >= 1)
    return fmt::format("{:.3f} s", s);
  if (s >= 1e-3)
    return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

/// Durations of a long job: hours and minutes when they are that long.
std::string duration_text(double s)
{
  if (s >= 3600)
    return fmt::format("{:.2f} h", s / 3600);
  if (s >= 60)
    return fmt::format("{:.1f} min", s / 60);
  return seconds_text(s);
}

std::string bytes_text(double b)
{
  if (b >= 1e9)
    return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6)
    return fmt::format("{:.2f} MB", b / 1e6);
  if (b >= 1e3)
    return fmt::format("{:.2f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

std::string rate_text(double bytes_per_s)
{
  return fmt::format("{:.2f} GB/s", bytes_per_s / 1e9);
}

std::string cluster_line(const Scenario& s)
{
  const ClusterConfig& c = s.cluster;
  std::string intra;
  if (c.intra.bandwidth_bytes_per_s > 0 && c.gpus_per_node > 1)
    intra = fmt::format(", {} {} per GPU", topo::to_string(c.fabric), rate_text(c.intra.bandwidth_bytes_per_s));
  const std::string link = c.network.link.preset.empty() ? "inline link" : c.network.link.preset;
  std::string slow;
  for (const auto& [name, factor] : c.slow_links)
    slow += fmt::format("{}{} at {:g} of its bandwidth", slow.empty() ? "; slow links: " : ", ", name, factor);
  for (std::size_t i = 0; i < c.network.failed_links.size(); ++i)
    slow += fmt::format("{}{}", i == 0 ? "; failed links: " : ", ", c.network.failed_links[i]);
  return fmt::format("{} nodes x {} GPUs = {} GPUs{}, {} to a {} switch ({}, {} latency), {} sharing{}", c.nodes,
                     c.gpus_per_node, c.gpus(), intra,
                     c.nic_placement() == topo::NicPlacement::per_gpu           ? "a NIC per GPU"
                     : c.nic_placement() == topo::NicPlacement::per_pcie_switch ? "a NIC per PCIe switch"
                                                                                : "a NIC per node",
                     topo::to_string(c.network.topology), link + ": " + rate_text(c.network.link.bandwidth_bytes_per_s),
                     seconds_text(c.network.link.latency_seconds), to_string(c.network.sharing), slow);
}

/// "125/125/124/110": each stage's layer count.
std::string stage_layers_text(const nlohmann::json& stages)
{
  std::string text;
  for (const auto& st : stages)
    text += (text.empty() ? "" : "/") + std::to_string(st.at("layers").get<int>());
  return text;
}

}  // namespace

std::string summary_text(const Scenario& s, const nlohmann::json& r)
{
  std::string out = fmt::format("ddlsim: {} ({})\n", s.name, s.file);
  out += fmt::format("  cluster             {}\n", cluster_line(s));
  if (r.at("kind") == "training") {
    const auto& w = r.at("workload");
    const auto& it = r.at("iteration_time_s");
    const auto& b = r.at("breakdown_s");
    const double mean = it.at("mean").get<double>();
    const double compute = b.at("compute").get<double>();
    const double exposed = b.at("exposed_communication").get<double>();
    const std::string precision = w.at("precision").get<std::string>();
    out += fmt::format("  model               {} ({} parameters, {} of {} gradients)\n", s.model,
                       r.at("model").at("parameters").get<long long>(), bytes_text(w.at("gradient_bytes")),
                       precision == "tf32" ? "fp32" : precision);  // tf32 is a rate; the data is fp32
    std::string policy = w.at("policy").get<std::string>();
    if (policy == "fusion")
      policy += fmt::format(" with {} buckets", bytes_text(w.at("bucket_bytes")));
    const auto& arch = w.at("architecture");
    const std::string kind = arch.at("kind").get<std::string>();
    std::string architecture;
    if (kind == "allreduce") {
      architecture = w.at("algorithm").get<std::string>();
      if (architecture == "auto") {
        std::string used;
        for (const auto& a : w.at("algorithms_used")) {
          if (!used.empty())
            used += ", ";
          used += a.get<std::string>();
        }
        architecture += " (" + used + ")";
      }
      architecture += " all-reduce";
    } else if (kind == "ps") {
      architecture = fmt::format("parameter server ({} {} servers)", arch.at("servers").get<int>(),
                                 arch.at("placement").get<std::string>());
    } else {
      architecture = fmt::format("gossip ({} graph, {} neighbours)", arch.at("graph").get<std::string>(),
                                 arch.at("neighbours").get<int>());
    }
    const auto& sync = w.at("sync");
    std::string scheme = sync.at("scheme").get<std::string>();
    if (sync.contains("staleness"))
      scheme += fmt::format(" (staleness {})", sync.at("staleness").get<int>());
    if (sync.contains("period"))
      scheme += fmt::format(" (period {})", sync.at("period").get<int>());
    std::string parallelism = fmt::format("data-parallel x{}", w.at("data_parallel").get<int>());
    if (w.contains("tensor"))
      parallelism += fmt::format(", tensor-parallel x{} (all-reduces: {}){}", w.at("tensor").at("size").get<int>(),
                                 w.at("tensor").at("comm").get<std::string>(),
                                 w.at("tensor").value("sequence_parallel", false) ? ", sequence-parallel" : "");
    if (w.contains("zero")) {
      const int stage = w.at("zero").at("stage").get<int>();
      const long long gathers = w.at("zero").value("allgathers_per_iteration", 0LL);
      parallelism += stage == 3 ? fmt::format(", ZeRO stage 3 (all-gather each unit before forward and backward: {} "
                                              "all-gathers per iteration; reduce-scatter)",
                                              gathers)
                                : fmt::format(", ZeRO stage {} (reduce-scatter, then all-gather)", stage);
    }
    if (w.contains("expert")) {
      const auto& e = w.at("expert");
      const int group = e.at("gradient_group").get<int>();
      parallelism += fmt::format(", expert-parallel x{} ({} of {} experts per GPU in {} MoE layers; {})",
                                 e.at("size").get<int>(), e.at("experts_per_gpu").get<int>(),
                                 e.at("experts_per_layer").get<int>(), e.at("moe_layers").get<int>(),
                                 group > 1 ? fmt::format("expert gradients synchronised over {} replicas", group)
                                           : std::string("no other replica holds a GPU's experts"));
    }
    if (const std::string r = w.value("recompute", "none"); r != "none")
      parallelism += fmt::format(", {} activation recomputation", r);
    if (w.contains("pipeline")) {
      const auto& pp = w.at("pipeline");
      parallelism += fmt::format(", pipeline x{} ({}, {} micro-batches, {:.0f} samples per iteration)",
                                 pp.at("stages").get<int>(), pp.at("schedule").get<std::string>(),
                                 pp.at("microbatches").get<int>(), pp.at("samples_per_iteration").get<double>());
    }
    out += fmt::format("  workload            {}, batch {} per GPU, {}, {}, {}, "
                       "{} synchronisations per iteration, {} fidelity\n",
                       parallelism, w.at("batch_per_gpu").get<int>(), architecture, scheme, policy,
                       w.at("collectives_per_iteration").get<int>(), w.at("fidelity").get<std::string>());
    const int iterations = w.at("iterations").get<int>();
    out += fmt::format("  iteration time      {} (mean of {}{}; min {}, max {})\n", seconds_text(mean),
                       iterations > 1 ? iterations - 1 : 1, iterations > 1 ? " after the first" : "",
                       seconds_text(it.at("min")), seconds_text(it.at("max")));
    const auto& per_rank = r.at("per_rank").at("iteration_time_s");
    if (per_rank.at("max").get<double>() > 1.001 * per_rank.at("min").get<double>())
      out += fmt::format("  per rank            iteration {} to {}\n", seconds_text(per_rank.at("min")),
                         seconds_text(per_rank.at("max")));
    if (r.at("statistics").contains("staleness_iterations") && kind == "ps")
      out += fmt::format("  staleness           mean {:.2f}, max {:.0f} iterations\n",
                         r.at("statistics").at("staleness_iterations").at("mean").get<double>(),
                         r.at("statistics").at("staleness_iterations").at("max").get<double>());
    const auto& tp = r.at("throughput");
    out += fmt::format("  throughput          {:.1f} samples/s{}\n", tp.at("samples_per_s").get<double>(),
                       tp.contains("tokens_per_s")
                           ? fmt::format(" ({:.0f} tokens/s at sequence {})", tp.at("tokens_per_s").get<double>(),
                                         r.at("model").at("sequence").get<int>())
                           : "");
    out += fmt::format("  scaling efficiency  {:.1f} % of {} x one GPU ({:.1f} samples/s per GPU alone)\n",
                       100 * r.at("scaling_efficiency").get<double>(), r.at("cluster").at("gpus").get<int>(),
                       r.at("single_gpu").at("samples_per_s").get<double>());
    const auto& one = r.at("single_gpu");
    out +=
        fmt::format("  compute model       {}{}\n", one.at("compute_model").get<std::string>(),
                    one.at("scaled_to_measured").is_null() ? ""
                                                           : ", scaled to the measured iteration (" +
                                                                 one.at("scaled_to_measured").get<std::string>() + ")");
    if (w.contains("compression")) {
      const auto& c = w.at("compression");
      out +=
          fmt::format("  compression         {} ({}), {} on the wire per GPU per iteration ({:.1f}x smaller), "
                      "encode {} + decode {} per iteration{}\n",
                      c.at("codec").get<std::string>(), c.at("exchange").get<std::string>(),
                      bytes_text(c.at("wire_bytes_per_worker")), c.at("compression_ratio").get<double>(),
                      seconds_text(c.at("encode_s")), seconds_text(c.at("decode_s")), codec_cost_note(c.at("profile")));
    }
    // compute, then codec (with compression), pipeline bubble (with stages), exposed communication.
    const auto part = [&](const char* name, double seconds, const std::string& note) {
      return fmt::format("{} {} ({:.1f} %{})", name, seconds_text(seconds), 100 * seconds / mean, note);
    };
    std::string parts = part("compute", compute, w.contains("pipeline") ? ", busiest stage" : "");
    if (w.contains("tensor"))
      parts += ", " + part("tensor-parallel all-reduces", b.at("tensor_parallel_communication").get<double>(), "");
    if (w.contains("expert"))
      parts += ", " + part("expert all-to-alls", b.at("expert_parallel_communication").get<double>(), "");
    if (w.contains("compression"))
      parts +=
          ", " + part("codec", b.at("codec").get<double>(),
                      w.at("compression").at("stream").get<std::string>() == "separate" ? ", own stream"
                                                                                        : ", on the compute stream");
    if (w.contains("pipeline"))
      parts += ", " + part("pipeline bubble", b.at("pipeline_bubble").get<double>(), "");
    out += fmt::format("  breakdown           {}, {}\n", parts, part("exposed communication", exposed, ""));
    if (w.contains("pipeline")) {
      double most = 0;
      for (const auto& st : w.at("pipeline").at("per_stage"))
        most = std::max(most, st.at("activation_bytes_in_flight").get<double>());
      out += fmt::format("  pipeline stages     {} layers per stage; activations kept: up to {} per GPU\n",
                         stage_layers_text(w.at("pipeline").at("per_stage")), bytes_text(most));
    }
    out += fmt::format("  traffic             {} sent per GPU per iteration\n",
                       bytes_text(r.at("traffic").at("bytes_sent_per_gpu_per_iteration")));
    if (r.contains("memory")) {
      const auto& m = r.at("memory");
      const auto& b = m.at("bytes_per_gpu");
      std::string of;
      if (!m.at("capacity_bytes").is_null())
        of = fmt::format(" of the GPU's {}{}", bytes_text(m.at("capacity_bytes")),
                         m.at("fits").get<bool>() ? "" : ": does NOT fit");
      out += fmt::format("  GPU memory          about {} per GPU{} (weights {}, gradients {}, Adam states {}, "
                         "activations {}{})\n",
                         bytes_text(b.at("total")), of, bytes_text(b.at("parameters")), bytes_text(b.at("gradients")),
                         bytes_text(b.at("optimizer_states")), bytes_text(b.at("activations")),
                         b.at("codec_state").get<double>() > 0 ? ", codec state " + bytes_text(b.at("codec_state"))
                                                               : std::string());
    }
    if (r.contains("failures")) {
      const auto& f = r.at("failures");
      const auto every = f.at("interval_iterations").get<long long>();
      out += fmt::format("  failures            job MTBF {} ({:.1f} a day); a {} checkpoint every {} ({} iteration{}, "
                         "{}); restart {}\n",
                         duration_text(f.at("job_mtbf_s")), f.at("failures_per_day").get<double>(),
                         duration_text(f.at("checkpoint_s")), duration_text(f.at("interval_s")), every,
                         every == 1 ? "" : "s", f.at("interval_source").get<std::string>(),
                         duration_text(f.at("restart_s")));
      out += fmt::format("  goodput             {:.1f} % of wall time trains: {:.1f} samples/s\n",
                         100 * f.at("efficiency").get<double>(), f.at("effective_samples_per_s").get<double>());
    }
  } else {
    const auto& c = r.at("collective");
    const bool v =
        c.contains("alltoall_weights") && c.at("alltoall_weights").is_string() && c.at("alltoall_weights") != "uniform";
    out += fmt::format("  collective          {} {} over {} ranks, {}, {} fidelity{}\n",
                       c.at("algorithm").get<std::string>(), c.at("op").get<std::string>(), c.at("ranks").get<int>(),
                       c.at("precision").get<std::string>(), c.at("fidelity").get<std::string>(),
                       v ? fmt::format(", all-to-allv weights: {} (size: the mean a rank sends)",
                                       c.at("alltoall_weights").get<std::string>())
                         : "");
    out += fmt::format("\n  {:>14} {:>14} {:>14} {:>12} {:>12}  {}\n", "size (B)", "count (elems)", "time (us)",
                       "algbw (GB/s)", "busbw (GB/s)", "algorithm");
    for (const auto& row : r.at("results"))
      out += fmt::format("  {:>14.0f} {:>14.0f} {:>14.2f} {:>12.2f} {:>12.2f}  {}\n",
                         row.at("size_bytes").get<double>(), row.at("count").get<double>(),
                         row.at("time_us").get<double>(), row.at("algbw_GBps").get<double>(),
                         row.at("busbw_GBps").get<double>(), row.at("algorithm").get<std::string>());
    out += "\n";
  }
  const auto& sim = r.at("simulation");
  out += fmt::format("  simulated with      {} transfers and {} timers in {:.3f} s of wall time\n",
                     sim.at("transfers").get<long long>(), sim.at("timers").get<long long>(),
                     r.at("wall_clock").at("simulator_seconds").get<double>());
  return out;
}

std::string collective_csv(const nlohmann::json& report)
{
  std::string out = "size_B,count,time_us,algbw_GBps,busbw_GBps,algorithm\n";
  for (const auto& row : report.at("results"))
    out += fmt::format("{:.0f},{:.0f},{},{},{},{}\n", row.at("size_bytes").get<double>(), row.at("count").get<double>(),
                       row.at("time_us").get<double>(), row.at("algbw_GBps").get<double>(),
                       row.at("busbw_GBps").get<double>(), row.at("algorithm").get<std::string>());
  return out;
}

void write_outputs(const Scenario& s, const RunResult& result, const std::string& dir)
{
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw SimulationError("cannot create the output folder " + dir + ": " + ec.message());
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f)
      throw SimulationError("cannot write " + path);
  };
  write("report.json", result.report.dump(2) + "\n");
  write("summary.txt", summary_text(s, result.report));
  if (s.kind == WorkloadKind::collective)
    write("results.csv", collective_csv(result.report));
  if (!result.links_csv.empty())
    write("links.csv", result.links_csv);
  if (!result.trace.is_null())
    write("trace.json", result.trace.dump());
}

}  // namespace ddlsim
