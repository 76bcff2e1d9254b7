#include "models/cnn.hpp"
#include "models/resnet.hpp"
#include "models/zoo.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

using namespace ddlsim::model;

TEST_CASE("ResNet-50 has torchvision's 25,557,032 parameters")
{
  CHECK(make_resnet50().total_params() == 25'557'032);
}

TEST_CASE("ResNet-50's convolutions and classifier cost about 4.1 G multiply-adds per 224x224 image")
{
  // Widely quoted for torchvision's resnet50: 4.09 GMACs (e.g. fvcore / ptflops counts).
  const Model m = make_resnet50();
  double macs = 0;
  for (const Layer& l : m.layers)
    if (l.kind == LayerKind::conv || l.kind == LayerKind::linear)
      macs += l.forward_flops_per_sample / 2;
  CHECK(macs == ddlsim::test::Rel(4.09e9).epsilon(0.01));
}

TEST_CASE("ResNet-50's layers: 53 convolutions, 53 batch norms, one classifier, unique names")
{
  const Model m = make_resnet50();
  int conv = 0, bn = 0, fc = 0;
  std::set<std::string> names;
  for (const Layer& l : m.layers) {
    conv += l.kind == LayerKind::conv;
    bn += l.kind == LayerKind::batchnorm;
    fc += l.kind == LayerKind::linear;
    names.insert(l.name);
    CHECK(l.activation_elements_per_sample > 0);
  }
  CHECK(conv == 53);
  CHECK(bn == 53);
  CHECK(fc == 1);
  CHECK(names.size() == m.layers.size());
  CHECK(m.layers.back().name == "fc");
  CHECK(m.layers.back().params == 2048 * 1000 + 1000);
}

TEST_CASE("the zoo finds models by name and lists them")
{
  CHECK(find_model("resnet50").has_value());
  CHECK_FALSE(find_model("resnet-50").has_value());
  CHECK(model_names() == std::vector<std::string>{"bert-base", "bert-large", "gpt2-1.5b", "gpt2-124m",
                                                  "gpt2-124m-block", "gpt2-355m", "gpt2-774m", "gpt3-13b", "gpt3-175b",
                                                  "gpt3-2.7b", "gpt3-6.7b", "inception-v3", "llama2-7b", "llama3-70b",
                                                  "llama3-8b", "mixtral-8x7b", "resnet101", "resnet50", "vgg16"});
}

TEST_CASE("ResNet-101, VGG-16 and Inception-v3 have torchvision's parameter counts")
{
  // torchvision's model documentation: resnet101 44,549,160; vgg16 138,357,544; inception_v3
  // 27,161,264 (with the auxiliary classifier it trains with).
  CHECK(make_resnet(101).total_params() == 44'549'160);
  CHECK(make_vgg16().total_params() == 138'357'544);
  CHECK(make_inception_v3().total_params() == 27'161'264);
  CHECK_THROWS_AS(make_resnet(34), std::invalid_argument);
}

TEST_CASE("ResNet-101, VGG-16 and Inception-v3 cost their published multiply-adds per image")
{
  // Commonly quoted forward GMACs (e.g. torchvision's model table: 7.80, 15.47, 5.71).
  auto gmacs = [](const Model& m) {
    double macs = 0;
    for (const Layer& l : m.layers)
      if (l.kind == LayerKind::conv || l.kind == LayerKind::linear)
        macs += l.forward_flops_per_sample / 2;
    return macs / 1e9;
  };
  CHECK(gmacs(make_resnet(101)) == ddlsim::test::Rel(7.80).epsilon(0.01));
  CHECK(gmacs(make_vgg16()) == ddlsim::test::Rel(15.47).epsilon(0.01));
  CHECK(gmacs(make_inception_v3()) == ddlsim::test::Rel(5.71).epsilon(0.01));
}

TEST_CASE("VGG-16: 13 convolutions with bias and 3 fully connected layers, the first 25088 x 4096")
{
  const Model m = make_vgg16();
  int conv = 0, fc = 0;
  for (const Layer& l : m.layers) {
    conv += l.kind == LayerKind::conv;
    fc += l.kind == LayerKind::linear;
  }
  CHECK(conv == 13);
  CHECK(fc == 3);
  CHECK(m.layers[0].params == 3 * 64 * 9 + 64);
  const auto first_fc =
      std::find_if(m.layers.begin(), m.layers.end(), [](const Layer& l) { return l.kind == LayerKind::linear; });
  CHECK(first_fc->params == 25088LL * 4096 + 4096);
}
