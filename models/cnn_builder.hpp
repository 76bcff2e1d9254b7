#pragma once
// Builds a CNN layer by layer while tracking the feature map shape (channels, height, width),
// so that parameter counts and FLOPs follow from the shapes as in the reference implementations.
#include "models/layer.hpp"

#include <string>
#include <vector>

namespace ddlsim::model {

struct Shape {
  int channels, height, width;
};

class CnnBuilder {
public:
  CnnBuilder(int channels, int height, int width) : s_{channels, height, width} {}

  /// Convolution of a kh x kw kernel; `bias` adds one parameter per output channel (VGG), none
  /// when batch norm follows (ResNet, Inception).
  void conv(const std::string& name, int out_channels, int kh, int kw, int stride, int ph, int pw, bool bias = false)
  {
    s_.height = (s_.height + 2 * ph - kh) / stride + 1;
    s_.width = (s_.width + 2 * pw - kw) / stride + 1;
    const std::int64_t weights = std::int64_t(kh) * kw * s_.channels * out_channels;
    const std::int64_t params = weights + (bias ? out_channels : 0);
    const double positions = double(s_.height) * s_.width;
    std::vector<Tensor> tensors{{out_channels, std::int64_t(kh) * kw * s_.channels}};
    if (bias)
      tensors.push_back({out_channels, 1});
    s_.channels = out_channels;
    layers_.push_back({name, LayerKind::conv, params, 2.0 * double(weights) * positions, elements(), tensors});
    layers_.back().conv = {kh, kw, stride, s_.height, s_.width};
  }
  /// Square kernel, equal padding, no bias.
  void conv(const std::string& name, int out_channels, int kernel, int stride, int padding)
  {
    conv(name, out_channels, kernel, kernel, stride, padding, padding);
  }
  /// Batch norm: scale and shift per channel (running statistics are buffers, not parameters);
  /// forward normalises and scales, about 4 flops an element.
  void batchnorm(const std::string& name)
  {
    layers_.push_back({name,
                       LayerKind::batchnorm,
                       2 * std::int64_t(s_.channels),
                       4.0 * elements(),
                       elements(),
                       {{s_.channels, 1}, {s_.channels, 1}}});
  }
  void relu(const std::string& name) { layers_.push_back({name, LayerKind::relu, 0, elements(), elements()}); }
  void maxpool(const std::string& name, int kernel, int stride, int padding)
  {
    pool(name, LayerKind::maxpool, kernel, stride, padding);
  }
  void avgpool(const std::string& name, int kernel, int stride, int padding)
  {
    pool(name, LayerKind::avgpool, kernel, stride, padding);
  }
  /// Residual addition of two tensors of the current shape.
  void add(const std::string& name) { layers_.push_back({name, LayerKind::add, 0, elements(), elements()}); }
  void global_avgpool(const std::string& name)
  {
    const double in = elements();
    s_.height = s_.width = 1;
    layers_.push_back({name, LayerKind::avgpool, 0, in, elements()});
  }
  /// Fully connected layer with bias over the flattened current tensor.
  void linear(const std::string& name, int out_features)
  {
    const std::int64_t in = std::int64_t(s_.channels) * s_.height * s_.width;
    const std::int64_t params = in * out_features + out_features;
    layers_.push_back({name,
                       LayerKind::linear,
                       params,
                       2.0 * double(in) * out_features,
                       double(out_features),
                       {{out_features, in}, {out_features, 1}}});
    s_ = {out_features, 1, 1};
  }

  Shape shape() const { return s_; }
  void set_shape(Shape s) { s_ = s; }
  int channels() const { return s_.channels; }
  int height() const { return s_.height; }
  int width() const { return s_.width; }
  std::vector<Layer> take() { return std::move(layers_); }
  std::size_t layer_count() const { return layers_.size(); }
  /// The layers added since `first` form a block whose output is `out_elements` per sample
  /// (model::seal_block).
  void seal(std::size_t first, double out_elements) { seal_block(layers_, first, out_elements); }
  /// The same, its output the current feature map.
  void seal(std::size_t first) { seal(first, elements()); }

private:
  void pool(const std::string& name, LayerKind kind, int kernel, int stride, int padding)
  {
    s_.height = (s_.height + 2 * padding - kernel) / stride + 1;
    s_.width = (s_.width + 2 * padding - kernel) / stride + 1;
    layers_.push_back({name, kind, 0, double(kernel) * kernel * elements(), elements()});
  }
  double elements() const { return double(s_.channels) * s_.height * s_.width; }

  Shape s_;
  std::vector<Layer> layers_;
};

}  // namespace ddlsim::model
