#include "models/transformer.hpp"
#include "models/zoo.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

#include <cmath>
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

TEST_CASE("tensor_shard splits GPT-2 as Megatron-LM does: per-GPU parameters, flops and all-reduces")
{
  const Model full = make_gpt2("124m", 1024);
  const double h = 768, s = 1024, v = 50257, L = 12;
  for (int t : {1, 2, 4}) {
    CAPTURE(t);
    const Model m = tensor_shard(full, t);
    REQUIRE(m.layers.size() == full.layers.size());
    // Per block: Q K V (3h^2 + 3h), out (h^2 + h), fc (4h^2 + 4h), proj (4h^2 + h), two norms (4h):
    // weights and the column layers' biases split, the row layers' biases and the norms whole.
    const double block = (12 * h * h + 7 * h) / t + 2 * h + 4 * h;
    const double embeddings = std::ceil(v / t) * h + 1024 * h;
    CHECK(double(m.total_params()) == L * block + embeddings + 2 * h);
    double forward_allreduce = 0, backward_allreduce = 0, linear_flops = 0;
    for (const Layer& l : m.layers) {
      (l.split == TensorSplit::column ? backward_allreduce : forward_allreduce) +=
          l.split_allreduce_elements_per_sample;
      if (l.kind == LayerKind::linear && l.name != "lm_head")
        linear_flops += l.forward_flops_per_sample;
    }
    // Two all-reduces of the residual stream per block each way, the embedding's, the head's input gradient.
    CHECK(forward_allreduce == (2 * L + 1) * s * h);
    CHECK(backward_allreduce == (2 * L + 1) * s * h);
    CHECK(linear_flops == ddlsim::test::Rel(L * 24 * s * h * h / t).epsilon(1e-12));
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      const Layer &a = full.layers[i], &b = m.layers[i];
      if (a.kind == LayerKind::attention) {
        CHECK(b.forward_flops_per_sample == a.forward_flops_per_sample / t);
        CHECK(b.gemms[0].count == 12.0 / t);
      }
      if (a.kind == LayerKind::layernorm || a.kind == LayerKind::add)
        CHECK(b.forward_flops_per_sample == a.forward_flops_per_sample);
    }
    const Layer& head = m.layers.back();
    CHECK(head.gemms.at(0).n == v / t);
    CHECK(head.activation_elements_per_sample == v * s / t);
  }
}

TEST_CASE("tensor_shard refuses models without a layout and heads that do not split")
{
  CHECK(tensor_shard(*find_model("resnet50"), 1).layers.size() > 0);
  CHECK_THROWS_WITH_AS(tensor_shard(*find_model("resnet50"), 2), doctest::Contains("no tensor-parallel layout"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(tensor_shard(make_gpt2("124m", 1024), 8), doctest::Contains("12 attention heads"),
                       std::invalid_argument);
  CHECK_THROWS_AS(tensor_shard(make_gpt2("124m", 1024), 0), std::invalid_argument);
}

TEST_CASE("GPT-3's sizes: 12 L h^2 + 13 L h + (V + 2048) h + 2 h parameters, near the paper's names")
{
  struct Size {
    const char* name;
    double layers, hidden, nominal;
  };
  for (const Size& z : {Size{"2.7b", 32, 2560, 2.7e9}, Size{"6.7b", 32, 4096, 6.7e9}, Size{"13b", 40, 5120, 13e9},
                        Size{"175b", 96, 12288, 175e9}}) {
    CAPTURE(z.name);
    const Model m = make_gpt3(z.name, 2048);
    const double h = z.hidden;
    const double params = 12 * z.layers * h * h + 13 * z.layers * h + (50257 + 2048) * h + 2 * h;
    CHECK(double(m.total_params()) == params);
    CHECK(std::abs(params / z.nominal - 1) < 0.03);
    CHECK(find_model(std::string("gpt3-") + z.name)->total_params() == m.total_params());
  }
  CHECK_THROWS_AS(make_gpt3("1.3b", 2048), std::invalid_argument);
  CHECK(default_sequence("gpt3-175b") == 2048);
}

TEST_CASE("Llama 2 7B, Llama 3 8B and 70B, Mixtral 8x7B: the released checkpoints' parameter counts")
{
  // Hugging Face's LlamaForCausalLM and MixtralForCausalLM with the papers' configurations.
  CHECK(ddlsim::model::make_llama2_7b(4096).total_params() == 6'738'415'616);
  CHECK(ddlsim::model::make_llama3("8b", 8192).total_params() == 8'030'261'248);
  CHECK(ddlsim::model::make_llama3("70b", 8192).total_params() == 70'553'706'496);
  const ddlsim::model::Model mixtral = ddlsim::model::make_mixtral_8x7b(4096);
  CHECK(mixtral.total_params() == 46'702'792'704);
  CHECK(ddlsim::model::max_experts(mixtral) == 8);
  CHECK_THROWS_AS(ddlsim::model::make_llama3("405b", 8192), std::invalid_argument);
  // Grouped-query attention: Q h x h, K and V h x (kv d) each, no biases; SwiGLU's up and gate 2f x h.
  const ddlsim::model::Model llama = ddlsim::model::make_llama3("8b", 128);
  int seen = 0;
  for (const ddlsim::model::Layer& l : llama.layers) {
    if (l.name == "layer.0.attention.qkv") {
      CHECK(l.params == 4096LL * (4096 + 2 * 8 * 128));
      ++seen;
    }
    if (l.name == "layer.0.ffn.intermediate") {
      CHECK(l.params == 4096LL * 2 * 14336);
      ++seen;
    }
    if (l.name == "layer.0.ffn.swiglu") {
      CHECK(l.kind == ddlsim::model::LayerKind::silu);
      ++seen;
    }
    if (l.name == "layer.0.ln_1") {
      CHECK(l.params == 4096);
      ++seen;
    }
    CHECK(l.name != "embeddings.position");
  }
  CHECK(seen == 4);
  // Mixtral's active parameters per token: the dense ones plus 2 of 8 experts (12.9 B; Jiang et al.
  // give 13 B).
  double experts = 0;
  for (const ddlsim::model::Layer& l : mixtral.layers)
    if (l.experts > 0)
      experts += double(l.params);
  const double active = double(mixtral.total_params()) - experts * 6 / 8;
  CHECK(active == doctest::Approx(12.88e9).epsilon(0.01));
}
