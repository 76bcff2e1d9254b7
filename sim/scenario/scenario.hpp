#pragma once
// A scenario (schema 1) after parsing: typed, units resolved to base units, defaults filled.
// Enumerators are spelled as in the JSON (where C++ allows: "max-min" is max_min, "auto" is auto_).
#include "calibration/compute_model.hpp"
#include "calibration/gpu_profile.hpp"
#include "models/layer.hpp"
#include "models/transformer.hpp"
#include "sim/collectives/registry.hpp"
#include "sim/compression/codec.hpp"
#include "topologies/cluster.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ddlsim::scenario {

enum class Sharing { max_min, tcp, ib };
enum class Fidelity { step, flow, auto_ };
enum class WorkloadKind { training, collective };
/// tf32: fp32 data (4 bytes an element, no master copy) whose products run at the GPU's tf32 rate
/// (training only).
enum class Precision { fp32, fp16, bf16, tf32 };
enum class SchedulingPolicy { none, wfbp, fusion, mg_wfbp, priority };
enum class SyncScheme { bsp, ssp, asp, local_sgd };
enum class ArchitectureKind { allreduce, ps, gossip };
enum class PsPlacement { colocated, dedicated };
enum class GossipGraph { ring, torus, exponential };
/// Pipeline parallelism: the order in which a stage runs its micro-batches' forward and backward.
enum class PipelineSchedule { one_f_one_b, gpipe };
/// Tensor parallelism: how a group's all-reduces are costed. simulate: as collectives on the
/// network, contending with the rest; alpha_beta: as the ring's alpha-beta time on the group's
/// route, a delay that joins the group (no contention; far fewer simulated transfers).
enum class TensorComm { simulate, alpha_beta };
/// Activation recomputation (checkpointing): what backward runs forward again instead of keeping.
/// selective: attention's scores and probabilities (Korthikanti et al., 2022); full: every block
/// but the last, which keeps only its input (torch.utils.checkpoint_sequential, Megatron-LM's full).
enum class Recompute { none, selective, full };

const char* to_string(Sharing v);
const char* to_string(Fidelity v);
const char* to_string(Precision v);
const char* to_string(SchedulingPolicy v);
const char* to_string(SyncScheme v);
const char* to_string(ArchitectureKind v);
const char* to_string(PsPlacement v);
const char* to_string(GossipGraph v);
const char* to_string(PipelineSchedule v);
const char* to_string(TensorComm v);
const char* to_string(Recompute v);

double bytes_per_element(Precision p);

struct LinkConfig {
  std::string preset;  ///< preset name, or empty when given inline
  double bandwidth_bytes_per_s;
  double latency_seconds;
};

struct NetworkConfig {
  topo::NetworkKind topology;
  LinkConfig link;  ///< every network link, NICs included (custom links may override it)
  Sharing sharing;
  double switch_reduce_bytes_per_s;  ///< star: in-network reduction rate of the switch (0: none)
  // fat_tree and rail_optimized
  int tiers;
  int radix;
  double oversubscription;
  topo::ClosRouting routing;
  int planes;
  int aggregation_trees = 1;              ///< with switch_reduction: SHARP trees, each through other upper switches
  std::vector<std::string> failed_links;  ///< fat_tree, rail_optimized: links between switches that are down
  // torus
  std::vector<int> dims;
  // dragonfly
  int groups, routers_per_group, hosts_per_router, global_links_per_router;
  // custom
  std::vector<std::string> switches;
  struct CustomLink {
    std::string from, to;
    LinkConfig link;
  };
  std::vector<CustomLink> links;
};

struct ClusterConfig {
  int nodes;
  int gpus_per_node;
  topo::IntraFabric fabric;
  LinkConfig intra;          ///< unused when gpus_per_node == 1 and NICs are per GPU
  int gpus_per_pcie_switch;  ///< pcie: GPUs under each PCIe switch (gpus_per_node: one switch)
  LinkConfig uplink;         ///< pcie with several switches: switch to root complex
  int nics_per_node;         ///< 1 (per node), PCIe switches per node (pcie), or gpus_per_node (per GPU)
  NetworkConfig network;
  /// Degraded links: a link's name (as links.csv gives it) and the factor on its bandwidth, in (0, 1].
  std::vector<std::pair<std::string, double>> slow_links;

  int gpus() const { return nodes * gpus_per_node; }
  int pcie_switches() const { return fabric == topo::IntraFabric::pcie ? gpus_per_node / gpus_per_pcie_switch : 1; }
  topo::NicPlacement nic_placement() const
  {
    if (nics_per_node == gpus_per_node)
      return topo::NicPlacement::per_gpu;
    if (nics_per_node == pcie_switches() && nics_per_node > 1)
      return topo::NicPlacement::per_pcie_switch;
    return topo::NicPlacement::per_node;
  }
  bool nic_per_gpu() const { return nic_placement() == topo::NicPlacement::per_gpu; }
};

