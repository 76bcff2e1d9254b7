#include "models/transformer.hpp"
#include "models/zoo.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <set>
#include <stdexcept>

using namespace ddlsim::model;

TEST_CASE("BERT-Base and BERT-Large have BertModel's parameter counts, pooler included")
{
  // Hugging Face transformers' BertModel (bert-base-uncased, bert-large-uncased) with its pooler.
  CHECK(make_bert_base(128).total_params() == 109'482'240);
  CHECK(make_bert_large(128).total_params() == 335'141'888);
  // Parameters do not depend on the sequence length; flops do.
  CHECK(make_bert_large(64).total_params() == 335'141'888);
}

TEST_CASE("GPT-2's four released sizes have GPT2LMHeadModel's parameter counts (tied head)")
{
  CHECK(make_gpt2("124m", 1024).total_params() == 124'439'808);
  CHECK(make_gpt2("355m", 1024).total_params() == 354'823'168);
  CHECK(make_gpt2("774m", 1024).total_params() == 774'030'080);
  CHECK(make_gpt2("1.5b", 1024).total_params() == 1'557'611'200);
  CHECK_THROWS_AS(make_gpt2("2b", 1024), std::invalid_argument);
}

TEST_CASE("a transformer block's forward flops are 24 s h^2 + 4 s^2 h plus the elementwise terms")
{
  // Linear layers: 2 s (3h^2 + h^2 + 2 h f) = 24 s h^2 for f = 4h; attention matmuls 4 s^2 h.
  TransformerConfig c;
  c.layers = 1, c.hidden = 256, c.heads = 4, c.ffn = 1024, c.vocabulary = 100, c.max_positions = 64;
  c.sequence = 64;
  c.token_types = 0;
  const Model m = make_transformer(c);
  double linear = 0, attention = 0;
  for (const Layer& l : m.layers) {
    if (l.kind == LayerKind::linear)
      linear += l.forward_flops_per_sample;
    if (l.kind == LayerKind::attention)
      attention += l.forward_flops_per_sample;
  }
  const double s = 64, h = 256;
  CHECK(linear == ddlsim::test::Rel(24 * s * h * h).epsilon(1e-12));
  CHECK(attention == ddlsim::test::Rel(4 * s * s * h + 5 * s * s * 4).epsilon(1e-12));
}

TEST_CASE("transformer layers own their gradients where they have parameters, names are unique")
{
  const Model m = make_bert_base(128);
  std::set<std::string> names;
  int linear_with_params = 0;
  for (const Layer& l : m.layers) {
    names.insert(l.name);
    CHECK(l.activation_elements_per_sample > 0);
    linear_with_params += l.kind == LayerKind::linear && l.params > 0;
  }
  CHECK(names.size() == m.layers.size());
  CHECK(linear_with_params == 12 * 4 + 1);  // QKV, output, two FFN per block, plus the pooler
}

TEST_CASE("bad transformer shapes are refused")
{
  TransformerConfig c;
  c.heads = 7;
  CHECK_THROWS_AS(make_transformer(c), std::invalid_argument);
  c = {};
  c.sequence = 513;
  CHECK_THROWS_AS(make_transformer(c), std::invalid_argument);
  c = {};
  c.layers = 0;
  CHECK_THROWS_AS(make_transformer(c), std::invalid_argument);
}

TEST_CASE("the zoo resolves sequence lengths: defaults, explicit ones, none for CNNs")
{
  CHECK(default_sequence("bert-large") == 128);
  CHECK(default_sequence("gpt2-124m") == 1024);
  CHECK(default_sequence("resnet50") == 0);
  CHECK(find_model("bert-large", 64)->forward_flops_per_sample() <
        find_model("bert-large")->forward_flops_per_sample());
  CHECK_THROWS_AS(find_model("resnet50", 64), std::invalid_argument);
  CHECK_THROWS_AS(find_model("bert-base", 1000), std::invalid_argument);
}
