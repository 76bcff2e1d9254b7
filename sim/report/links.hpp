#pragma once
// Per-link traffic of a run: links.csv (every link direction) and the per-tier summary and busiest
// links of report.json.
#include "sim/engine/executor.hpp"
#include "topologies/topology.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace ddlsim::report {

struct LinkReport {
  nlohmann::json summary;  ///< {"per_tier": [...], "busiest": [...]}
  std::string csv;         ///< link,from,to,tier,bandwidth_Bps,bytes,busy_s,busy_fraction,utilization
};

/// Utilization is bytes / (bandwidth x simulated time): the fraction of the link's capacity used
/// over the whole run; busy_fraction the fraction of that time some transfer was crossing it.
LinkReport link_report(const topo::Topology& topology, const engine::Timeline& timeline);

}  // namespace ddlsim::report
