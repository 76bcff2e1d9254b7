#pragma once
// Named link technologies: a scenario says "ib-hdr-200" instead of a bandwidth and a latency.
#include "topologies/network.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ddlsim::topo {

struct LinkPreset {
  std::string name;
  LinkSpec spec;
  std::string source;  ///< where the bandwidth comes from; latencies are stated assumptions
};

/// All presets, sorted by name.
const std::vector<LinkPreset>& link_presets();
std::optional<LinkPreset> find_link_preset(std::string_view name);
std::vector<std::string> link_preset_names();

}  // namespace ddlsim::topo
