#include "calibration/compute_model.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace ddlsim::calib {

LayerSeconds layer_seconds(const model::Layer& layer, int batch, const PlaceholderGpu& gpu)
{
  const double rate = gpu.peak_flops_per_s * gpu.efficiency;
  const double forward = layer.forward_flops_per_sample * batch / rate;
  const double backward_factor = layer.params > 0 ? 2.0 : 1.0;
  return {forward, backward_factor * forward};
}

double element_bytes(const std::string& dtype)
{
  if (dtype == "fp32" || dtype == "tf32")
    return 4;
  if (dtype == "fp16" || dtype == "bf16")
    return 2;
  if (dtype == "fp8")
    return 1;
  throw std::invalid_argument("unknown dtype '" + dtype + "'; expected fp32, tf32, fp16, bf16 or fp8");
}

namespace {

/// The layer's products: its own, or the one with its weight for conv and linear layers.
std::vector<model::Gemm> products(const model::Layer& l)
{
  if (!l.gemms.empty())
    return l.gemms;
  if ((l.kind != model::LayerKind::conv && l.kind != model::LayerKind::linear) || l.forward_flops_per_sample <= 0)
    return {};
  for (const model::Tensor& t : l.parameter_tensors())
    if (t.is_matrix()) {
      const double n = double(t.rows), k = double(t.cols);
      return {{l.forward_flops_per_sample / (2 * n * k), n, k, 1}};
    }
  return {};
}

bool normalisation(model::LayerKind kind)
{
  return kind == model::LayerKind::batchnorm || kind == model::LayerKind::layernorm;
}

/// Seconds of a pass over `bytes` of device memory at the profile's copy bandwidth for that size.
double memory_seconds(const GpuProfile& gpu, double bytes)
{
  return bytes > 0 ? bytes / gpu.memory_bandwidth("copy", bytes) : 0.0;
}

/// A 3x3, stride-1 convolution as cuDNN's non-fused Winograd runs it, F(4x4, 3x3) (Lavin and Gray,
/// 2016): every 4x4 tile of the output comes from a 6x6 tile of the input, so transforms turn the
/// input (or the output's gradient) and the weight into 36 planes, 36 products of (tiles x in)(in x
/// out) replace the direct GEMM's 9 in multiply-adds per output element by 2.25 in, and an inverse
/// transform folds the 36 planes back. Forward, the data gradient (the same with in and out
/// swapped) and the weight gradient (36 products (in x tiles)(tiles x out), then the weight's
/// inverse transform) each run their transforms as memory passes and their products at the
/// profile's GEMM throughput. Nothing for other layers.
std::optional<LayerRoofline> winograd(const model::Layer& l, double input_elements, double batch, const GpuProfile& gpu,
                                      const std::string& dtype)
{
  const model::ConvShape& c = l.conv;
  if (l.kind != model::LayerKind::conv || c.kernel_h != 3 || c.kernel_w != 3 || c.stride != 1)
    return std::nullopt;
  const model::Tensor w = l.parameter_tensors().front();
  const double out = double(w.rows), in = double(w.cols) / 9, e = element_bytes(dtype);
  const double tiles = batch * std::ceil(c.out_h / 4.0) * std::ceil(c.out_w / 4.0);
  const double x = batch * input_elements, y = batch * c.out_h * c.out_w * out;
  const double x_planes = 36 * tiles * in, y_planes = 36 * tiles * out, w_planes = 36 * in * out;
  const auto memory = [&](double elements) {
    return memory_seconds(gpu, elements * e);
  };
  const auto products = [&](double gemm_seconds, double elements) {
    return std::max(gemm_seconds, memory(elements));
  };
  LayerRoofline r;
  const double forward_gemm = gpu.gemm_seconds(dtype, 36 * tiles, out, in);
  const double data_gemm = gpu.gemm_seconds(dtype, 36 * tiles, in, out);
  const double weight_gemm = gpu.gemm_seconds(dtype, 36 * in, out, tiles);
  // Forward: x -> planes, w -> planes, products, planes -> y. Data gradient: dy -> planes, w ->
  // planes, products, planes -> dx. Weight gradient: x and dy -> planes, products, planes -> dw.
  const double forward_transforms = x + x_planes + 9 * in * out + w_planes + y_planes + y;
  const double data_transforms = y + y_planes + 9 * in * out + w_planes + x_planes + x;
  const double weight_transforms = x + x_planes + y + y_planes + w_planes + 9 * in * out;
  r.forward_seconds =
      memory(forward_transforms) + products(forward_gemm, x_planes + w_planes + y_planes) + 3 * gpu.launch_seconds;
  r.backward_seconds = memory(data_transforms) + products(data_gemm, y_planes + w_planes + x_planes) +
                       memory(weight_transforms) + products(weight_gemm, x_planes + y_planes + w_planes) +
                       6 * gpu.launch_seconds;
  r.gemm_seconds = forward_gemm + data_gemm + weight_gemm;
  r.flops = 3 * 2 * 36 * tiles * in * out;
  r.bytes = (forward_transforms + data_transforms + weight_transforms + 3 * (x_planes + y_planes + w_planes)) * e;
  r.kernels = 12;
  return r;
}

}  // namespace

