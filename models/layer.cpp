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

}  // namespace ddlsim::model