/// The GPU of a training scenario: layer times either from the roofline of its profile
/// (`roofline`, calib::layer_roofline), or from a peak rate and the fraction of it reached.
struct GpuConfig {
  double peak_flops_per_s;                     ///< training only
  double efficiency;                           ///< training only
  bool roofline = false;                       ///< a profile and neither peak nor efficiency given
  calib::Fusion fusion = calib::Fusion::none;  ///< roofline: how ReLU, GELU and add layers run
  bool flash_attention = false;                ///< attention as flash kernels (model::flash_attention)
  double memory_bandwidth_bytes_per_s;         ///< 0: reductions in collectives are not charged

  /// Seconds to sum one received byte into a buffer: read two operands, write one (3 bytes of
  /// memory traffic per byte), at the memory bandwidth. 0 when it is not given.
  double reduce_seconds_per_byte() const
  {
    return memory_bandwidth_bytes_per_s > 0 ? 3.0 / memory_bandwidth_bytes_per_s : 0;
  }
};

/// Where compute times come from, and how ranks differ.
struct ComputeConfig {
  /// A measured single-GPU iteration (forward + backward of batch_per_gpu samples), seconds: the
  /// per-layer times of the GPU model are scaled to add up to it. 0: the GPU model as it is.
  double iteration_seconds = 0;
  std::string iteration_source;  ///< where iteration_seconds came from: the scenario, or a profile's measurement
  double jitter = 0;             ///< each rank's compute per iteration x (1 + u), u uniform in [-jitter, jitter]
  std::vector<std::uint32_t> slow_ranks;  ///< sorted, unique
  double slowdown = 1;                    ///< compute time factor of slow_ranks (>= 1)
};

/// Failures of a long training job and its checkpoints (sim/workload/failures.hpp).
struct FailureConfig {
  bool enabled = false;
  double gpu_mtbf_seconds = 0;        ///< mean time between failures of one GPU with its share of the node
  double restart_seconds = 0;         ///< from a failure to training again from the last checkpoint
  double checkpoint_seconds = 0;      ///< time to write one checkpoint, when given
  double checkpoint_bytes_per_s = 0;  ///< else: the storage's aggregate write rate for the training state
  double interval_seconds = 0;        ///< training time between checkpoints; 0: the optimum
};

struct TrainingConfig {
  int batch_per_gpu;
  Precision precision;
  int iterations;
  int data_parallel, tensor_parallel, pipeline_parallel;
  int microbatches = 1;  ///< pipeline: micro-batches of batch_per_gpu samples per iteration
  PipelineSchedule pipeline_schedule = PipelineSchedule::one_f_one_b;
  TensorComm tensor_comm = TensorComm::simulate;
  /// Sequence parallelism with tensor parallelism (Korthikanti et al., 2022): the layers that are
  /// not split run on 1/t of the sequence (model::tensor_shard).
  bool sequence_parallel = false;
  /// ZeRO stage (Rajbhandari et al., 2020): 0 none; 1 optimizer states and 2 also gradients
  /// sharded over the data-parallel group, so each bucket is reduce-scattered instead of
  /// all-reduced and the updated parameters are all-gathered before the next forward.
  int zero_stage = 0;
  /// Expert parallelism (GShard): each expert layer's experts spread over groups of this many
  /// consecutive data-parallel replicas, which exchange tokens all-to-all around them; expert
  /// gradients are all-reduced over the replicas that hold the same experts (d / e of them).
  int expert_parallel = 1;
  /// How the expert-parallel all-to-alls are costed: simulated on the network, or charged their
  /// alpha-beta time (TensorComm's two choices).
  TensorComm expert_comm = TensorComm::simulate;
  /// Routing skew: GPU j of an expert group receives a share of every GPU's tokens proportional to
  /// 1 / (j + 1)^expert_zipf (0: balanced), and its experts' compute scales with what it receives.
  double expert_zipf = 0;
  Recompute recompute = Recompute::none;
  FailureConfig failures;