LayerRoofline layer_roofline(const model::Layer& layer, double input_elements, int batch, const GpuProfile& gpu,
                             const std::string& dtype)
{
  const double e = element_bytes(dtype);
  const double b = batch;
  LayerRoofline r;
  const std::vector<model::Gemm> gemms = products(layer);
  if (!gemms.empty()) {
    double forward_gemm = 0, backward_gemm = 0, bytes = 0;
    for (const model::Gemm& g : gemms) {
      const double m = g.m * g.count * b;  // batched products stacked along m
      forward_gemm += gpu.gemm_seconds(dtype, m, g.n, g.k);
      // Gradients of both operands: (m x n)(n x k) and (n x m)(m x k).
      backward_gemm += gpu.gemm_seconds(dtype, m, g.k, g.n) + gpu.gemm_seconds(dtype, g.n, g.k, m);
      bytes += (g.m * g.k * g.count * b + g.k * g.n + g.m * g.n * g.count * b) * e;
      r.flops += 3 * 2 * m * g.n * g.k;
      r.kernels += 3;
    }
    if (layer.flash) {
      // FlashAttention-2 (Dao, 2023). Forward, one kernel: reads Q, K and V, writes O and each score
      // row's log-sum-exp (fp32). Backward, two: one sums dO x O per row (fp32), then one
      // recomputes the scores (the first product again), reads Q, K, V, dO and both row
      // statistics, and writes dQ, dK and dV. The products run at the GEMM rate of their
      // stacked shapes, as above.
      const model::Gemm& qk = gemms.front();  // (m x k)(k x n) per head: Q K^T
      const model::Gemm& pv = gemms.back();   // (m x k)(k x n) per head: P V
      const double q = qk.m * qk.k * qk.count * b, k = qk.k * qk.n * qk.count * b;
      const double v = pv.k * pv.n * pv.count * b, o = pv.m * pv.n * pv.count * b;
      const double rows = qk.m * qk.count * b;
      const double recompute = gpu.gemm_seconds(dtype, qk.m * qk.count * b, qk.n, qk.k);
      const double forward_bytes = (q + k + v + o) * e + 4 * rows;
      const double sums_bytes = 2 * o * e + 4 * rows;
      const double main_bytes = (2 * (q + k + v) + o) * e + 2 * 4 * rows;
      r.forward_seconds = std::max(forward_gemm, memory_seconds(gpu, forward_bytes)) + gpu.launch_seconds;
      r.backward_seconds = memory_seconds(gpu, sums_bytes) +
                           std::max(backward_gemm + recompute, memory_seconds(gpu, main_bytes)) +
                           2 * gpu.launch_seconds;
      r.gemm_seconds = forward_gemm + backward_gemm + recompute;
      r.flops += 2 * qk.m * qk.count * b * qk.n * qk.k;
      r.bytes = forward_bytes + sums_bytes + main_bytes;
      r.kernels = 3;
      return r;
    }
    r.forward_seconds = std::max(forward_gemm, memory_seconds(gpu, bytes));
    r.backward_seconds = std::max(backward_gemm, memory_seconds(gpu, 2 * bytes));
    r.gemm_seconds = forward_gemm + backward_gemm;
    r.bytes = 3 * bytes;
    // cuDNN's autotuner keeps the faster algorithm; one for the layer's three passes here.
    if (const std::optional<LayerRoofline> w = winograd(layer, input_elements, b, gpu, dtype);
        w && w->forward_seconds + w->backward_seconds < r.forward_seconds + r.backward_seconds)
      return *w;
    if (layer.kind == model::LayerKind::attention) {
      // Softmax between the products: scores written, read, probabilities written, read; again backward.
      const model::Gemm& s = gemms.front();
      const double scores = 4 * s.m * s.n * s.count * b * e;
      r.forward_seconds += memory_seconds(gpu, scores) + gpu.launch_seconds;
      r.backward_seconds += memory_seconds(gpu, scores) + gpu.launch_seconds;
      r.bytes += 2 * scores;
      r.kernels += 2;
    }
    return r;
  }
  const double out = layer.activation_elements_per_sample * b;
  const double in = layer.kind == model::LayerKind::add ? 2 * out : input_elements * b;
  // One kernel each way: forward reads the input and writes the output; backward reads the output's
  // gradient and the input and writes the input's gradient.
  int forward_kernels = 1, backward_kernels = 1;
  double forward_elements = in + out, backward_elements = out + 2 * in;
  if (normalisation(layer.kind)) {
    // Backward first reduces over the output's gradient and the input (batch norm: the two sums its
    // data gradient needs; layer norm: the scale and shift gradients, summed across rows).
    backward_kernels = 2;
    backward_elements += out + in;
  }
  if (layer.kind == model::LayerKind::batchnorm) {
    // A batch's statistics span the whole tensor: a pass reads the input for them before the pass
    // that normalises it. A layer norm's row stays on chip, so one kernel does both.
    forward_kernels = 2;
    forward_elements += in;
  }
  const double forward_bytes = forward_elements * e, backward_bytes = backward_elements * e;
  const double flops = layer.forward_flops_per_sample * b;
  const double fp32 = gpu.peak("fp32");
  r.forward_seconds = std::max(memory_seconds(gpu, forward_bytes), flops / fp32) + forward_kernels * gpu.launch_seconds;
  r.backward_seconds =
      std::max(memory_seconds(gpu, backward_bytes), flops / fp32) + backward_kernels * gpu.launch_seconds;
  r.flops = 2 * flops;
  r.bytes = forward_bytes + backward_bytes;
  r.kernels = forward_kernels + backward_kernels;
  return r;
}

