#include "models/resnet.hpp"

#include <numeric>
#include <string>

namespace ddlsim::model {

std::int64_t Model::total_params() const
{
  return std::accumulate(layers.begin(), layers.end(), std::int64_t{0},
                         [](std::int64_t sum, const Layer& l) { return sum + l.params; });
}

double Model::forward_flops_per_sample() const
{
  return std::accumulate(layers.begin(), layers.end(), 0.0,
                         [](double sum, const Layer& l) { return sum + l.forward_flops_per_sample; });
}

namespace {

/// Builds a CNN layer by layer while tracking the feature map shape (channels, height, width).
class CnnBuilder {
public:
  CnnBuilder(int channels, int height, int width) : c_(channels), h_(height), w_(width) {}

  /// Convolution without bias (every conv in ResNet is followed by batch norm).
  void conv(const std::string& name, int out_channels, int kernel, int stride, int padding)
  {
    h_ = (h_ + 2 * padding - kernel) / stride + 1;
    w_ = (w_ + 2 * padding - kernel) / stride + 1;
    const double out_elements = double(out_channels) * h_ * w_;
    const std::int64_t params = std::int64_t(kernel) * kernel * c_ * out_channels;
    layers_.push_back({name, LayerKind::conv, params, 2.0 * double(params) * h_ * w_, out_elements});
    c_ = out_channels;
  }
  /// Batch norm: scale and shift per channel (running statistics are buffers, not parameters);
  /// forward normalises and scales, about 4 flops an element.
  void batchnorm(const std::string& name)
  {
    layers_.push_back({name, LayerKind::batchnorm, 2 * std::int64_t(c_), 4.0 * elements(), elements()});
  }
  void relu(const std::string& name) { layers_.push_back({name, LayerKind::relu, 0, elements(), elements()}); }
  void maxpool(const std::string& name, int kernel, int stride, int padding)
  {
    h_ = (h_ + 2 * padding - kernel) / stride + 1;
    w_ = (w_ + 2 * padding - kernel) / stride + 1;
    layers_.push_back({name, LayerKind::maxpool, 0, double(kernel) * kernel * elements(), elements()});
  }
  /// Residual addition of two tensors of the current shape.
  void add(const std::string& name) { layers_.push_back({name, LayerKind::add, 0, elements(), elements()}); }
  void global_avgpool(const std::string& name)
  {
    const double in = elements();
    h_ = w_ = 1;
    layers_.push_back({name, LayerKind::avgpool, 0, in, elements()});
  }
  void linear(const std::string& name, int out_features)
  {
    const std::int64_t in = std::int64_t(c_) * h_ * w_;
    const std::int64_t params = in * out_features + out_features;
    layers_.push_back({name, LayerKind::linear, params, 2.0 * double(in) * out_features, double(out_features)});
    c_ = out_features;
    h_ = w_ = 1;
  }

  int channels() const { return c_; }
  void set_shape(int c, int h, int w) { c_ = c, h_ = h, w_ = w; }
  int height() const { return h_; }
  int width() const { return w_; }
  std::vector<Layer> take() { return std::move(layers_); }

private:
  double elements() const { return double(c_) * h_ * w_; }
  int c_, h_, w_;
  std::vector<Layer> layers_;
};

/// One bottleneck block: 1x1 reduce, 3x3 (strided), 1x1 expand to 4x width, plus the projection
/// shortcut (1x1 conv + BN) when the shape changes.
void bottleneck(CnnBuilder& b, const std::string& prefix, int width, int stride)
{
  const int in_c = b.channels(), in_h = b.height(), in_w = b.width();
  const int out_c = 4 * width;
  b.conv(prefix + ".conv1", width, 1, 1, 0);
  b.batchnorm(prefix + ".bn1");
  b.relu(prefix + ".relu1");
  b.conv(prefix + ".conv2", width, 3, stride, 1);
  b.batchnorm(prefix + ".bn2");
  b.relu(prefix + ".relu2");
  b.conv(prefix + ".conv3", out_c, 1, 1, 0);
  b.batchnorm(prefix + ".bn3");
  if (stride != 1 || in_c != out_c) {
    const int h = b.height(), w = b.width();
    b.set_shape(in_c, in_h, in_w);
    b.conv(prefix + ".downsample.0", out_c, 1, stride, 0);
    b.batchnorm(prefix + ".downsample.1");
    b.set_shape(out_c, h, w);
  }
  b.add(prefix + ".add");
  b.relu(prefix + ".relu3");
}

}  // namespace

Model make_resnet50()
{
  CnnBuilder b(3, 224, 224);
  b.conv("conv1", 64, 7, 2, 3);
  b.batchnorm("bn1");
  b.relu("relu");
  b.maxpool("maxpool", 3, 2, 1);
  const int blocks[4] = {3, 4, 6, 3};
  const int widths[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int i = 0; i < blocks[stage]; ++i) {
      const int stride = (stage > 0 && i == 0) ? 2 : 1;
      bottleneck(b, "layer" + std::to_string(stage + 1) + "." + std::to_string(i), widths[stage], stride);
    }
  }
  b.global_avgpool("avgpool");
  b.linear("fc", 1000);
  return Model{"resnet50", b.take()};
}

}  // namespace ddlsim::model
