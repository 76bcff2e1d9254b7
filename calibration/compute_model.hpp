#pragma once
// Compute cost of layers on one GPU, two ways:
// - a placeholder: a fraction `efficiency` of a stated peak for every layer (scenarios that give
//   `gpu.peak` and `gpu.efficiency`);
// - a roofline from a GPU profile (scenarios that name a profile): matrix products at the
//   throughput the profile measured for their shapes, everything else at the measured memory
//   bandwidth, plus a kernel launch per kernel.
#include "calibration/gpu_profile.hpp"
#include "models/layer.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ddlsim::calib {

/// A GPU described by its peak rate and the fraction of it that layers reach.
struct PlaceholderGpu {
  double peak_flops_per_s;  ///< > 0
  double efficiency;        ///< in (0, 1]
};

struct LayerSeconds {
  double forward_seconds;
  double backward_seconds;
};

/// Forward and backward time of `layer` for `batch` samples. Backward costs twice the forward
/// flops for layers with parameters (input gradient + weight gradient), once for the others.
LayerSeconds layer_seconds(const model::Layer& layer, int batch, const PlaceholderGpu& gpu);

/// One layer under the roofline, forward + backward.
struct LayerRoofline {
  double forward_seconds = 0, backward_seconds = 0;
  double gemm_seconds = 0;  ///< of which its matrix products take (at their measured throughput)
  double flops = 0;         ///< forward + backward
  double bytes = 0;         ///< forward + backward device-memory traffic
  int kernels = 0;          ///< forward + backward launches
};

/// The roofline of one layer for `batch` samples in `dtype` (fp32, fp16, bf16), whose input has
/// `input_elements` elements per sample. Matrix products are the layer's `gemms`, or for a conv
/// or linear layer the product with its weight (out x in*kh*kw): m = forward flops / (2 out in),
/// n = out, k = in. Backward runs the gradients of both operands: (m, k, n), and (n, k, m) for the
/// weight (or, in attention, the second activation). A 3x3, stride-1 convolution runs as Winograd
/// F(4x4, 3x3) instead when that takes less time over its three passes (transforms as memory passes,
/// 36 products of (tiles x in)(in x out) per pass; compute_model.cpp), as cuDNN's autotuner
/// would pick it; its flops are then the products' it runs. A matrix layer's pass takes the longer of its products and
/// its bytes at the copy bandwidth; attention adds its scores (s x s per head) written and read twice, unless it is
/// flash attention (Layer::flash): one kernel forward (Q, K, V read, O and each row's log-sum-exp written) and two
/// backward (a row sum of dO x O; then Q K^T recomputed with the four gradient products, Q, K, V, dO read, their
/// gradients written), each at the longer of its products and its bytes, plus its launch. Other layers are
/// memory-bound: forward reads the input and writes the output (an add reads two inputs), backward reads the output's
/// gradient and the input and writes the input's gradient. A normalisation's backward adds a kernel that reads the
/// output's gradient and the input for its reductions; a batch norm's forward adds one that reads the input for the
/// batch's statistics (a layer norm's rows stay on chip). Each way takes the longer of its bytes at the profile's copy
/// bandwidth for that size and its flops at the fp32 peak, plus one launch per kernel.
LayerRoofline layer_roofline(const model::Layer& layer, double input_elements, int batch, const GpuProfile& gpu,
                             const std::string& dtype);

/// How the framework runs the elementwise layers (ReLU, GELU, residual add).
enum class Fusion {
  none,         ///< each as its own kernels, a pass over memory each way (eager PyTorch)
  elementwise,  ///< in the epilogue of the layer before it (cuDNN's fused batch norm + add +
                ///< ReLU, cuBLASLt's bias + GELU epilogues, XLA and torch.compile)
};

/// Fusion names as scenarios spell them, in enum order.
const std::vector<std::string_view>& fusion_names();
const char* to_string(Fusion fusion);

/// How attention layers run, as scenarios (`gpu.attention`) and `predict --attention` spell it:
/// "materialized" (scores through memory), then "flash" (model::flash_attention).
const std::vector<std::string_view>& attention_names();

/// An elementwise layer (ReLU, GELU, add) run in the epilogue of the layer before it, for `batch`
/// samples in `dtype`: no launch and no pass of its own; only what the fused kernels move in
/// addition, each way at the copy bandwidth for that size (flops at the fp32 peak when longer). ReLU
/// writes nothing extra forward, and backward reads its output for the mask. GELU writes its input
/// as well forward (backward needs it) and reads it back. An add reads its second operand forward and
/// writes that branch's gradient backward.
LayerRoofline fused_roofline(const model::Layer& layer, int batch, const GpuProfile& gpu, const std::string& dtype);

/// Whether `layer`, whose input has `input_elements` elements per sample, can run in the epilogue
/// of the layer before it: a ReLU, GELU or add of as many elements as that layer's output.
bool fusable(const model::Layer& layer, double input_elements);

/// A single-GPU iteration predicted from a profile, with the bounds it sits above.
struct IterationPrediction {
  std::vector<LayerRoofline> layers;  ///< in forward order
  double forward_seconds = 0, backward_seconds = 0;
  double seconds = 0;               ///< forward + backward
  double gemm_bound_seconds = 0;    ///< the matrix products alone, at their measured throughput
  double memory_bound_seconds = 0;  ///< every byte at the copy bandwidth, nothing else
  double launch_seconds = 0;        ///< kernels x launch overhead
  double flops = 0, bytes = 0;
  int kernels = 0;
};

/// Every layer of `model` in forward order, the first taking its own output size as input. With
/// elementwise fusion, each fusable layer after the first costs fused_roofline.
IterationPrediction predict_iteration(const model::Model& model, int batch, const GpuProfile& gpu,
                                      const std::string& dtype, Fusion fusion = Fusion::none);

/// Bytes of one element of `dtype`.
double element_bytes(const std::string& dtype);

}  // namespace ddlsim::calib
