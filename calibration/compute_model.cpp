#include "calibration/compute_model.hpp"

#include <algorithm>
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

}  // namespace

LayerRoofline layer_roofline(const model::Layer& layer, double input_elements, int batch, const GpuProfile& gpu,
                             const std::string& dtype)
{
  const double e = element_bytes(dtype);
  const double b = batch;
  const auto memory_seconds = [&](double bytes) {
    return bytes > 0 ? bytes / gpu.memory_bandwidth("copy", bytes) : 0.0;
  };
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
    r.forward_seconds = std::max(forward_gemm, memory_seconds(bytes));
    r.backward_seconds = std::max(backward_gemm, memory_seconds(2 * bytes));
    r.gemm_seconds = forward_gemm + backward_gemm;
    r.bytes = 3 * bytes;
    if (layer.kind == model::LayerKind::attention) {
      // Softmax between the products: scores written, read, probabilities written, read; again backward.
      const model::Gemm& s = gemms.front();
      const double scores = 4 * s.m * s.n * s.count * b * e;
      r.forward_seconds += memory_seconds(scores) + gpu.launch_seconds;
      r.backward_seconds += memory_seconds(scores) + gpu.launch_seconds;
      r.bytes += 2 * scores;
      r.kernels += 2;
    }
    return r;
  }
  const double out = layer.activation_elements_per_sample * b;
  const double in = layer.kind == model::LayerKind::add ? 2 * out : input_elements * b;
  const int passes = normalisation(layer.kind) ? 2 : 1;
  const double forward_bytes = passes * (in + out) * e;
  const double backward_bytes = passes * (out + 2 * in) * e;
  const double flops = layer.forward_flops_per_sample * b;
  const double fp32 = gpu.peak("fp32");
  r.forward_seconds = std::max(memory_seconds(forward_bytes), flops / fp32) + passes * gpu.launch_seconds;
  r.backward_seconds = std::max(memory_seconds(backward_bytes), flops / fp32) + passes * gpu.launch_seconds;
  r.flops = 2 * flops;
  r.bytes = forward_bytes + backward_bytes;
  r.kernels = 2 * passes;
  return r;
}

IterationPrediction predict_iteration(const model::Model& model, int batch, const GpuProfile& gpu,
                                      const std::string& dtype)
{
  IterationPrediction p;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const model::Layer& l = model.layers[i];
    const double input = i == 0 ? l.activation_elements_per_sample : model.layers[i - 1].activation_elements_per_sample;
    p.layers.push_back(layer_roofline(l, input, batch, gpu, dtype));
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
