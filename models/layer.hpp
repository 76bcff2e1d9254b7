#pragma once
// A DNN workload as a list of layers: what ddlsim needs to know of a model to cost its
// compute and its gradient traffic. Plain data; no time, no units beyond those in the names.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ddlsim::model {

enum class LayerKind { conv, batchnorm, relu, maxpool, avgpool, add, linear, embedding, layernorm, attention, gelu };

/// Kind names as scenarios spell them, in enum order.
const std::vector<std::string_view>& layer_kind_names();
const char* to_string(LayerKind kind);

/// A parameter tensor as a matrix: a weight of shape (out, in, kh, kw) is (out, in*kh*kw), as
/// PowerSGD reshapes it; a bias or a norm's scale is a vector (rows = elements, cols = 1).
struct Tensor {
  std::int64_t rows, cols;
  std::int64_t elements() const { return rows * cols; }
  bool is_matrix() const { return rows > 1 && cols > 1; }
};

/// `count` matrix products (m x k)(k x n) of one sample's forward pass (a multiply-add is 2 flops).
struct Gemm {
  double m, n, k;
  double count = 1;
};

struct Layer {
  std::string name;  ///< unique within the model, e.g. "layer2.0.conv1"
  LayerKind kind;
  std::int64_t params;                    ///< trainable parameters (elements); 0 for parameter-free layers
  double forward_flops_per_sample;        ///< floating-point operations of the forward pass (a multiply-add is 2)
  double activation_elements_per_sample;  ///< elements of the layer's output tensor
  /// Its parameters as tensors (their elements add up to params); empty: one vector of params.
  std::vector<Tensor> tensors = {};
  /// Its forward matrix products per sample, when they are not the plain product with its weight
  /// (attention's Q K^T and weighted sum, a tied output projection); empty: derived from the
  /// weight by the compute model.
  std::vector<Gemm> gemms = {};
  /// Pipeline parallelism: elements per sample that cross a cut made right after this layer (all
  /// that the layers after it need); 0: no cut may follow it (inside a block whose skip connection
  /// or other branches are still open); negative: its own output (a plain chain of layers).
  double cut_elements_per_sample = -1;

  /// `tensors`, or one vector of params elements when none are given (none when params is 0).
  std::vector<Tensor> parameter_tensors() const;
  /// Elements per sample that a pipeline cut after this layer sends on (0 where no cut may be).
  double elements_across_cut() const
  {
    return cut_elements_per_sample < 0 ? activation_elements_per_sample : cut_elements_per_sample;
  }
};

/// Layers [first, end) form a block with one output: no pipeline cut inside it, and one after its
/// last layer sends `out_elements_per_sample`.
void seal_block(std::vector<Layer>& layers, std::size_t first, double out_elements_per_sample);

struct Model {
  std::string name;
  std::vector<Layer> layers;  ///< in forward order

  std::int64_t total_params() const;
  double forward_flops_per_sample() const;
  /// The first layer of each run of layers between the places where a pipeline may cut (after a
  /// layer whose cut_elements_per_sample is not 0).
  std::vector<std::size_t> block_starts() const;
};

}  // namespace ddlsim::model