  /// GPUs of one model replica (its stages, each over a tensor-parallel group).
  int model_parallel() const { return tensor_parallel * pipeline_parallel; }
  /// Whether the stage-wise builder (sim/workload/pipeline.hpp) runs it: stages, tensor groups, ZeRO or
  /// expert groups.
  bool staged() const { return model_parallel() > 1 || zero_stage > 0 || expert_parallel > 1; }
  ComputeConfig compute;
  SyncScheme sync;
  int staleness;  ///< ssp: a worker may run this many iterations ahead of the slowest
  int period;     ///< local_sgd: replicas are averaged every `period` iterations (bsp: 1)
  ArchitectureKind architecture;
  coll::Algorithm algorithm;         ///< allreduce: algorithm, or auto (chosen per bucket)
  int channels;                      ///< ring: concurrent rings (NCCL channels)
  int servers;                       ///< ps: parameter servers (gradients sharded over them)
  PsPlacement placement;             ///< ps: servers on GPU nodes (one per node at most) or on CPU hosts of their own
  double server_reduce_bytes_per_s;  ///< ps: rate at which a server sums pushed bytes; 0: not charged
  GossipGraph graph;                 ///< gossip: who exchanges with whom
  SchedulingPolicy policy;
  double bucket_bytes;     ///< fusion: gradients are grouped into buckets of at least this size; 0 = one per layer
  double cycle_seconds;    ///< fusion: Horovod's cycle time (0: none): ready gradients go at the next tick
  double partition_bytes;  ///< priority: tensors are cut into slices of at most this size
  double credit_bytes;     ///< priority: bytes of slices in flight at once (a multiple of the partition)
  compress::CodecConfig compression;
  Fidelity fidelity;

  /// Slices a priority scheduler keeps in flight.
  int credit_slices() const
  {
    return partition_bytes > 0 ? std::max(1, static_cast<int>(credit_bytes / partition_bytes + 1e-9)) : 1;
  }
};

struct CollectiveConfig {
  coll::Op op;
  coll::Algorithm algorithm;        ///< or auto: chosen per size
  int channels;                     ///< allreduce ring: concurrent rings (NCCL channels)
  std::vector<double> sizes_bytes;  ///< per-rank buffer sizes, increasing
  Precision precision;              ///< element type: count = size / element bytes
  Fidelity fidelity;
  int servers;                       ///< ps: parameter servers (the buffer sharded over them)
  PsPlacement placement;             ///< ps: servers with GPUs (ranks j p / servers) or on CPU hosts of their own
  double server_reduce_bytes_per_s;  ///< ps, dedicated: rate at which a server sums pushed bytes; 0: not charged
  /// alltoall as all-to-allv: weights[r * gpus + d] of what rank r sends to rank d, as given
  /// (empty: uniform, or Zipf); zipf >= 0: weights 1 / (d + 1)^zipf; negative: not Zipf
  std::vector<double> alltoall_weights;
  double alltoall_zipf = -1;
};

struct OutputConfig {
  std::string dir;
  bool trace;
  std::vector<std::uint32_t> trace_ranks;  ///< sorted, unique; default ranks 0-63 (all when fewer)
};

struct Scenario {
  std::string file;  ///< where it was read from (for messages); not part of the resolved JSON
  int schema;
  std::string name;
  std::uint64_t seed;
  std::string model;                        ///< model zoo name, or a custom model's name (training only)
  int sequence;                             ///< tokens per sample for sequence models; 0 for models without one
  std::vector<model::Layer> custom_layers;  ///< a custom model's layers (empty for zoo models)
  std::optional<model::TransformerConfig> transformer;  ///< a custom transformer (model.transformer)
  GpuConfig gpu;                              ///< training: required; collective: optional, for its memory_bandwidth
  std::shared_ptr<const GpuProfile> profile;  ///< gpu.profile when given (codec costs come from it)
  ClusterConfig cluster;
  WorkloadKind kind;
  TrainingConfig training;      ///< when kind == training
  CollectiveConfig collective;  ///< when kind == collective
  OutputConfig output;
};

/// cluster.slow_links as the scenario writes them: [{"link", "bandwidth_factor"}, ...].
nlohmann::json slow_links_json(const ClusterConfig& cluster);

/// Reads and validates a scenario file; throws ScenarioError naming the file and the JSON path.
Scenario load_scenario(const std::string& path);
/// Validates a parsed document; `file` names it in messages.
Scenario parse_scenario(const nlohmann::json& document, const std::string& file);
/// The resolved scenario as schema-1 JSON (every default explicit, quantities in base units);
/// parse_scenario(to_json(s)) gives back s.
nlohmann::json to_json(const Scenario& scenario);

/// The cluster that `cluster` describes; `seed` seeds ECMP hashing.
topo::ClusterParams cluster_params(const ClusterConfig& cluster, std::uint64_t seed);
/// The cluster of a scenario: cluster_params plus dedicated parameter servers when it has them.
topo::ClusterParams cluster_params(const Scenario& scenario);

/// The scenario's model: from the zoo, or its custom layer list.
model::Model scenario_model(const Scenario& scenario);

}  // namespace ddlsim::scenario
