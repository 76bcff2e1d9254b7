#pragma once
// What one pipeline stage runs and holds per micro-batch: pure data.
#include <cstddef>

namespace ddlsim::workload {

/// One pipeline stage: consecutive layers of the model, costed for one micro-batch.
struct PipelineStage {
  std::size_t first_layer = 0, layers = 0;
  double forward_seconds = 0, backward_seconds = 0;  ///< one micro-batch on one GPU
  double gradient_bytes = 0;                         ///< its parameters' gradients
  /// Bytes it sends the next stage per micro-batch (its last layer's output), and receives back as
  /// their gradient; 0 for the last stage.
  double send_bytes = 0;
  double activation_bytes = 0;      ///< what one micro-batch keeps for backward (kept_activations)
  double recompute_peak_bytes = 0;  ///< what backward re-creates at once with recomputation (kept_activations)
  int in_flight = 0;                ///< most micro-batches whose activations it keeps at once
  /// Tensor parallelism, per micro-batch: the tensor-parallel group's all-reduces in forward and
  /// in backward, the bytes each GPU contributes to them, and their alpha-beta seconds
  /// (tensor_allreduce_seconds); 0 with t = 1.
  int tensor_allreduces_forward = 0, tensor_allreduces_backward = 0;
  double tensor_bytes_forward = 0, tensor_bytes_backward = 0;
  double tensor_forward_seconds = 0, tensor_backward_seconds = 0;
  /// Sequence parallelism: the all-gathers of column layers' inputs in backward (their seconds
  /// are in tensor_backward_seconds).
  int tensor_allgathers_backward = 0;
  double tensor_gather_bytes_backward = 0;
  /// Expert parallelism, per micro-batch: the expert-parallel group's all-to-alls in forward and
  /// in backward (dispatch and combine), the bytes each GPU sends to them (its own share
  /// included), and their alpha-beta seconds as direct all-to-alls; 0 with expert 1.
  int alltoalls_forward = 0, alltoalls_backward = 0;
  double alltoall_bytes_forward = 0, alltoall_bytes_backward = 0;
  double alltoall_forward_seconds = 0, alltoall_backward_seconds = 0;
  /// Of gradient_bytes, the expert layers' (all-reduced over the d / e replicas that hold the same
  /// experts; with expert 1 over all d, as the rest).
  double expert_gradient_bytes = 0;
  /// Of forward_seconds and backward_seconds, the experts' compute with balanced routing (from each
  /// dispatch to its combine); with routing skew GPU j takes its load e w_j / sum(w) times it.
  double expert_forward_seconds = 0, expert_backward_seconds = 0;
};

}  // namespace ddlsim::workload
