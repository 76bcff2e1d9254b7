#include "sim/cli/scaling.hpp"

#include "sim/engine/child_process.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;
using namespace ddlsim::runner;

namespace ddlsim::cli {

using nlohmann::json;

const std::vector<ScalingMethod>& scaling_methods()
{
  static const std::vector<ScalingMethod> methods{
      {"bsp-allreduce", "none", "allreduce"},
      {"wfbp-allreduce", "wfbp", "allreduce"},
      {"mg-wfbp", "mg_wfbp", "allreduce"},
      {"bsp-ps", "none", "ps"},
      {"wfbp-ps", "wfbp", "ps"},
      {"bytescheduler-ps", "priority", "ps"},
      {"fusion-allreduce", "fusion", "allreduce"},
  };
  return methods;
}

std::vector<std::string> default_scaling_methods()
{
  std::vector<std::string> names;
  for (std::size_t i = 0; i < 6; ++i)
    names.push_back(scaling_methods()[i].name);
  return names;
}

std::vector<int> default_gpu_counts(int gpus, int gpus_per_node)
{
  std::vector<int> counts;
  for (int g = 1; g < gpus; g *= 2)
    if (g <= gpus_per_node || g % gpus_per_node == 0)
      counts.push_back(g);
  counts.push_back(gpus);
  return counts;
}

json scaled_scenario(const json& scenario, const std::string& file, int gpus, const ScalingMethod& method)
{
  json doc = scenario;
  const Scenario base = parse_scenario(scenario, file);
  const int per_node = base.cluster.gpus_per_node;
  json& cluster = doc["cluster"];
  if (gpus < per_node) {
    // One node with fewer GPUs: a NIC per GPU stays per GPU; PCIe switches shrink to the node.
    cluster["nodes"] = 1;
    cluster["gpus_per_node"] = gpus;
    if (base.cluster.nic_per_gpu())
      cluster["nics_per_node"] = gpus;
    else
      cluster["nics_per_node"] = 1;
    if (cluster.contains("intra_node") && cluster["intra_node"].is_object()) {
      cluster["intra_node"].erase("gpus_per_pcie_switch");
      cluster["intra_node"].erase("uplink");
    }
  } else if (gpus % per_node != 0) {
    throw ScenarioError(file, "/cluster",
                        fmt::format("{} GPUs is not a whole number of nodes of {} GPUs", gpus, per_node));
  } else {
    cluster["nodes"] = gpus / per_node;
  }
  json& w = doc["workload"];
  if (w.contains("parallelism"))
    w["parallelism"] = {{"data", gpus}, {"tensor", 1}, {"pipeline", 1}};
  w["scheduling"] = {{"policy", method.policy}};
  // Keep the scenario's own settings of the method's architecture; servers at most one per node.
  const bool same = to_string(base.training.architecture) == method.architecture;
  json arch = same && w.contains("architecture") ? w["architecture"] : json{{"kind", method.architecture}};
  if (method.architecture == "ps" && arch.contains("servers") &&
      arch.value("placement", std::string("colocated")) == "colocated")
    arch["servers"] = std::min(arch["servers"].get<int>(), cluster["nodes"].get<int>());
  w["architecture"] = arch;
  if (w.contains("sync"))
    w.erase("sync");  // the methods are BSP
  if (w.contains("compute") && w["compute"].contains("stragglers"))
    w["compute"].erase("stragglers");  // ranks may not exist at every size
  return doc;
}

std::vector<ScalingRow> scaling_table(const std::string& path, const std::vector<int>& gpus,
                                      const std::vector<std::string>& methods, int jobs)
{
  const json doc = read_json_file(path);
  parse_scenario(doc, path);  // the scenario itself must load
  std::vector<ScalingMethod> chosen;
  for (const std::string& name : methods) {
    const auto it = std::find_if(scaling_methods().begin(), scaling_methods().end(),
                                 [&](const ScalingMethod& m) { return m.name == name; });
    if (it == scaling_methods().end()) {
      std::vector<std::string> names;
      for (const ScalingMethod& m : scaling_methods())
        names.push_back(m.name);
      throw ScenarioError(path, "", fmt::format("unknown method '{}'; expected one of: {}", name, join_names(names)));
    }
    chosen.push_back(*it);
  }
  std::vector<ScalingRow> rows;
  std::vector<json> docs;
  for (int g : gpus)
    for (const ScalingMethod& m : chosen) {
      ScalingRow row;
      row.gpus = g;
      row.method = m.name;
      rows.push_back(row);
      docs.push_back(scaled_scenario(doc, path, g, m));  // throws for a size that does not fit
    }
  // Batches of `jobs` children; each sends back three numbers.
  for (std::size_t begin = 0; begin < rows.size(); begin += static_cast<std::size_t>(jobs)) {
    const std::size_t end = std::min(rows.size(), begin + static_cast<std::size_t>(jobs));
    std::vector<Child> children;
    for (std::size_t i = begin; i < end; ++i)
      children.push_back(start_child([&, i]() -> json {
        const json r = simulate(parse_scenario(docs[i], path)).report;
        return {r["throughput"]["samples_per_s"], r["scaling_efficiency"], r["iteration_time_s"]["mean"]};
      }));
    for (std::size_t i = begin; i < end; ++i) {
      Child& c = children[i - begin];
      while (read_child(c)) {
      }
      try {
        const json r = finish_child(c);
        rows[i].samples_per_s = r[0].get<double>();
        rows[i].scaling_efficiency = r[1].get<double>();
        rows[i].iteration_s = r[2].get<double>();
      } catch (const std::exception& e) {
        rows[i].error = e.what();
      }
    }
  }
  return rows;
}

std::string scaling_text(const std::vector<ScalingRow>& rows, const std::string& title)
{
  std::vector<std::string> methods;
  std::vector<int> gpus;
  std::map<std::pair<int, std::string>, const ScalingRow*> at;
  for (const ScalingRow& r : rows) {
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end())
      methods.push_back(r.method);
    if (std::find(gpus.begin(), gpus.end(), r.gpus) == gpus.end())
      gpus.push_back(r.gpus);
    at[{r.gpus, r.method}] = &r;
  }
  std::string out = title + "\nthroughput in samples/s (scaling efficiency vs. one GPU's compute)\n\n";
  out += fmt::format("{:>5}", "GPUs");
  for (const std::string& m : methods)
    out += fmt::format("  {:>18}", m);
  out += '\n';
  std::vector<std::string> errors;
  for (int g : gpus) {
    out += fmt::format("{:>5}", g);
    for (const std::string& m : methods) {
      const ScalingRow* r = at[{g, m}];
      if (!r->error.empty()) {
        out += fmt::format("  {:>18}", "failed");
        errors.push_back(fmt::format("{} GPUs, {}: {}", g, m, r->error));
      } else {
        out += fmt::format("  {:>10.1f} ({:>4.0f}%)", r->samples_per_s, 100 * r->scaling_efficiency);
      }
    }
    out += '\n';
  }
  for (const std::string& e : errors)
    out += "  " + e + "\n";
  return out;
}

std::string scaling_csv(const std::vector<ScalingRow>& rows)
{
  std::string out = "gpus,method,samples_per_s,scaling_efficiency,iteration_s,error\n";
  for (const ScalingRow& r : rows) {
    std::string error = r.error;
    std::replace(error.begin(), error.end(), '"', '\'');
    out += fmt::format("{},{},{:.9g},{:.9g},{:.9g},\"{}\"\n", r.gpus, r.method, r.samples_per_s, r.scaling_efficiency,
                       r.iteration_s, error);
  }
  return out;
}

}  // namespace ddlsim::cli
