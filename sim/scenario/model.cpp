// The model section (a zoo name, a transformer's shape, or custom layers) and the gpu section of
// a training (a profile, or a placeholder peak and efficiency); their resolved JSON.
#include "sim/scenario/sections.hpp"

#include "models/zoo.hpp"
#include "sim/scenario/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>

namespace ddlsim::scenario {

namespace {

/// A transformer's vocabulary at most 2^24 tokens: an embedding beyond that is no model anyone
/// trains, and its gradients would outgrow what a transfer can carry.
constexpr int MAX_VOCABULARY = 1 << 24;

/// model.transformer: a transformer described by its shape (GPT, BERT, Llama and MoE variants).
void parse_transformer(const JsonNode& model, Scenario& s)
{
  model.allow_keys({"name", "transformer"});
  const JsonNode t = model.child("transformer");
  t.allow_keys({"layers",        "hidden",        "heads",       "ffn",           "vocabulary",
                "sequence",      "max_positions", "token_types", "pre_layernorm", "pooler",
                "lm_head",       "experts",       "top_k",       "moe_every",     "capacity_factor",
                "kv_heads",      "gated_ffn",     "bias",        "rms_norm",      "learned_positions",
                "tie_embeddings"});
  model::TransformerConfig c;
  c.name = s.model = model.string("name");
  c.layers = t.int_value("layers", 1);
  c.hidden = t.int_value("hidden", 1);
  c.heads = t.int_value("heads", 1);
  if (!t.has("ffn") && 4LL * c.hidden > std::numeric_limits<int>::max())
    t.child("hidden").fail(fmt::format("found {}; expected at most {} without 'ffn' (whose default is 4 x hidden)",
                                       c.hidden, std::numeric_limits<int>::max() / 4));
  c.ffn = t.int_or("ffn", 4 * c.hidden, 1);
  c.vocabulary = t.int_value("vocabulary", 1);
  if (c.vocabulary > MAX_VOCABULARY)
    t.child("vocabulary").fail(fmt::format("found {}; expected at most {} tokens", c.vocabulary, MAX_VOCABULARY));
  c.sequence = t.int_value("sequence", 1);
  c.max_positions = t.int_or("max_positions", c.sequence, 1);
  c.token_types = t.int_or("token_types", 0, 0);
  c.pre_layernorm = t.boolean_or("pre_layernorm", true);
  c.pooler = t.boolean_or("pooler", false);
  c.lm_head = t.boolean_or("lm_head", true);
  c.kv_heads = t.int_or("kv_heads", c.heads, 1);
  if (c.kv_heads > c.heads || c.heads % c.kv_heads != 0)
    t.child("kv_heads")
        .fail(fmt::format("found {}; key and value heads are shared by groups of query heads; "
                          "expected a divisor of heads ({})",
                          c.kv_heads, c.heads));
  c.gated_ffn = t.boolean_or("gated_ffn", false);
  c.bias = t.boolean_or("bias", true);
  c.rms_norm = t.boolean_or("rms_norm", false);
  c.learned_positions = t.boolean_or("learned_positions", true);
  c.tie_embeddings = t.boolean_or("tie_embeddings", true);
  if (!c.lm_head && t.has("tie_embeddings"))
    t.child("tie_embeddings").fail("'tie_embeddings' applies to an LM head; expected 'lm_head' true");
  c.experts = t.int_or("experts", 0, 0);
  if (c.experts == 0) {
    for (const char* key : {"top_k", "moe_every", "capacity_factor"})
      if (t.has(key))
        t.child(key).fail(fmt::format("'{}' applies to a mixture of experts; expected 'experts' above 0", key));
  } else {
    c.top_k = t.int_or("top_k", 2, 1);
    if (c.top_k > c.experts)
      t.child("top_k").fail(fmt::format("found {}; a token goes to at most all {} experts; expected 1 to {}", c.top_k,
                                        c.experts, c.experts));
    c.moe_every = t.int_or("moe_every", 1, 1);
    if (c.moe_every > c.layers)
      t.child("moe_every")
          .fail(fmt::format("found {}; no block of the {} would have experts; expected 1 to {}", c.moe_every, c.layers,
                            c.layers));
    c.capacity_factor = t.number_or("capacity_factor", 1, Bound::positive);
    if (c.capacity_factor < 1)
      t.child("capacity_factor")
          .fail(fmt::format("found {}; expected at least 1 (below it tokens are dropped, which is not modelled)",
                            c.capacity_factor));
  }
  try {
    model::make_transformer(c);
  } catch (const std::invalid_argument& e) {
    t.fail(e.what());
  }
  s.sequence = c.sequence;
  s.transformer = c;
}

// What one layer of a custom model may hold: far beyond any trained model, and small enough that its
// times and bytes stay exact in a double and schedulable by the engine (a layer of 1e308 FLOPs
// would take 1e295 s, at which a timer can no longer advance the clock).
constexpr double MAX_LAYER_PARAMS = 1e13;
constexpr double MAX_LAYER_FLOPS = 1e21;
constexpr double MAX_LAYER_ACTIVATIONS = 1e15;

void check_layer_size(const JsonNode& l, const model::Layer& layer)
{
  const auto over = [&](const char* key, double value, double most, const char* what) {
    if (value > most)
      l.child(key).fail(fmt::format("found {:g}; expected at most {:g} {} per layer", value, most, what));
  };
  over("params", double(layer.params), MAX_LAYER_PARAMS, "parameters");
  over("forward_flops", layer.forward_flops_per_sample, MAX_LAYER_FLOPS, "FLOPs a sample");
  if (l.has("activations"))
    over("activations", layer.activation_elements_per_sample, MAX_LAYER_ACTIVATIONS, "elements a sample");
}

/// model.layers: a custom model, layer by layer.
void parse_custom_layers(const JsonNode& model, Scenario& s)
{
  model.allow_keys({"name", "layers"});
  s.model = model.string("name");
  s.sequence = 0;
  const JsonNode layers = model.child("layers");
  if (layers.array_size() == 0)
    layers.fail("expected at least one layer");
  std::set<std::string> names;
  for (std::size_t i = 0; i < layers.array_size(); ++i) {
    const JsonNode l = layers.element(i);
    l.allow_keys({"name", "kind", "params", "forward_flops", "activations", "tensors"});
    model::Layer layer;
    layer.name = l.string("name");
    if (!names.insert(layer.name).second)
      l.child("name").fail(fmt::format("layer name '{}' is used twice; expected unique names", layer.name));
    layer.kind = static_cast<model::LayerKind>(l.choice_or("kind", model::layer_kind_names(), 6));
    layer.params = l.integer("params", 0);
    layer.forward_flops_per_sample = l.child("forward_flops").as_number(Bound::non_negative);
    layer.activation_elements_per_sample = l.number_or("activations", 0, Bound::non_negative);
    check_layer_size(l, layer);
    if (auto tensors = l.optional_child("tensors")) {
      std::int64_t sum = 0;
      for (std::size_t k = 0; k < tensors->array_size(); ++k) {
        const JsonNode shape = tensors->element(k);
        if (shape.array_size() != 2)
          shape.fail("expected [rows, cols] (a vector is [elements, 1])");
        const model::Tensor t{shape.element(0).as_integer(1), shape.element(1).as_integer(1)};
        layer.tensors.push_back(t);
        sum += t.elements();
      }
      if (sum != layer.params)
        tensors->fail(fmt::format("the tensors hold {} elements; expected the layer's params, {}", sum, layer.params));
    }
    s.custom_layers.push_back(std::move(layer));
  }
  double flops = 0;
  for (const model::Layer& l : s.custom_layers)
    flops += l.forward_flops_per_sample;
  if (flops <= 0)
    layers.fail("every layer has forward_flops 0; expected some compute (FLOPs per sample, a multiply-add is 2)");
}

model::Model built_model(const Scenario& s)
{
  if (s.transformer)
    return model::make_transformer(*s.transformer);
  if (!s.custom_layers.empty())
    return model::Model{s.model, s.custom_layers};
  return *model::find_model(s.model, s.sequence);
}

}  // namespace

/// `model`: a zoo name, {"name", "sequence"}, or a custom model {"name", "layers": [...]}.
void parse_model(const JsonNode& model, Scenario& s)
{
  if (model.is_object() && model.has("transformer"))
    return parse_transformer(model, s);
  if (model.is_object() && model.has("layers"))
    return parse_custom_layers(model, s);
  const JsonNode name = model.is_object() ? model.child("name") : model;
  if (model.is_object())
    model.allow_keys({"name", "sequence", "layers", "transformer"});  // the last two: the custom forms above
  s.model = name.as_string();
  const std::vector<std::string> models = model::model_names();
  if (std::find(models.begin(), models.end(), s.model) == models.end())
    name.fail(fmt::format("unknown model '{}'; expected one of: {} (or a custom model with 'layers')", s.model,
                          join_names(models)));
  s.sequence = model::default_sequence(s.model);
  if (model.is_object() && model.has("sequence")) {
    if (s.sequence == 0)
      model.child("sequence").fail(fmt::format("model '{}' has no sequence length; remove 'sequence'", s.model));
    s.sequence = model.int_value("sequence", 1);
    try {
      model::find_model(s.model, s.sequence);
    } catch (const std::invalid_argument& e) {
      model.child("sequence").fail(e.what());
    }
  }
}

/// `gpu` of a training scenario: a profile name or file, or an object of a placeholder peak and
/// efficiency, optionally with a profile that supplies what is not given.
void parse_training_gpu(const JsonNode& gpu, bool measured, Scenario& s)
{
  std::optional<JsonNode> reference;
  if (gpu.is_string()) {
    reference = gpu;
  } else if (gpu.is_object()) {
    gpu.allow_keys({"peak", "efficiency", "memory_bandwidth", "profile", "fusion", "attention"});
    reference = gpu.optional_child("profile");
  } else {
    gpu.fail(fmt::format("found {}; expected a GPU profile name, or an object such as {{\"profile\": \"v100-sxm2\"}} "
                         "or {{\"peak\": \"15.7TFLOPS\", \"efficiency\": 0.5}}",
                         describe_json(gpu.raw())));
  }
  if (reference) {
    const std::string ref = reference->as_string();
    const std::string path = resolve_profile(ref, s.file);
    if (path.empty())
      reference->fail(
          fmt::format("found '{}'; expected a shipped GPU profile ({}) or a path to a profile ending in .json", ref,
                      join_names(shipped_profiles())));
    if (!std::filesystem::exists(path))
      reference->fail(fmt::format("profile file {} does not exist", path));
    s.profile = std::make_shared<const GpuProfile>(load_profile(path));
  }
  const GpuProfile* p = s.profile.get();
  const auto has = [&](std::string_view key) {
    return gpu.is_object() && gpu.has(key);
  };
  const char* dtype = to_string(s.training.precision);
  s.gpu.roofline = p && !has("peak") && !has("efficiency");
  if (has("fusion")) {
    const JsonNode node = gpu.child("fusion");
    s.gpu.fusion = static_cast<calib::Fusion>(node.as_choice(calib::fusion_names()));
    if (!s.gpu.roofline)
      node.fail("fusion shapes the roofline of a GPU profile; expected 'profile' without 'peak' or 'efficiency'");
  }
  // Flash attention keeps less for backward under any compute model; the roofline also costs its
  // kernels (calib::layer_roofline).
  if (has("attention"))
    s.gpu.flash_attention = gpu.child("attention").as_choice(calib::attention_names()) == 1;
  if (p && !measured)
    if (const MeasuredIteration* it = p->iteration(s.model, s.training.batch_per_gpu, dtype)) {
      s.training.compute.iteration_seconds = it->seconds;
      s.training.compute.iteration_source = fmt::format("profile {}: {}", p->name, it->source);
    }
  if (has("peak")) {
    s.gpu.peak_flops_per_s = gpu.quantity("peak", Dimension::flops_per_s, Bound::positive);
  } else if (p && p->peak(dtype) > 0) {
    s.gpu.peak_flops_per_s = p->peak(dtype);
  } else if (p) {
    gpu.fail(fmt::format("profile {} has no {} peak; expected 'peak' here", p->file, dtype));
  } else {
    gpu.child("peak");  // throws: required
  }
  if (has("efficiency")) {
    s.gpu.efficiency = gpu.child("efficiency").as_number(Bound::positive);
    if (s.gpu.efficiency > 1)
      gpu.child("efficiency").fail(fmt::format("found {}; expected a fraction in (0, 1]", s.gpu.efficiency));
  } else if (p) {
    s.gpu.efficiency = p->gemm_efficiency;
  } else if (measured) {
    s.gpu.efficiency = 1;
  } else {
    gpu.child("efficiency");  // throws: required
  }
  s.gpu.memory_bandwidth_bytes_per_s = has("memory_bandwidth")
                                           ? gpu.quantity("memory_bandwidth", Dimension::bytes_per_s, Bound::positive)
                                       : p ? p->reduction_bandwidth()
                                           : 0;
}

nlohmann::json model_json(const Scenario& s)
{
  using nlohmann::json;
  json model;
  if (s.transformer) {
    const model::TransformerConfig& c = *s.transformer;
    model = {{"name", s.model},
             {"transformer",
              {{"layers", c.layers},
               {"hidden", c.hidden},
               {"heads", c.heads},
               {"ffn", c.ffn},
               {"vocabulary", c.vocabulary},
               {"sequence", c.sequence},
               {"max_positions", c.max_positions},
               {"token_types", c.token_types},
               {"pre_layernorm", c.pre_layernorm},
               {"pooler", c.pooler},
               {"lm_head", c.lm_head},
               {"kv_heads", c.kv_heads > 0 ? c.kv_heads : c.heads},
               {"gated_ffn", c.gated_ffn},
               {"bias", c.bias},
               {"rms_norm", c.rms_norm},
               {"learned_positions", c.learned_positions}}}};
    if (c.lm_head)
      model["transformer"]["tie_embeddings"] = c.tie_embeddings;
    if (c.experts > 0)
      model["transformer"].update({{"experts", c.experts},
                                   {"top_k", c.top_k},
                                   {"moe_every", c.moe_every},
                                   {"capacity_factor", c.capacity_factor}});
  } else if (!s.custom_layers.empty()) {
    json layers = json::array();
    for (const model::Layer& l : s.custom_layers) {
      layers.push_back({{"name", l.name},
                        {"kind", model::to_string(l.kind)},
                        {"params", l.params},
                        {"forward_flops", l.forward_flops_per_sample},
                        {"activations", l.activation_elements_per_sample}});
      if (!l.tensors.empty()) {
        json tensors = json::array();
        for (const model::Tensor& t : l.tensors)
          tensors.push_back({t.rows, t.cols});
        layers.back()["tensors"] = tensors;
      }
    }
    model = {{"name", s.model}, {"layers", layers}};
  } else if (s.sequence > 0) {
    model = {{"name", s.model}, {"sequence", s.sequence}};
  } else {
    model = s.model;
  }
  return model;
}

nlohmann::json gpu_json(const Scenario& s)
{
  using nlohmann::json;
  json gpu = json::object();
  if (!s.gpu.roofline) {
    gpu["peak"] = format_quantity(s.gpu.peak_flops_per_s, Dimension::flops_per_s);
    gpu["efficiency"] = s.gpu.efficiency;
  }
  if (s.profile)
    gpu["profile"] = std::filesystem::absolute(s.profile->file).lexically_normal().string();
  if (s.gpu.roofline)
    gpu["fusion"] = calib::to_string(s.gpu.fusion);
  gpu["attention"] = calib::attention_names()[s.gpu.flash_attention ? 1 : 0];
  if (s.gpu.memory_bandwidth_bytes_per_s > 0)
    gpu["memory_bandwidth"] = format_quantity(s.gpu.memory_bandwidth_bytes_per_s, Dimension::bytes_per_s);
  return gpu;
}

model::Model scenario_model(const Scenario& s)
{
  model::Model m = built_model(s);
  return s.gpu.flash_attention ? model::flash_attention(m) : m;
}

}  // namespace ddlsim::scenario
