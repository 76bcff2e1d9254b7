#pragma once
// A DNN workload as a list of layers: what ddlsim needs to know of a model to cost its
// compute and its gradient traffic. Plain data; no time, no units beyond those in the names.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ddlsim::model {

enum class LayerKind {
  conv,
  batchnorm,
  relu,
  maxpool,
  avgpool,
  add,
  linear,
  embedding,
  layernorm,
  attention,
  gelu,
  silu,  ///< SwiGLU's gating: SiLU of one half of its input times the other half
};

/// Kind names as scenarios spell them, in enum order.
const std::vector<std::string_view>& layer_kind_names();
const char* to_string(LayerKind kind);

/// How tensor parallelism (Megatron-LM: Shoeybi et al., 2019) splits a layer over the t GPUs of
/// a tensor-parallel group.
enum class TensorSplit : std::uint8_t {
  none,    ///< every GPU runs all of it (layer norms, residual adds, position embeddings)
  column,  ///< weight split by its outputs; its input goes to every GPU, so backward all-reduces the input's gradient
  inner,   ///< runs on the 1/t of the features or heads its GPU holds (attention scores, GELU); no parameters split
  row,     ///< weight split by its inputs; forward all-reduces the partial outputs; its bias is kept whole
  vocabulary,  ///< embedding rows split; forward all-reduces the partial lookups
};

/// A parameter tensor as a matrix: a weight of shape (out, in, kh, kw) is (out, in*kh*kw), as
/// PowerSGD reshapes it; a bias or a norm's scale is a vector (rows = elements, cols = 1).
struct Tensor {
  std::int64_t rows, cols;
  std::int64_t elements() const { return rows * cols; }
  bool is_matrix() const { return rows > 1 && cols > 1; }
};

/// A convolution's window: kernel height and width, stride, and its output's height and width (all
/// 0 for other layers). The compute model needs it to cost algorithms other than the direct GEMM.
struct ConvShape {
  int kernel_h = 0, kernel_w = 0, stride = 0;
  int out_h = 0, out_w = 0;
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
  /// Tensor parallelism: how the layer is split, and the elements per sample that its split
  /// all-reduces over the group (row, vocabulary: its output after forward; column: its input's
  /// gradient after backward; 0 otherwise).
  TensorSplit split = TensorSplit::none;
  double split_allreduce_elements_per_sample = 0;
  /// Convolutions: their window (the weight tensor gives the channels).
  ConvShape conv = {};
  /// Mixture of experts: the layer holds `experts` experts' parameters, its tensors being the
  /// experts' weights in expert order, then their biases in the same order (0: not an expert layer).
  int experts = 0;
  /// Expert parallelism: elements per sample that the expert-parallel group exchanges all-to-all
  /// before this layer's forward (dispatch: every token to the GPUs of its experts) and after it
  /// (combine: the experts' outputs back to the tokens' GPUs); backward sends their gradients the
  /// other way.
  double dispatch_elements_per_sample = 0, combine_elements_per_sample = 0;
  /// Attention run as one fused kernel each way that never writes its scores to memory
  /// (FlashAttention, Dao et al., 2022): backward recomputes them from Q and K.
  bool flash = false;

  /// `tensors`, or one vector of params elements when none are given (none when params is 0).
  std::vector<Tensor> parameter_tensors() const;
  /// Elements per sample that backward needs kept from this layer's forward: its output, and for
  /// attention also the softmax's probabilities (s x s per head: its first product's m x n x count),
  /// which the weighted sum's gradient reads; flash attention keeps each score row's log-sum-exp
  /// instead (s per head: m x count).
  double kept_elements_per_sample() const;
  /// Elements per sample that a pipeline cut after this layer sends on (0 where no cut may be).
  double elements_across_cut() const
  {
    return cut_elements_per_sample < 0 ? activation_elements_per_sample : cut_elements_per_sample;
  }
};

/// Marks how tensor parallelism splits `layer` and what its split all-reduces (for model builders).
void set_split(Layer& layer, TensorSplit split, double allreduce_elements_per_sample = 0);

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
  /// Whether some layer has a tensor-parallel split (transformers do).
  bool tensor_parallel() const;
};

/// What one GPU of a tensor-parallel group of t runs: each split layer with 1/t of its flops, of
/// its split parameters (rounded up: Megatron-LM pads a vocabulary to a multiple of t) and, but
/// for row and vocabulary layers, of its output. With `sequence` (Megatron-LM's sequence
/// parallelism, Korthikanti et al., 2022) the layers that are not split (norms, residual adds,
/// position embeddings) run on 1/t of the sequence, so their flops, outputs and what a pipeline
/// cut after them carries are 1/t too, and row and vocabulary layers keep 1/t of their output
/// (reduce-scattered). t = 1 gives the model back. Throws std::invalid_argument for t < 1, for
/// t > 1 on a model without splits, and for attention heads (a Gemm's count) that t does not divide.
Model tensor_shard(const Model& model, int t, bool sequence = false);

/// `model` with its attention layers (those with products) run as flash attention (Layer::flash).
Model flash_attention(const Model& model);

/// The most experts of an expert layer of `model` (0: it has none).
int max_experts(const Model& model);

/// What one GPU of an expert-parallel group of e GPUs holds (GShard, Lepikhin et al., 2021): E / e
/// of each expert layer's E experts, their tensors and parameters. Its compute and activations stay
/// as they are: with balanced routing each GPU's experts process as many tokens as it routes.
/// e = 1 gives the model back. Throws std::invalid_argument for e < 1, for e > 1 on a model
/// without experts, and for e not dividing a layer's experts.
Model expert_shard(const Model& model, int e);

}  // namespace ddlsim::model
