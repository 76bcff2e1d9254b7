#include "models/layer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace ddlsim::model {

const std::vector<std::string_view>& layer_kind_names()
{
  static const std::vector<std::string_view> names{"conv",   "batchnorm", "relu",      "maxpool",   "avgpool", "add",
                                                   "linear", "embedding", "layernorm", "attention", "gelu",    "silu"};
  return names;
}

const char* to_string(LayerKind kind)
{
  return layer_kind_names().at(static_cast<std::size_t>(kind)).data();
}

std::vector<Tensor> Layer::parameter_tensors() const
{
  if (!tensors.empty() || params == 0)
    return tensors;
  return {{params, 1}};
}

void seal_block(std::vector<Layer>& layers, std::size_t first, double out_elements_per_sample)
{
  if (first >= layers.size())
    return;
  for (std::size_t i = first; i + 1 < layers.size(); ++i)
    layers[i].cut_elements_per_sample = 0;
  layers.back().cut_elements_per_sample = out_elements_per_sample;
}

void set_split(Layer& layer, TensorSplit split, double allreduce_elements_per_sample)
{
  layer.split = split;
  layer.split_allreduce_elements_per_sample = allreduce_elements_per_sample;
}

bool Model::tensor_parallel() const
{
  return std::any_of(layers.begin(), layers.end(), [](const Layer& l) { return l.split != TensorSplit::none; });
}

Model tensor_shard(const Model& model, int t, bool sequence)
{
  if (t < 1)
    throw std::invalid_argument("tensor parallelism needs at least 1 GPU per group, found " + std::to_string(t));
  if (t == 1)
    return model;
  if (!model.tensor_parallel())
    throw std::invalid_argument("model '" + model.name +
                                "' has no tensor-parallel layout (Megatron-LM splits transformer layers)");
  const auto part = [t](std::int64_t n) {
    return (n + t - 1) / t;
  };
  Model out{model.name, model.layers};
  for (Layer& l : out.layers) {
    if (sequence && l.cut_elements_per_sample > 0)
      l.cut_elements_per_sample /= t;
    if (l.split == TensorSplit::none) {
      if (sequence) {
        l.forward_flops_per_sample /= t;
        l.activation_elements_per_sample /= t;
      }
      continue;
    }
    l.forward_flops_per_sample /= t;
    if (l.split == TensorSplit::column || l.split == TensorSplit::inner || sequence)
      l.activation_elements_per_sample /= t;
    for (Gemm& g : l.gemms) {
      if (l.split == TensorSplit::column)
        g.n /= t;
      else if (l.split == TensorSplit::row)
        g.k /= t;
      else if (std::fmod(g.count, t) != 0)
        throw std::invalid_argument("layer '" + l.name + "': its " + std::to_string(std::lround(g.count)) +
                                    " attention heads do not split over " + std::to_string(t) + " GPUs");
      else
        g.count /= t;
    }
    std::vector<Tensor> tensors = l.parameter_tensors();
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      Tensor& x = tensors[k];
      if (l.split == TensorSplit::column || l.split == TensorSplit::vocabulary)
        x.rows = part(x.rows);
      else if (l.split == TensorSplit::row && k < std::size_t(std::max(l.experts, 1)))  // weights; biases stay whole
        x.cols = part(x.cols);
    }
    l.params = 0;
    for (const Tensor& x : tensors)
      l.params += x.elements();
    if (!l.tensors.empty())
      l.tensors = std::move(tensors);
  }
  return out;
}

int max_experts(const Model& model)
{
  int most = 0;
  for (const Layer& l : model.layers)
    most = std::max(most, l.experts);
  return most;
}

Model expert_shard(const Model& model, int e)
{
  if (e < 1)
    throw std::invalid_argument("expert parallelism needs at least 1 GPU per group, found " + std::to_string(e));
  if (e == 1)
    return model;
  if (max_experts(model) == 0)
    throw std::invalid_argument("model '" + model.name + "' has no experts (a mixture-of-experts layer) to spread");
  Model out{model.name, model.layers};
  for (Layer& l : out.layers) {
    if (l.experts == 0)
      continue;
    if (l.experts % e != 0)
      throw std::invalid_argument("layer '" + l.name + "': its " + std::to_string(l.experts) +
                                  " experts do not split over " + std::to_string(e) + " GPUs");
    const std::vector<Tensor> all = l.parameter_tensors();
    const auto per_expert = all.size() / std::size_t(l.experts);  // a weight, and a bias if it has one
    if (per_expert == 0 || all.size() % std::size_t(l.experts) != 0)
      throw std::invalid_argument("layer '" + l.name + "': its tensors are not one set per expert");
    const auto keep = std::size_t(l.experts / e);
    std::vector<Tensor> kept;
    for (std::size_t set = 0; set < per_expert; ++set)  // weights first, then biases
      for (std::size_t j = 0; j < keep; ++j)
        kept.push_back(all[set * std::size_t(l.experts) + j]);
    l.params = 0;
    for (const Tensor& x : kept)
      l.params += x.elements();
    l.tensors = std::move(kept);
    l.experts /= e;
  }
  return out;
}

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

std::vector<std::size_t> Model::block_starts() const
{
  std::vector<std::size_t> starts;
  bool open = true;  // the next layer starts a run
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (open)
      starts.push_back(i);
    open = layers[i].cut_elements_per_sample != 0;
  }
  return starts;
}

double Layer::kept_elements_per_sample() const
{
  if (kind != LayerKind::attention || gemms.empty())
    return activation_elements_per_sample;
  const Gemm& scores = gemms.front();
  return activation_elements_per_sample + scores.m * scores.count * (flash ? 1 : scores.n);
}

Model flash_attention(const Model& model)
{
  Model out{model.name, model.layers};
  for (Layer& l : out.layers)
    l.flash = l.kind == LayerKind::attention && !l.gemms.empty();
  return out;
}

}  // namespace ddlsim::model
