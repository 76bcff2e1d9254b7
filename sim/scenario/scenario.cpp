// A scenario file from its root: each section parsed by its own file (sections.hpp), then the
// checks that span sections; and the resolved scenario written back as JSON.
#include "sim/scenario/scenario.hpp"

#include "sim/scenario/error.hpp"
#include "sim/scenario/sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace ddlsim::scenario {

namespace {

/// A scenario's name names its output folder: one safe file-name component.
void check_name(const std::string& name, const JsonNode& node, bool given)
{
  const bool safe = !name.empty() && name.size() <= 128 && name.front() != '.' && name.front() != '-' &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
                    });
  if (!safe)
    node.fail(fmt::format("{} '{}'; expected a name of 1 to 128 letters, digits, '.', '_' and '-', not starting with "
                          "'.' or '-' (it names the output folder){}",
                          given ? "found" : "the file's name gives", name, given ? "" : "; give \"name\""));
}

}  // namespace

Scenario parse_scenario(const nlohmann::json& document, const std::string& file)
{
  const JsonNode root(document, file, "");
  if (root.is_object() && root.has("sweep"))
    root.child("sweep").fail("this is a sweep file: run it with 'ddlsim sweep', or remove 'sweep' to run one scenario");
  root.allow_keys({"schema", "name", "seed", "model", "gpu", "cluster", "workload", "output"});
  Scenario s{};
  s.file = file;
  s.schema = root.int_value("schema", 1);
  if (s.schema != 1)
    root.child("schema").fail(fmt::format("found {}; expected 1 (the only schema this ddlsim reads)", s.schema));
  s.name = root.has("name") ? root.string("name") : std::filesystem::path(file).stem().string();
  check_name(s.name, root.has("name") ? root.child("name") : root, root.has("name"));
  s.seed = static_cast<std::uint64_t>(root.integer_or("seed", 1, 0));
  s.cluster = parse_cluster(root.child("cluster"));
  check_cluster_builds(root.child("cluster"), s);
  const JsonNode w = root.child("workload");
  const auto kind = w.child("kind").as_choice({"training", "collective"});
  s.kind = static_cast<WorkloadKind>(kind);
  if (s.kind == WorkloadKind::training)
    parse_training_scenario(root, s);
  else
    parse_collective_scenario(root, s);
  const coll::Algorithm algorithm = s.kind == WorkloadKind::training ? s.training.algorithm : s.collective.algorithm;
  const bool summing_algorithm = algorithm == coll::Algorithm::in_network || algorithm == coll::Algorithm::collnet;
  if (summing_algorithm && !(s.cluster.network.switch_reduce_bytes_per_s > 0)) {
    const JsonNode w = root.child("workload");
    (s.kind == WorkloadKind::training ? w.child("architecture").child("algorithm") : w.child("algorithm"))
        .fail(fmt::format("{} needs switches that reduce: a star, fat_tree or rail_optimized network with "
                          "'switch_reduction' (their summing rate)",
                          coll::to_string(algorithm)));
  }
  s.output = parse_output(root, s.name, s.cluster.gpus());
  return s;
}

Scenario load_scenario(const std::string& path)
{
  return parse_scenario(read_json_file(path), path);
}

nlohmann::json to_json(const Scenario& s)
{
  nlohmann::json doc = {{"schema", s.schema}, {"name", s.name}, {"seed", s.seed}, {"cluster", cluster_json(s.cluster)}};
  if (s.kind == WorkloadKind::training) {
    doc["model"] = model_json(s);
    doc["gpu"] = gpu_json(s);
    doc["workload"] = training_json(s.training);
  } else {
    doc.update(collective_json(s));
  }
  doc["output"] = output_json(s.output);
  return doc;
}

}  // namespace ddlsim::scenario
