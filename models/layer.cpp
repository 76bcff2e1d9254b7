#include "models/layer.hpp"

#include <numeric>

namespace ddlsim::model {

const std::vector<std::string_view>& layer_kind_names()
{
  static const std::vector<std::string_view> names{"conv",   "batchnorm", "relu",      "maxpool",   "avgpool", "add",
                                                   "linear", "embedding", "layernorm", "attention", "gelu"};
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

}  // namespace ddlsim::model
