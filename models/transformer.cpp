#include "models/transformer.hpp"

#include <stdexcept>

namespace ddlsim::model {

namespace {

Layer linear(const std::string& name, std::int64_t in, std::int64_t out, double tokens, bool bias = true)
{
  Layer l{name,       LayerKind::linear, in * out, 2.0 * double(in) * double(out) * tokens, double(out) * tokens,
          {{out, in}}};
  if (bias) {
    l.params += out;
    l.tensors.push_back({out, 1});
  }
  return l;
}

/// Layer norm over h features: mean, variance, normalise, scale and shift, about 8 flops an
/// element; RMSNorm (`rms`): mean square, normalise, scale, about 4 and h parameters.
Layer layernorm(const std::string& name, std::int64_t h, double tokens, bool rms = false)
{
  if (rms)
    return {name, LayerKind::layernorm, h, 4.0 * double(h) * tokens, double(h) * tokens, {{h, 1}}};
  return {name, LayerKind::layernorm, 2 * h, 8.0 * double(h) * tokens, double(h) * tokens, {{h, 1}, {h, 1}}};
}

/// The feed-forward's elementwise activation over `width` features of `tokens` tokens: GELU (about 8
/// flops an element), or SwiGLU's SiLU of the gate times the up projection (about 6).
Layer activation(const std::string& name, const TransformerConfig& c, double width, double tokens)
{
  if (c.gated_ffn)
    return {name, LayerKind::silu, 0, 6.0 * tokens * width, tokens * width};
  return {name, LayerKind::gelu, 0, 8.0 * tokens * width, tokens * width};
}

/// The feed-forward of a block with experts: router, the experts' two matrices with the activation
/// between (C k tokens' worth of each token), and the residual add that weighs their k outputs.
void expert_ffn(std::vector<Layer>& out, const std::string& p, const TransformerConfig& c)
{
  const double s = c.sequence;
  const std::int64_t h = c.hidden, f = c.ffn, n = c.experts, up = c.gated_ffn ? 2 * f : f;
  const double routed = s * c.top_k * c.capacity_factor;  // token slots per sample in the experts' buffers
  out.push_back({p + ".ffn.router",
                 LayerKind::linear,
                 h * n,
                 2.0 * double(h * n) * s + 5.0 * double(n) * s,
                 s * double(n),
                 {{n, h}}});
  // One layer per matrix of every expert: weights in expert order, then biases. Each expert's
  // product takes its share of the routed tokens, E products side by side.
  const auto experts = [&](const std::string& name, std::int64_t in, std::int64_t width) {
    Layer l{name, LayerKind::linear, n * in * width, 2.0 * double(in) * double(width) * routed, double(width) * routed};
    for (std::int64_t j = 0; j < n; ++j)
      l.tensors.push_back({width, in});
    for (std::int64_t j = 0; j < n && c.bias; ++j)
      l.tensors.push_back({width, 1});
    if (c.bias)
      l.params += n * width;
    l.gemms = {{routed / double(n), double(width), double(in), double(n)}};
    l.experts = c.experts;
    return l;
  };
  const double tokens_out = routed * double(h);
  out.push_back(experts(p + ".ffn.experts.intermediate", h, up));
  out.back().dispatch_elements_per_sample = tokens_out;
  set_split(out.back(), TensorSplit::column, tokens_out);
  out.push_back(activation(p + ".ffn.experts." + (c.gated_ffn ? "swiglu" : "gelu"), c, double(f), routed));
  set_split(out.back(), TensorSplit::inner);
  out.push_back(experts(p + ".ffn.experts.output", f, h));
  out.back().combine_elements_per_sample = tokens_out;
  set_split(out.back(), TensorSplit::row, tokens_out);
  out.push_back({p + ".ffn.residual", LayerKind::add, 0, (1.0 + 2.0 * c.top_k) * s * double(h), s * double(h)});
}

void block(std::vector<Layer>& out, const std::string& p, const TransformerConfig& c, bool moe)
{
  const double s = c.sequence;
  const std::int64_t h = c.hidden, f = c.ffn;
  const std::int64_t kv = c.kv_heads > 0 ? c.kv_heads : c.heads, d_head = h / c.heads;
  if (c.pre_layernorm)
    out.push_back(layernorm(p + ".ln_1", h, s, c.rms_norm));
  // Megatron-LM's split: Q, K, V and the first FFN matrix by columns (each GPU its heads or its
  // features), the projections back by rows, whose partial outputs forward all-reduces; the
  // column layers' input gradients are all-reduced in backward. Norms and residuals are replicated.
  // Grouped-query attention projects to fewer key and value heads than query heads.
  const double stream = s * double(h);  // the residual stream's elements
  out.push_back(linear(p + ".attention.qkv", h, h + 2 * kv * d_head, s, c.bias));
  set_split(out.back(), TensorSplit::column, stream);
  // Q K^T and the weighted sum of V: 2 s^2 h flops each; softmax about 5 flops per score.
  // Per head: scores (s x d)(d x s), then (s x s)(s x d) with d = h / heads.
  const double d = double(h) / c.heads;
  out.push_back({p + ".attention.scores",
                 LayerKind::attention,
                 0,
                 4.0 * s * s * double(h) + 5.0 * s * s * c.heads,
                 s * double(h),
                 {},
                 {{s, s, d, double(c.heads)}, {s, d, s, double(c.heads)}}});
  set_split(out.back(), TensorSplit::inner);
  out.push_back(linear(p + ".attention.output", h, h, s, c.bias));
  set_split(out.back(), TensorSplit::row, stream);
  out.push_back({p + ".attention.residual", LayerKind::add, 0, s * double(h), s * double(h)});
  out.push_back(layernorm(p + (c.pre_layernorm ? ".ln_2" : ".attention.layernorm"), h, s, c.rms_norm));
  if (moe) {
    expert_ffn(out, p, c);
    if (!c.pre_layernorm)
      out.push_back(layernorm(p + ".ffn.layernorm", h, s, c.rms_norm));
    return;
  }
  out.push_back(linear(p + ".ffn.intermediate", h, c.gated_ffn ? 2 * f : f, s, c.bias));
  set_split(out.back(), TensorSplit::column, stream);
  out.push_back(activation(p + (c.gated_ffn ? ".ffn.swiglu" : ".ffn.gelu"), c, double(f), s));
  set_split(out.back(), TensorSplit::inner);
  out.push_back(linear(p + ".ffn.output", f, h, s, c.bias));
  set_split(out.back(), TensorSplit::row, stream);
  out.push_back({p + ".ffn.residual", LayerKind::add, 0, s * double(h), s * double(h)});
  if (!c.pre_layernorm)
    out.push_back(layernorm(p + ".ffn.layernorm", h, s, c.rms_norm));
}

}  // namespace

Model make_transformer(const TransformerConfig& c)
{
  if (c.layers < 1 || c.hidden < 1 || c.heads < 1 || c.ffn < 1 || c.vocabulary < 1 || c.max_positions < 1 ||
      c.token_types < 0 || c.sequence < 1)
    throw std::invalid_argument("transformer sizes must be positive (token types non-negative)");
  if (c.hidden % c.heads != 0)
    throw std::invalid_argument("hidden size " + std::to_string(c.hidden) + " is not a multiple of heads " +
                                std::to_string(c.heads));
  if (c.experts < 0 || (c.experts > 0 && (c.top_k < 1 || c.top_k > c.experts)) || c.moe_every < 1 ||
      !(c.capacity_factor >= 1))
    throw std::invalid_argument("experts " + std::to_string(c.experts) + ", top_k " + std::to_string(c.top_k) +
                                ", moe_every " + std::to_string(c.moe_every) + ", capacity factor " +
                                std::to_string(c.capacity_factor) +
                                ": expected experts >= 0, 1 <= top_k <= experts, moe_every >= 1 and a capacity "
                                "factor >= 1");
  if (c.kv_heads < 0 || c.kv_heads > c.heads || (c.kv_heads > 0 && c.heads % c.kv_heads != 0))
    throw std::invalid_argument("key and value heads " + std::to_string(c.kv_heads) + " do not divide the " +
                                std::to_string(c.heads) + " heads");
  if (c.sequence > c.max_positions)
    throw std::invalid_argument("sequence " + std::to_string(c.sequence) + " is longer than the " +
                                std::to_string(c.max_positions) + " positions");
  const double s = c.sequence;
  const std::int64_t h = c.hidden;
  std::vector<Layer> layers;
  // Embedding lookups cost no flops; the sum of token, position (and segment) rows about 2 per element.
  const auto embedding = [&](const std::string& name, std::int64_t rows, double flops) {
    layers.push_back({name, LayerKind::embedding, rows * h, flops, s * double(h), {{rows, h}}});
  };
  embedding("embeddings.token", c.vocabulary, 0);
  set_split(layers.back(), TensorSplit::vocabulary, s * double(h));  // each GPU looks up its rows
  if (c.learned_positions)  // rotary positions rotate Q and K instead: no parameters, a few flops not counted
    embedding("embeddings.position", c.max_positions, s * double(h));
  if (c.token_types > 0)
    embedding("embeddings.token_type", c.token_types, s * double(h));
  if (!c.pre_layernorm)
    layers.push_back(layernorm("embeddings.layernorm", h, s, c.rms_norm));
  for (int i = 0; i < c.layers; ++i) {
    const std::size_t first = layers.size();
    block(layers, "layer." + std::to_string(i), c, c.experts > 0 && (i + 1) % c.moe_every == 0);
    seal_block(layers, first, s * double(h));  // the residual stream is open inside a block
  }
  if (c.pre_layernorm)
    layers.push_back(layernorm("ln_f", h, s, c.rms_norm));
  if (c.pooler)
    layers.push_back(linear("pooler", h, h, 1, c.bias));
  if (c.lm_head) {
    // Tied to embeddings.token, its gradient lands there, so no parameters here; untied, a V x h weight.
    const std::int64_t own = c.tie_embeddings ? 0 : std::int64_t{c.vocabulary} * h;
    layers.push_back({"lm_head",
                      LayerKind::linear,
                      own,
                      2.0 * double(h) * c.vocabulary * s,
                      double(c.vocabulary) * s,
                      own > 0 ? std::vector<Tensor>{{c.vocabulary, h}} : std::vector<Tensor>{},
                      {{s, double(c.vocabulary), double(h)}}});
  }
  if (c.lm_head)  // its vocabulary split by columns (Megatron-LM's parallel cross-entropy reads the shards)
    set_split(layers.back(), TensorSplit::column, s * double(h));
  return Model{c.name, std::move(layers)};
}

Model make_bert_base(int sequence)
{
  TransformerConfig c;
  c.name = "bert-base";
  c.sequence = sequence;
  c.pooler = true;
  return make_transformer(c);
}

Model make_bert_large(int sequence)
{
  TransformerConfig c;
  c.name = "bert-large";
  c.layers = 24, c.hidden = 1024, c.heads = 16, c.ffn = 4096;
  c.sequence = sequence;
  c.pooler = true;
  return make_transformer(c);
}

namespace {
/// GPT-2's layout, which GPT-3 keeps: pre-LN blocks with a 4h FFN, its 50,257-token vocabulary,
/// learned positions and an LM head tied to the token embedding.
Model make_gpt(const std::string& name, int layers, int hidden, int heads, int positions, int sequence)
{
  TransformerConfig c;
  c.name = name;
  c.layers = layers, c.hidden = hidden, c.heads = heads;
  c.ffn = 4 * hidden;
  c.vocabulary = 50257;
  c.max_positions = positions;
  c.token_types = 0;
  c.sequence = sequence;
  c.pre_layernorm = true;
  c.lm_head = true;
  return make_transformer(c);
}
}  // namespace

Model make_gpt2(const std::string& size, int sequence)
{
  int layers = 0, hidden = 0;
  if (size == "124m")
    layers = 12, hidden = 768;
  else if (size == "355m")
    layers = 24, hidden = 1024;
  else if (size == "774m")
    layers = 36, hidden = 1280;
  else if (size == "1.5b")
    layers = 48, hidden = 1600;
  else
    throw std::invalid_argument("unknown GPT-2 size '" + size + "'; expected 124m, 355m, 774m or 1.5b");
  return make_gpt("gpt2-" + size, layers, hidden, hidden / 64, 1024, sequence);
}

Model make_gpt3(const std::string& size, int sequence)
{
  // Brown et al., "Language Models are Few-Shot Learners", 2020, Table 2.1 (n_layers, d_model, n_heads).
  // (XL's 2,048 d_model with 24 heads of 128 does not add up, so it is left out; 13B's d_model is
  // printed as 5,140 but is 40 heads of 128, 5,120.)
  int layers = 0, hidden = 0, heads = 0;
  if (size == "2.7b")
    layers = 32, hidden = 2560, heads = 32;
  else if (size == "6.7b")
    layers = 32, hidden = 4096, heads = 32;
  else if (size == "13b")
    layers = 40, hidden = 5120, heads = 40;
  else if (size == "175b")
    layers = 96, hidden = 12288, heads = 96;
  else
    throw std::invalid_argument("unknown GPT-3 size '" + size + "'; expected 2.7b, 6.7b, 13b or 175b");
  return make_gpt("gpt3-" + size, layers, hidden, heads, 2048, sequence);
}

namespace {
/// Llama's layout: pre-RMSNorm blocks of grouped-query attention and a SwiGLU feed-forward without
/// biases, rotary positions, and an untied output projection.
TransformerConfig llama(const std::string& name, int layers, int hidden, int heads, int kv_heads, int ffn,
                        int vocabulary, int positions, int sequence)
{
  TransformerConfig c;
  c.name = name;
  c.layers = layers, c.hidden = hidden, c.heads = heads, c.kv_heads = kv_heads, c.ffn = ffn;
  c.vocabulary = vocabulary;
  c.max_positions = positions;
  c.token_types = 0;
  c.sequence = sequence;
  c.pre_layernorm = true;
  c.lm_head = true;
  c.gated_ffn = true;
  c.bias = false;
  c.rms_norm = true;
  c.learned_positions = false;
  c.tie_embeddings = false;
  return c;
}
}  // namespace

Model make_llama2_7b(int sequence)
{
  return make_transformer(llama("llama2-7b", 32, 4096, 32, 32, 11008, 32000, 4096, sequence));
}

Model make_llama3(const std::string& size, int sequence)
{
  // The Llama 3 Herd of Models, Table 3; the released tokenizer has 128,256 tokens.
  if (size == "8b")
    return make_transformer(llama("llama3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, sequence));
  if (size == "70b")
    return make_transformer(llama("llama3-70b", 80, 8192, 64, 8, 28672, 128256, 8192, sequence));
  throw std::invalid_argument("unknown Llama 3 size '" + size + "'; expected 8b or 70b");
}

Model make_mixtral_8x7b(int sequence)
{
  TransformerConfig c = llama("mixtral-8x7b", 32, 4096, 32, 8, 14336, 32000, 32768, sequence);
  c.experts = 8, c.top_k = 2;
  return make_transformer(c);
}

Model make_gpt2_block(const std::string& size, int sequence)
{
  Model full = make_gpt2(size, sequence);
  Model block{full.name + "-block", {}};
  for (Layer& l : full.layers)
    if (l.name.starts_with("layer.0."))
      block.layers.push_back(std::move(l));
  return block;
}

}  // namespace ddlsim::model
