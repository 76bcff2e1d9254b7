#pragma once
// Inside sim/scenario: the parser and the resolved-JSON writer of each scenario section, which
// parse_scenario and to_json (scenario.cpp) compose. One file per section: cluster.cpp (cluster
// and network), model.cpp (model and gpu), training.cpp and its parallelism.cpp, compression.cpp,
// collective.cpp, output.cpp.
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>

namespace ddlsim::scenario {

// cluster.cpp
LinkConfig parse_link(const JsonNode& node, const char* scope);
ClusterConfig parse_cluster(const JsonNode& node);
/// Builds the cluster where that checks more than its parameters (a custom network, failed links,
/// slow links) and fails at the cluster node's entry that is wrong.
void check_cluster_builds(const JsonNode& cluster, const Scenario& s);
nlohmann::json cluster_json(const ClusterConfig& cluster);

// collective.cpp: what a collective benchmark and a training's all-reduce both choose.
Fidelity parse_fidelity(const JsonNode& workload);
coll::Algorithm parse_algorithm(const JsonNode& node, coll::Op op);
int parse_channels(const JsonNode& node, int gpus_per_node, coll::Algorithm algorithm, coll::Op op);
CollectiveConfig parse_collective(const JsonNode& workload, int gpus, int gpus_per_node);
/// A collective workload's other sections (model, gpu) and their checks against the cluster.
void parse_collective_scenario(const JsonNode& root, Scenario& s);
nlohmann::json collective_json(const Scenario& s);

// training.cpp, parallelism.cpp
TrainingConfig parse_training(const JsonNode& workload, int gpus, int gpus_per_node);
/// workload.parallelism into t (data, tensor, pipeline, ZeRO, expert and their options).
void parse_parallelism(const JsonNode& parallelism, int gpus, int gpus_per_node, TrainingConfig& t);
/// A training workload's other sections (model, gpu) and their checks against each other.
void parse_training_scenario(const JsonNode& root, Scenario& s);
nlohmann::json training_json(const TrainingConfig& t);

// compression.cpp
compress::CodecConfig parse_compression(const JsonNode& workload, const TrainingConfig& t);
nlohmann::json compression_json(const compress::CodecConfig& c, ArchitectureKind architecture);

// model.cpp
void parse_model(const JsonNode& model, Scenario& s);
void parse_training_gpu(const JsonNode& gpu, bool measured, Scenario& s);
nlohmann::json model_json(const Scenario& s);
nlohmann::json gpu_json(const Scenario& s);

// output.cpp
OutputConfig parse_output(const JsonNode& root, const std::string& name, int gpus);
nlohmann::json output_json(const OutputConfig& output);

}  // namespace ddlsim::scenario
