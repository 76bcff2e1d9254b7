#include "models/cnn.hpp"

#include "models/cnn_builder.hpp"

#include <string>

namespace ddlsim::model {

Model make_vgg16()
{
  CnnBuilder b(3, 224, 224);
  // Configuration D: channel counts of the 3x3 convolutions, 0 for a 2x2 max pool.
  const int config[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  int index = 0;  // torchvision's features.N numbering: conv, relu, (pool)
  for (int c : config) {
    if (c == 0) {
      b.maxpool("features." + std::to_string(index++), 2, 2, 0);
    } else {
      b.conv("features." + std::to_string(index++), c, 3, 3, 1, 1, 1, true);
      b.relu("features." + std::to_string(index++));
    }
  }
  b.avgpool("avgpool", 1, 1, 0);  // adaptive 7x7 pool: identity at 224x224 input
  b.linear("classifier.0", 4096);
  b.relu("classifier.1");
  b.linear("classifier.3", 4096);
  b.relu("classifier.4");
  b.linear("classifier.6", 1000);
  return Model{"vgg16", b.take()};
}

namespace {

/// torchvision's BasicConv2d: convolution without bias, batch norm, ReLU.
void basic(CnnBuilder& b, const std::string& name, int out, int kh, int kw, int stride = 1, int ph = 0, int pw = 0)
{
  b.conv(name + ".conv", out, kh, kw, stride, ph, pw);
  b.batchnorm(name + ".bn");
  b.relu(name + ".relu");
}

/// Runs `branches` from the same input shape and concatenates their channels.
template <typename... Branch> void concat(CnnBuilder& b, Branch&&... branches)
{
  const Shape in = b.shape();
  const std::size_t first = b.layer_count();
  Shape out{0, 0, 0};
  auto run = [&](auto&& branch) {
    b.set_shape(in);
    branch();
    out = {out.channels + b.channels(), b.height(), b.width()};
  };
  (run(branches), ...);
  b.set_shape(out);
  b.seal(first);  // a pipeline cut inside would leave branches open; after it, the concatenation crosses
}

void inception_a(CnnBuilder& b, const std::string& p, int pool_features)
{
  concat(
      b, [&] { basic(b, p + ".branch1x1", 64, 1, 1); },
      [&] {
        basic(b, p + ".branch5x5_1", 48, 1, 1);
        basic(b, p + ".branch5x5_2", 64, 5, 5, 1, 2, 2);
      },
      [&] {
        basic(b, p + ".branch3x3dbl_1", 64, 1, 1);
        basic(b, p + ".branch3x3dbl_2", 96, 3, 3, 1, 1, 1);
        basic(b, p + ".branch3x3dbl_3", 96, 3, 3, 1, 1, 1);
      },
      [&] {
        b.avgpool(p + ".branch_pool.avgpool", 3, 1, 1);
        basic(b, p + ".branch_pool", pool_features, 1, 1);
      });
}

void inception_b(CnnBuilder& b, const std::string& p)
{
  concat(
      b, [&] { basic(b, p + ".branch3x3", 384, 3, 3, 2); },
      [&] {
        basic(b, p + ".branch3x3dbl_1", 64, 1, 1);
        basic(b, p + ".branch3x3dbl_2", 96, 3, 3, 1, 1, 1);
        basic(b, p + ".branch3x3dbl_3", 96, 3, 3, 2);
      },
      [&] { b.maxpool(p + ".branch_pool", 3, 2, 0); });
}

void inception_c(CnnBuilder& b, const std::string& p, int c7)
{
  concat(
      b, [&] { basic(b, p + ".branch1x1", 192, 1, 1); },
      [&] {
        basic(b, p + ".branch7x7_1", c7, 1, 1);
        basic(b, p + ".branch7x7_2", c7, 1, 7, 1, 0, 3);
        basic(b, p + ".branch7x7_3", 192, 7, 1, 1, 3, 0);
      },
      [&] {
        basic(b, p + ".branch7x7dbl_1", c7, 1, 1);
        basic(b, p + ".branch7x7dbl_2", c7, 7, 1, 1, 3, 0);
        basic(b, p + ".branch7x7dbl_3", c7, 1, 7, 1, 0, 3);
        basic(b, p + ".branch7x7dbl_4", c7, 7, 1, 1, 3, 0);
        basic(b, p + ".branch7x7dbl_5", 192, 1, 7, 1, 0, 3);
      },
      [&] {
        b.avgpool(p + ".branch_pool.avgpool", 3, 1, 1);
        basic(b, p + ".branch_pool", 192, 1, 1);
      });
}

void inception_d(CnnBuilder& b, const std::string& p)
{
  concat(
      b,
      [&] {
        basic(b, p + ".branch3x3_1", 192, 1, 1);
        basic(b, p + ".branch3x3_2", 320, 3, 3, 2);
      },
      [&] {
        basic(b, p + ".branch7x7x3_1", 192, 1, 1);
        basic(b, p + ".branch7x7x3_2", 192, 1, 7, 1, 0, 3);
        basic(b, p + ".branch7x7x3_3", 192, 7, 1, 1, 3, 0);
        basic(b, p + ".branch7x7x3_4", 192, 3, 3, 2);
      },
      [&] { b.maxpool(p + ".branch_pool", 3, 2, 0); });
}

void inception_e(CnnBuilder& b, const std::string& p)
{
  concat(
      b, [&] { basic(b, p + ".branch1x1", 320, 1, 1); },
      [&] {
        basic(b, p + ".branch3x3_1", 384, 1, 1);
        concat(
            b, [&] { basic(b, p + ".branch3x3_2a", 384, 1, 3, 1, 0, 1); },
            [&] { basic(b, p + ".branch3x3_2b", 384, 3, 1, 1, 1, 0); });
      },
      [&] {
        basic(b, p + ".branch3x3dbl_1", 448, 1, 1);
        basic(b, p + ".branch3x3dbl_2", 384, 3, 3, 1, 1, 1);
        concat(
            b, [&] { basic(b, p + ".branch3x3dbl_3a", 384, 1, 3, 1, 0, 1); },
            [&] { basic(b, p + ".branch3x3dbl_3b", 384, 3, 1, 1, 1, 0); });
      },
      [&] {
        b.avgpool(p + ".branch_pool.avgpool", 3, 1, 1);
        basic(b, p + ".branch_pool", 192, 1, 1);
      });
}

}  // namespace

Model make_inception_v3()
{
  CnnBuilder b(3, 299, 299);
  basic(b, "Conv2d_1a_3x3", 32, 3, 3, 2);
  basic(b, "Conv2d_2a_3x3", 32, 3, 3);
  basic(b, "Conv2d_2b_3x3", 64, 3, 3, 1, 1, 1);
  b.maxpool("maxpool1", 3, 2, 0);
  basic(b, "Conv2d_3b_1x1", 80, 1, 1);
  basic(b, "Conv2d_4a_3x3", 192, 3, 3);
  b.maxpool("maxpool2", 3, 2, 0);
  inception_a(b, "Mixed_5b", 32);
  inception_a(b, "Mixed_5c", 64);
  inception_a(b, "Mixed_5d", 64);
  inception_b(b, "Mixed_6a");
  inception_c(b, "Mixed_6b", 128);
  inception_c(b, "Mixed_6c", 160);
  inception_c(b, "Mixed_6d", 160);
  inception_c(b, "Mixed_6e", 192);
  // Auxiliary classifier on Mixed_6e's output (17x17x768); the main path continues from there.
  const Shape mixed_6e = b.shape();
  const std::size_t aux = b.layer_count();
  b.avgpool("AuxLogits.avgpool", 5, 3, 0);
  basic(b, "AuxLogits.conv0", 128, 1, 1);
  basic(b, "AuxLogits.conv1", 768, 5, 5);
  b.global_avgpool("AuxLogits.pool");
  b.linear("AuxLogits.fc", 1000);
  b.set_shape(mixed_6e);
  b.seal(aux);  // the main path goes on from Mixed_6e's output
  inception_d(b, "Mixed_7a");
  inception_e(b, "Mixed_7b");
  inception_e(b, "Mixed_7c");
  b.global_avgpool("avgpool");
  b.linear("fc", 1000);
  return Model{"inception-v3", b.take()};
}

}  // namespace ddlsim::model
