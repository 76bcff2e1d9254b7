#include "models/resnet.hpp"
#include "models/zoo.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <set>

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
  CHECK(model_names() == std::vector<std::string>{"bert-base", "bert-large", "gpt2-1.5b", "gpt2-124m", "gpt2-355m",
                                                  "gpt2-774m", "resnet50"});
}
