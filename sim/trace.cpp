#include "sim/trace.hpp"

#include <string>

namespace ddlsim {

nlohmann::json chrome_trace(const TaskGraph& graph, const Timeline& timeline, int gpus_per_node)
{
  using nlohmann::json;
  json events = json::array();
  std::vector<std::uint32_t> ranks_seen;
  for (std::uint32_t id = 0; id < graph.tasks().size(); ++id) {
    const Task& t = graph.tasks()[id];
    if (t.kind == TaskKind::join || (t.kind == TaskKind::delay && t.seconds <= 0))
      continue;
    const int node = static_cast<int>(t.rank) / gpus_per_node;
    const int tid = static_cast<int>(t.rank % gpus_per_node) * 2 + (t.stream == Stream::compute ? 0 : 1);
    events.push_back({{"name", graph.label(t.label)},
                      {"cat", t.stream == Stream::compute ? "compute" : "communication"},
                      {"ph", "X"},
                      {"pid", node},
                      {"tid", tid},
                      {"ts", timeline.start_seconds[id] * 1e6},
                      {"dur", (timeline.end_seconds[id] - timeline.start_seconds[id]) * 1e6}});
    if (t.rank >= ranks_seen.size())
      ranks_seen.resize(t.rank + 1, 0);
    ranks_seen[t.rank] = 1;
  }
  for (std::uint32_t r = 0; r < ranks_seen.size(); ++r) {
    if (!ranks_seen[r])
      continue;
    const int node = static_cast<int>(r) / gpus_per_node;
    const int local = static_cast<int>(r) % gpus_per_node;
    if (local == 0)
      events.push_back(
          {{"name", "process_name"}, {"ph", "M"}, {"pid", node}, {"args", {{"name", "node " + std::to_string(node)}}}});
    for (int stream = 0; stream < 2; ++stream)
      events.push_back({{"name", "thread_name"},
                        {"ph", "M"},
                        {"pid", node},
                        {"tid", local * 2 + stream},
                        {"args", {{"name", "GPU " + std::to_string(r) + (stream == 0 ? " compute" : " comm")}}}});
  }
  return {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

}  // namespace ddlsim
