#include "models/zoo.hpp"

#include "models/cnn.hpp"
#include "models/resnet.hpp"
#include "models/transformer.hpp"

#include <functional>
#include <map>
#include <stdexcept>

namespace ddlsim::model {

namespace {

struct Entry {
  std::function<Model(int sequence)> build;
  int default_sequence;  ///< 0: the model has no sequence
};

const std::map<std::string, Entry, std::less<>>& registry()
{
  static const std::map<std::string, Entry, std::less<>> entries{
      {"resnet50", {[](int) { return make_resnet(50); }, 0}},
      {"resnet101", {[](int) { return make_resnet(101); }, 0}},
      {"vgg16", {[](int) { return make_vgg16(); }, 0}},
      {"inception-v3", {[](int) { return make_inception_v3(); }, 0}},
      {"bert-base", {make_bert_base, 128}},
      {"bert-large", {make_bert_large, 128}},
      {"gpt2-124m", {[](int s) { return make_gpt2("124m", s); }, 1024}},
      {"gpt2-355m", {[](int s) { return make_gpt2("355m", s); }, 1024}},
      {"gpt2-774m", {[](int s) { return make_gpt2("774m", s); }, 1024}},
      {"gpt2-1.5b", {[](int s) { return make_gpt2("1.5b", s); }, 1024}},
      {"gpt3-2.7b", {[](int s) { return make_gpt3("2.7b", s); }, 2048}},
      {"gpt3-6.7b", {[](int s) { return make_gpt3("6.7b", s); }, 2048}},
      {"gpt3-13b", {[](int s) { return make_gpt3("13b", s); }, 2048}},
      {"gpt3-175b", {[](int s) { return make_gpt3("175b", s); }, 2048}},
      {"gpt2-124m-block", {[](int s) { return make_gpt2_block("124m", s); }, 1024}},
      // Llama 2 and Llama 3 at their pre-training contexts; Mixtral's paper gives no training
      // sequence, so it takes Llama 2's 4,096 (its positions allow 32,768).
      {"llama2-7b", {make_llama2_7b, 4096}},
      {"llama3-8b", {[](int s) { return make_llama3("8b", s); }, 8192}},
      {"llama3-70b", {[](int s) { return make_llama3("70b", s); }, 8192}},
      {"mixtral-8x7b", {make_mixtral_8x7b, 4096}},
  };
  return entries;
}

}  // namespace

std::vector<std::string> model_names()
{
  std::vector<std::string> names;
  for (const auto& [name, entry] : registry())
    names.push_back(name);
  return names;
}

int default_sequence(std::string_view name)
{
  const auto it = registry().find(name);
  return it == registry().end() ? 0 : it->second.default_sequence;
}

std::optional<Model> find_model(std::string_view name, int sequence)
{
  const auto it = registry().find(name);
  if (it == registry().end())
    return std::nullopt;
  if (it->second.default_sequence == 0 && sequence != 0)
    throw std::invalid_argument("model '" + std::string(name) + "' has no sequence length");
  return it->second.build(sequence == 0 ? it->second.default_sequence : sequence);
}

}  // namespace ddlsim::model
