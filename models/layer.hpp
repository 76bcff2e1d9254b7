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

struct Layer {
  std::string name;  ///< unique within the model, e.g. "layer2.0.conv1"
  LayerKind kind;
  std::int64_t params;                    ///< trainable parameters (elements); 0 for parameter-free layers
  double forward_flops_per_sample;        ///< floating-point operations of the forward pass (a multiply-add is 2)
  double activation_elements_per_sample;  ///< elements of the layer's output tensor
};

struct Model {
  std::string name;
  std::vector<Layer> layers;  ///< in forward order

  std::int64_t total_params() const;
  double forward_flops_per_sample() const;
};

}  // namespace ddlsim::model
