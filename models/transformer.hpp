#pragma once
// Transformer models (BERT, GPT-2 and any stack of the same blocks) as layer lists whose
// parameter totals match the reference implementations (Hugging Face transformers' BertModel
// and GPT2LMHeadModel) exactly.
#include "models/layer.hpp"

#include <cstdint>
#include <string>

namespace ddlsim::model {

struct TransformerConfig {
  std::string name;
  int layers = 12;
  int hidden = 768;
  int heads = 12;
  int ffn = 3072;              ///< width of the feed-forward layer
  int vocabulary = 30522;      ///< rows of the token embedding
  int max_positions = 512;     ///< rows of the learned position embedding
  int token_types = 2;         ///< rows of the segment embedding (BERT: 2; GPT-2: 0, none)
  int sequence = 128;          ///< tokens per sample; FLOPs and activations scale with it
  bool pre_layernorm = false;  ///< GPT-2: layer norm before each sub-block, plus a final one
  bool pooler = false;         ///< BERT: dense layer on the first token
  bool lm_head =
      false;  ///< output projection to the vocabulary, tied to the token embedding (no parameters of its own)
  /// Mixture of experts (GShard, Lepikhin et al., 2021; Switch Transformer, Fedus et al., 2022):
  /// experts per MoE block, whose FFN becomes `experts` FFNs of the same shape behind a router
  /// (0: every FFN dense).
  int experts = 0;
  int top_k = 2;               ///< experts each token is routed to (GShard 2, Switch 1)
  int moe_every = 1;           ///< blocks moe_every - 1, 2 moe_every - 1, ... have experts (GShard: 2)
  double capacity_factor = 1;  ///< expert buffers hold capacity_factor x tokens x top_k / experts tokens
  /// Llama's block (Touvron et al., 2023): grouped-query attention, a SwiGLU feed-forward, RMS
  /// norms, no biases, rotary positions and an output projection of its own.
  int kv_heads = 0;               ///< key and value heads (grouped-query attention); 0: as many as heads
  bool gated_ffn = false;         ///< SwiGLU: h -> 2f (gate and up), SiLU(gate) x up, f -> h
  bool bias = true;               ///< linear layers have biases
  bool rms_norm = false;          ///< norms scale only (RMSNorm: h parameters, not 2h)
  bool learned_positions = true;  ///< a position embedding of max_positions rows; false: rotary (no parameters)
  bool tie_embeddings = true;     ///< the LM head reuses the token embedding; false: its own V x h weight
};

/// The layer list of `config`. Per block: fused QKV projection (3 h^2 + 3 h), attention scores and
/// weighted sum (4 s^2 h flops, no parameters), output projection (h^2 + h), two layer norms
/// (2 h each), feed-forward h -> f -> h (2 h f + f + h) with GELU. A multiply-add counts 2 flops.
/// A block with experts replaces the feed-forward by a router (h -> E, no bias; softmax and top-k
/// about 5 flops per score), E feed-forwards as two expert layers (E (h f + f) and E (f h + h)
/// parameters) that run every token through top_k of them, padded to the capacity factor C (flops
/// and outputs C k times the dense FFN's), and the weighted sum of the k outputs in the residual
/// add (2 k h flops a token more). The first expert layer dispatches C k s h elements per sample,
/// the second combines as many (Layer::dispatch_elements_per_sample). Throws
/// std::invalid_argument for non-positive sizes, heads not dividing hidden, a sequence longer than
/// max_positions, experts below 0, top_k outside [1, experts], moe_every below 1 or a capacity
/// factor below 1.
Model make_transformer(const TransformerConfig& config);

/// BERT-Base (Devlin et al. 2019): 12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 30522,
/// with pooler: 109,482,240 parameters.
Model make_bert_base(int sequence);
/// BERT-Large: 24 layers, hidden 1024, 16 heads, FFN 4096, with pooler: 335,141,888 parameters.
Model make_bert_large(int sequence);
/// GPT-2 (Radford et al. 2019) by its released sizes: "124m" (12 layers, hidden 768), "355m"
/// (24, 1024), "774m" (36, 1280), "1.5b" (48, 1600); vocabulary 50257, 1024 positions, heads =
/// hidden / 64, tied LM head. Totals 124,439,808 / 354,823,168 / 774,030,080 / 1,557,611,200.
Model make_gpt2(const std::string& size, int sequence);

/// GPT-3 `size` ("2.7b", "6.7b", "13b" or "175b"; Brown et al., 2020, Table 2.1: layers,
/// d_model, heads): GPT-2's pre-LN block with a 4 d_model FFN, its 50,257-token vocabulary, 2,048
/// learned positions and a tied LM head. Dense attention throughout (GPT-3 alternates dense and
/// locally banded sparse layers, which the flop count here does not model). Throws
/// std::invalid_argument for another size.
Model make_gpt3(const std::string& size, int sequence);

/// Llama 2 7B (Touvron et al., 2023: 32 layers, hidden 4,096, 32 heads, SwiGLU FFN 11,008,
/// vocabulary 32,000, 4,096 positions): 6,738,415,616 parameters.
Model make_llama2_7b(int sequence);
/// Llama 3 (Dubey et al., 2024, Table 3) `size` "8b" (32 layers, hidden 4,096, FFN 14,336, 32
/// heads) or "70b" (80, 8,192, 28,672, 64 heads), both with 8 key-value heads, a 128,256-token
/// vocabulary and 8,192 positions: 8,030,261,248 and 70,553,706,496 parameters.
Model make_llama3(const std::string& size, int sequence);
/// Mixtral 8x7B (Jiang et al., 2024, Table 1): Mistral 7B's blocks (32 layers, hidden 4,096, 32
/// heads, 8 key-value heads, SwiGLU FFN 14,336, vocabulary 32,000, 32,768 positions) with 8
/// experts in every feed-forward, top 2: 46,702,792,704 parameters.
Model make_mixtral_8x7b(int sequence);

/// One transformer block of GPT-2 `size` (its layers "layer.0.*"), as "gpt2-SIZE-block": the
/// unit of a compute prediction without embeddings and output projection.
Model make_gpt2_block(const std::string& size, int sequence);

}  // namespace ddlsim::model
