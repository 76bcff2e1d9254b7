#include "models/resnet.hpp"

#include "models/cnn_builder.hpp"

#include <numeric>
#include <stdexcept>
#include <string>

namespace ddlsim::model {

namespace {

/// One bottleneck block: 1x1 reduce, 3x3 (strided), 1x1 expand to 4x width, plus the projection
/// shortcut (1x1 conv + BN) when the shape changes.
void bottleneck(CnnBuilder& b, const std::string& prefix, int width, int stride)
{
  const int in_c = b.channels(), in_h = b.height(), in_w = b.width();
  const int out_c = 4 * width;
  const std::size_t first = b.layer_count();
  b.conv(prefix + ".conv1", width, 1, 1, 0);
  b.batchnorm(prefix + ".bn1");
  b.relu(prefix + ".relu1");
  b.conv(prefix + ".conv2", width, 3, stride, 1);
  b.batchnorm(prefix + ".bn2");
  b.relu(prefix + ".relu2");
  b.conv(prefix + ".conv3", out_c, 1, 1, 0);
  b.batchnorm(prefix + ".bn3");
  if (stride != 1 || in_c != out_c) {
    const Shape out = b.shape();
    b.set_shape({in_c, in_h, in_w});
    b.conv(prefix + ".downsample.0", out_c, 1, stride, 0);
    b.batchnorm(prefix + ".downsample.1");
    b.set_shape(out);
  }
  b.add(prefix + ".add");
  b.relu(prefix + ".relu3");
  b.seal(first);  // the shortcut is open until the add
}

}  // namespace

Model make_resnet(int depth)
{
  int blocks[4] = {3, 4, 6, 3};
  if (depth == 101)
    blocks[2] = 23;
  else if (depth != 50)
    throw std::invalid_argument("ResNet depth " + std::to_string(depth) + ": expected 50 or 101");
  CnnBuilder b(3, 224, 224);
  b.conv("conv1", 64, 7, 2, 3);
  b.batchnorm("bn1");
  b.relu("relu");
  b.maxpool("maxpool", 3, 2, 1);
  const int widths[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int i = 0; i < blocks[stage]; ++i) {
      const int stride = (stage > 0 && i == 0) ? 2 : 1;
      bottleneck(b, "layer" + std::to_string(stage + 1) + "." + std::to_string(i), widths[stage], stride);
    }
  }
  b.global_avgpool("avgpool");
  b.linear("fc", 1000);
  return Model{"resnet" + std::to_string(depth), b.take()};
}

Model make_resnet50()
{
  return make_resnet(50);
}

}  // namespace ddlsim::model
