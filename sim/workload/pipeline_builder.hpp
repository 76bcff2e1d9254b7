#pragma once
// Inside sim/workload: the builder of a staged training's task graph (sim/workload/pipeline.hpp
// says what it models). pipeline_plan.cpp costs the stages and cuts their compute into segments;
// pipeline_emit.cpp emits the tasks: compute, activations between stages, tensor- and
// expert-parallel collectives, gradient synchronisation and ZeRO's gathers.
#include "sim/workload/pipeline.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ddlsim::workload {

/// A run of one micro-batch's compute on a stage, then (bucket >= 0) the release of a gradient
/// bucket, then (allreduce_bytes > 0) a tensor-parallel all-reduce that the next run waits for.
struct Segment {
  double seconds = 0;
  double allreduce_bytes = 0;
  int bucket = -1;
  /// ZeRO stage 3: the bucket whose parameters must be all-gathered before this run starts (-1: none).
  int gather = -1;
  /// Sequence parallelism, backward: bytes the tensor-parallel group all-gathers before this run (a
  /// column layer's input, kept sharded, which its weight gradient needs whole).
  double tensor_gather_bytes = 0;
  /// Expert parallelism: bytes each GPU sends in the expert-parallel group's all-to-all after this
  /// run (after its all-reduce, if any), which the next run waits for; `alltoall_back`: from the
  /// experts' GPUs to the tokens' (combine, or dispatch's gradient), the routing's transpose.
  double alltoall_bytes = 0;
  bool alltoall_back = false;
  /// Of `seconds`, the experts' compute (from dispatch to combine), which routing skew scales per GPU.
  double expert_seconds = 0;
};

class PipelineBuilder {
public:
  PipelineBuilder(const scenario::Scenario& s, const model::Model& model, const std::vector<coll::GroupShape>& groups,
                  const std::vector<coll::GroupShape>& tensor_groups, const ExpertGroups& experts);

  PipelineTraining build();

private:
  static constexpr std::uint32_t NONE = UINT32_MAX;
  /// The constructor's steps, in order: the groups it was given checked; each layer's cost on one
  /// GPU of a tensor-parallel group (its shard, scaled to a measured iteration); routing skew's
  /// loads and shares; per stage its layers, its buckets and segments, its tensor-parallel and
  /// expert-parallel collectives at their alpha-beta times, and whether it is the busiest; labels.
  void check_groups() const;
  std::vector<LayerCost> shard_costs(const model::Model& model, const model::Model& shard) const;
  void set_routing_skew();
  PipelineStage stage_layers(std::uint32_t st_index, const std::vector<std::size_t>& firsts, const model::Model& model,
                             const model::Model& shard, const std::vector<LayerCost>& costs, model::Model& sub,
                             std::vector<LayerCost>& sub_costs) const;
  void plan_buckets(PipelineStage& st, std::uint32_t st_index, const model::Model& sub,
                    const std::vector<LayerCost>& sub_costs);
  void count_tensor_collectives(PipelineStage& st, std::uint32_t st_index) const;
  void count_alltoalls(PipelineStage& st, std::uint32_t st_index) const;
  void record_stage(const PipelineStage& st, std::uint32_t st_index, double& busiest);
  void make_labels();

  inline static const std::string ACTIVATIONS_LABEL = "activations to the next stage";
  inline static const std::string GRADIENTS_LABEL = "activation gradients to the previous stage";
  inline static const std::string TENSOR_FORWARD_LABEL = "tensor-parallel all-reduce (forward)";
  inline static const std::string TENSOR_BACKWARD_LABEL = "tensor-parallel all-reduce (backward)";
  inline static const std::string SEQUENCE_GATHER_LABEL = "sequence-parallel all-gather of an input (backward)";
  inline static const std::string ALLTOALL_FORWARD_LABEL = "expert-parallel all-to-all (forward)";
  inline static const std::string ALLTOALL_BACKWARD_LABEL = "expert-parallel all-to-all (backward)";

  /// Per GPU: the last task of its compute stream, the tasks its next forward waits for, and per
  /// micro-batch and bucket the tasks that transfers and all-reduces attach to.
  struct Lanes {
    std::vector<std::uint32_t>& last;
    std::vector<std::vector<std::uint32_t>>& waits;
    std::vector<std::vector<std::uint32_t>>& first_forward;
    std::vector<std::vector<std::uint32_t>>& forward;
    std::vector<std::vector<std::uint32_t>>& backward_in;
    std::vector<std::vector<std::uint32_t>>& backward_out;
    std::vector<std::vector<std::uint32_t>>& ready;
  };