const std::vector<std::string_view>& fusion_names()
{
  static const std::vector<std::string_view> names{"none", "elementwise"};
  return names;
}

const std::vector<std::string_view>& attention_names()
{
  static const std::vector<std::string_view> names{"materialized", "flash"};
  return names;
}

const char* to_string(Fusion fusion)
{
  return fusion_names()[static_cast<std::size_t>(fusion)].data();  // views of literals: terminated
}

bool fusable(const model::Layer& layer, double input_elements)
{
  const bool elementwise = layer.kind == model::LayerKind::relu || layer.kind == model::LayerKind::gelu ||
                           layer.kind == model::LayerKind::add;
  return elementwise && layer.params == 0 && input_elements == layer.activation_elements_per_sample;
}

LayerRoofline fused_roofline(const model::Layer& layer, int batch, const GpuProfile& gpu, const std::string& dtype)
{
  const double out = layer.activation_elements_per_sample * batch * element_bytes(dtype);
  // Bytes the fused kernels move for this layer, forward and backward.
  const double forward_bytes = layer.kind == model::LayerKind::relu ? 0 : out;
  const double backward_bytes = out;
  const double flops = layer.forward_flops_per_sample * batch;
  const double fp32 = gpu.peak("fp32");
  LayerRoofline r;
  r.forward_seconds = std::max(memory_seconds(gpu, forward_bytes), flops / fp32);
  r.backward_seconds = std::max(memory_seconds(gpu, backward_bytes), flops / fp32);
  r.flops = 2 * flops;
  r.bytes = forward_bytes + backward_bytes;
  return r;
}

IterationPrediction predict_iteration(const model::Model& model, int batch, const GpuProfile& gpu,
                                      const std::string& dtype, Fusion fusion)
{
  IterationPrediction p;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const model::Layer& l = model.layers[i];
    const double input = i == 0 ? l.activation_elements_per_sample : model.layers[i - 1].activation_elements_per_sample;
    const bool fused = fusion == Fusion::elementwise && i > 0 && fusable(l, input);
    p.layers.push_back(fused ? fused_roofline(l, batch, gpu, dtype) : layer_roofline(l, input, batch, gpu, dtype));
    const LayerRoofline& r = p.layers.back();
    p.forward_seconds += r.forward_seconds;
    p.backward_seconds += r.backward_seconds;
    p.gemm_bound_seconds += r.gemm_seconds;
    p.flops += r.flops;
    p.bytes += r.bytes;
    p.launch_seconds += r.kernels * gpu.launch_seconds;
    p.kernels += r.kernels;
  }
  p.seconds = p.forward_seconds + p.backward_seconds;
  p.memory_bound_seconds = p.bytes / gpu.copy_bandwidth_bytes_per_s;
  return p;
}

}  // namespace ddlsim::calib
