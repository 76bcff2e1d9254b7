#include "models/zoo.hpp"

#include "models/resnet.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace ddlsim::model {

namespace {
const std::map<std::string, std::function<Model()>, std::less<>>& registry()
{
  static const std::map<std::string, std::function<Model()>, std::less<>> builders{
      {"resnet50", make_resnet50},
  };
  return builders;
}
}  // namespace

std::vector<std::string> model_names()
{
  std::vector<std::string> names;
  for (const auto& [name, builder] : registry())
    names.push_back(name);
  return names;
}

std::optional<Model> find_model(std::string_view name)
{
  const auto it = registry().find(name);
  if (it == registry().end())
    return std::nullopt;
  return it->second();
}

}  // namespace ddlsim::model