  /// ZeRO stage 3, one iteration: per tensor rank k and bucket b, the collective that all-gathers
  /// b's parameters over k's data-parallel group before b runs forward, and before it runs
  /// backward (NONE: not gathered), and the buckets in the order they are gathered each way.
  struct Gathers {
    std::vector<std::vector<std::uint32_t>> forward, backward;
    std::vector<std::size_t> forward_order, backward_order;
    const engine::TaskGraph* graph;
    /// Replica i's part of collective c (NONE for none).
    std::uint32_t task(std::uint32_t c, std::uint32_t i) const
    {
      return c == NONE ? NONE : graph->collective(c).tasks[i];
    }
  };

  /// ZeRO stage 3: the iteration's all-gathers of parameters, one bucket at a time on each GPU, in
  /// the order forward, then backward, needs them: forward from the input's bucket on, backward
  /// from the output's, except that the bucket forward ran last keeps its parameters for backward.
  /// The first waits for the GPU's `waits` (its reduce-scatters of the previous iteration, which
  /// give its shard the update), which it then clears.
  Gathers gather_parameters(std::vector<std::vector<std::uint32_t>>& waits);

  /// ZeRO stage 3 keeps at most two buckets' parameters gathered on a GPU, the one computing and
  /// the next: the gather of the p-th bucket in `order` starts only once the (p - 1)-th may start
  /// computing (after `gates`, the compute task before it).
  void limit_gathers(const std::vector<std::size_t>& order, const std::vector<std::vector<std::uint32_t>>& gates,
                     const std::vector<std::vector<std::uint32_t>>& gathers);

  std::uint32_t gpu_of(std::uint32_t stage, std::uint32_t replica, std::uint32_t k) const;

  /// The GPU of lane m of the team of stage s that starts at replica i: the team's replicas
  /// (expert parallelism's group, else one) times their tensor ranks.
  std::uint32_t lane_gpu(std::uint32_t stage, std::uint32_t replica, std::uint32_t m) const;

  /// Each stage's first layer: stages are cut between blocks (a residual block, a transformer
  /// block, an Inception module), balancing forward + backward.
  std::vector<std::size_t> stage_firsts(const model::Model& model, const std::vector<LayerCost>& costs) const;

  /// A stage's forward, backward and last backward (cut at its buckets) as segments: runs of its
  /// layers between the tensor-parallel all-reduces (none with t = 1).
  void make_segments(const model::Model& sub, const std::vector<LayerCost>& costs, const std::vector<Bucket>& buckets,
                     double bytes_per_element_per_sample);

  void after(std::uint32_t before, std::uint32_t task);

  /// Alpha-beta seconds of a ring `op` (allreduce, or sequence parallelism's allgather) of `bytes`
  /// over a tensor-parallel group, summing charged for the all-reduce.
  double tensor_seconds(coll::Op op, const coll::GroupShape& group, double bytes) const;

  /// The tasks of a collective of `group`'s GPUs after each one's `last`: simulated by `algorithm`,
  /// or with `comm` alpha_beta one delay of `seconds` that all of them share (what GPU 0 would send
  /// in it then counts in alpha_beta_bytes_sent_gpu0). With `record`, the first GPU's task is added
  /// to it.
  std::vector<std::uint32_t> group_collective(coll::Op op, coll::Algorithm algorithm, scenario::TensorComm comm,
                                              const coll::GroupShape& group, double bytes, double seconds,
                                              double concurrent, const std::string& label,
                                              const std::vector<std::uint32_t>& last,
                                              std::vector<std::uint32_t>* record);

  /// The tasks of the tensor-parallel all-reduce (or, with `op` allgather, the sequence-parallel
  /// all-gather) of `bytes` after each GPU's `last` (one per GPU; with alpha_beta one delay that
  /// all of them share).
  std::vector<std::uint32_t> tensor_collective(std::uint32_t s, std::uint32_t i, coll::Op op, double bytes,
                                               bool forward, const std::vector<std::uint32_t>& last);

  /// The expert group of stage s that starts at replica i, with routing skew its all-to-allv shares
  /// towards the experts' GPUs, or with `back` from them.
  coll::GroupShape alltoall_group(std::uint32_t s, std::uint32_t i, bool back) const;

  /// The tasks of the expert-parallel all-to-all of `bytes` per GPU among the team of stage s that
  /// starts at replica i, after each GPU's `last` (one per lane).
  std::vector<std::uint32_t> expert_alltoall(std::uint32_t s, std::uint32_t i, double bytes, bool back, bool forward,
                                             const std::vector<std::uint32_t>& last);

  /// Segments run by every GPU of the team of stage s that starts at replica i (a tensor-parallel
  /// group, or an expert-parallel group of replicas): each GPU's compute (times its factor), then
  /// the bucket release, then the tensor-parallel all-reduce, then the expert-parallel all-to-all.
  /// Returns each lane's first task; `last` ends as each lane's last. With `bucket_ready` (the last
  /// backward), `bucket_ready[m][b]` is set for released buckets, whose segments take their labels.
  std::vector<std::uint32_t> run_segments(std::uint32_t s, std::uint32_t i, const std::vector<Segment>& segments,
                                          bool forward, const std::string& label, const std::vector<double>& factors,
                                          std::vector<std::uint32_t>& last,
                                          std::vector<std::vector<std::uint32_t>>* bucket_ready = nullptr);

  /// The steps of stage s of the team that starts at replica i in iteration `it`, on its GPUs'
  /// compute streams; each GPU's first forward waits for its `waits` (the previous iteration's
  /// synchronisation), which it then clears.
  void add_stage_compute(std::uint32_t s, std::uint32_t i, int it, Lanes& lanes);

  /// A micro-batch's activations (or their gradients) from GPU `from` to GPU `to`, between
  /// stages `stage` and `stage + 1`: sent once `produced` ends, needed before `consumer` starts.
  /// The receive is posted ahead (it is not the receiver's communication time, only its wait).
  void p2p(std::uint32_t from, std::uint32_t to, std::uint32_t stage, std::uint32_t produced, std::uint32_t consumer,
           const std::string& label);

  /// Each stage's buckets all-reduced over the data-parallel group of each of its tensor ranks,
  /// one after another per GPU; the next iteration's first forward waits for the last. With ZeRO
  /// stage 1 or 2 each bucket is reduce-scattered instead (each GPU keeps the sum of its 1/d);
  /// once all are, each GPU updates its shard and the buckets' parameters are all-gathered. With
  /// stage 3 the parameters are gathered bucket by bucket next iteration (gather_parameters).
  void synchronise_stages(int it, const std::vector<std::vector<std::uint32_t>>& ready,
                          std::vector<std::vector<std::uint32_t>>& waits,
                          std::vector<std::vector<std::uint32_t>>& ends);

  const scenario::Scenario& s_;
  const scenario::TrainingConfig& t_;
  const std::vector<coll::GroupShape>& groups_;
  const std::vector<coll::GroupShape>& tensor_groups_;
  const ExpertGroups& experts_;
  /// ep_: expert-parallel group size, the replicas whose compute is built together (a team);
  /// lanes_: GPUs of a team (tp_ ep_, one of them 1).
  const std::uint32_t stages_, d_, tp_, ep_, lanes_;
  const int m_;
  std::vector<std::vector<PipelineStep>> orders_;  ///< per stage
  std::vector<std::vector<Bucket>> buckets_;       ///< per stage, first_layer within the stage
  /// Per stage: one micro-batch's forward, backward, and the last backward (cut at buckets too).
  std::vector<std::vector<Segment>> forward_segments_, backward_segments_, last_segments_;
  std::vector<std::string> forward_labels_, backward_labels_;      ///< per micro-batch
  std::vector<std::vector<std::string>> segment_labels_;           ///< per stage and bucket: the last backward's
  std::vector<std::vector<std::string>> allreduce_labels_;         ///< per stage and bucket (reduce-scatter with ZeRO)
  std::vector<std::vector<std::string>> allgather_labels_;         ///< per stage and bucket (ZeRO 1 and 2)
  std::vector<std::vector<std::string>> expert_labels_;            ///< per stage and bucket (expert parallelism)
  std::vector<std::vector<std::string>> expert_allgather_labels_;  ///< per stage and bucket (with ZeRO 1 and 2)
  /// Per stage and bucket: the bytes of expert layers' gradients in it (0 with expert 1).
  std::vector<std::vector<double>> expert_bytes_;
  /// Routing skew: per lane, its experts' compute over the balanced one (1 without skew), and the
  /// all-to-allv shares towards the experts' GPUs and back (null without skew).
  std::vector<double> expert_load_;
  double hottest_ = 1;  ///< the largest of expert_load_
  std::shared_ptr<const std::vector<double>> dispatch_shares_, combine_shares_;
  std::vector<std::string> gather_forward_labels_, gather_backward_labels_;  ///< per bucket (ZeRO 3)
  /// ZeRO stage 3, per tensor rank and bucket, for the replica being built: its part of the
  /// all-gather that forward (backward) waits for (NONE: none), and the compute task before the
  /// bucket starts forward (backward).
  std::vector<std::vector<std::uint32_t>> gather_forward_, gather_backward_, gate_forward_, gate_backward_;
  PipelineTraining result_;
};

}  // namespace ddlsim::workload
