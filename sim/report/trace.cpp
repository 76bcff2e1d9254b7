#include "sim/report/trace.hpp"

#include <algorithm>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

namespace ddlsim::report {

namespace {

const char* stream_name(Stream stream)
{
  switch (stream) {
  case Stream::compute: return "compute";
  case Stream::communication: return "communication";
  case Stream::codec: return "codec";
  case Stream::none: break;
  }
  return "none";
}

}  // namespace

namespace {

/// Which ranks a trace shows, and where: a process per node, per GPU a track per stream
/// (compute, communication, and codec when codec kernels ran).
struct TraceLayout {
  std::vector<char> traced;  ///< per rank
  std::uint32_t gpn;
  bool codec;
  std::uint32_t tracks;

  bool is_traced(std::uint32_t r) const { return r < traced.size() && traced[r]; }
  std::uint32_t pid(std::uint32_t rank) const { return rank / gpn; }
  std::uint32_t tid(std::uint32_t rank, Stream stream) const
  {
    return (rank % gpn) * tracks + (stream == Stream::compute ? 0 : stream == Stream::communication ? 1 : 2);
  }
};

TraceLayout trace_layout(const TaskGraph& graph, int gpus_per_node, const std::vector<std::uint32_t>& ranks)
{
  TraceLayout layout{{}, static_cast<std::uint32_t>(gpus_per_node), false, 2};
  for (std::uint32_t r : ranks) {
    if (r >= layout.traced.size())
      layout.traced.resize(r + 1, 0);
    layout.traced[r] = 1;
  }
  layout.codec =
      std::any_of(graph.tasks().begin(), graph.tasks().end(), [](const Task& t) { return t.stream == Stream::codec; });
  layout.tracks = layout.codec ? 3 : 2;
  return layout;
}

/// An "X" slice per compute task and per rank's part of each collective; returns how many.
std::size_t add_slices(const TaskGraph& graph, const Timeline& timeline, const TraceLayout& layout,
                       nlohmann::json& events)
{
  using nlohmann::json;
  std::size_t slices = 0;
  for (std::uint32_t id = 0; id < graph.tasks().size(); ++id) {
    const Task& t = graph.tasks()[id];
    if (t.kind == TaskKind::join || t.stream == Stream::none || (t.kind == TaskKind::delay && t.seconds <= 0) ||
        !layout.is_traced(t.rank))
      continue;
    json e = {{"name", graph.label(t.label)},
              {"cat", stream_name(t.stream)},
              {"ph", "X"},
              {"pid", layout.pid(t.rank)},
              {"tid", layout.tid(t.rank, t.stream)},
              {"ts", timeline.start_seconds[id] * 1e6},
              {"dur", (timeline.end_seconds[id] - timeline.start_seconds[id]) * 1e6}};
    if (t.kind == TaskKind::collective) {
      const CollectiveInstance& c = graph.collective(t.collective);
      e["args"] = {{"bytes_sent", c.schedule->bytes_sent_by(t.group_rank)},
                   {"group_size", c.ranks.size()},
                   {"steps", c.schedule->steps()}};
    }
    events.push_back(std::move(e));
    ++slices;
  }
  return slices;
}

/// A flow arrow per point-to-point transfer between traced ranks; returns how many.
std::size_t add_flows(const Timeline& timeline, const TraceLayout& layout, nlohmann::json& events)
{
  using nlohmann::json;
  std::size_t flows = 0;
  for (const TransferRecord& r : timeline.transfer_records) {
    if (!layout.is_traced(r.src) || !layout.is_traced(r.dst))
      continue;  // aggregating switches and ranks left out have no track
    const json args = {{"bytes", r.bytes}, {"step", r.step}};
    const std::string name = "transfer";
    events.push_back({{"name", name},
                      {"cat", "transfer"},
                      {"ph", "s"},
                      {"id", flows},
                      {"pid", layout.pid(r.src)},
                      {"tid", layout.tid(r.src, Stream::communication)},
                      {"ts", r.start_seconds * 1e6},
                      {"args", args}});
    events.push_back({{"name", name},
                      {"cat", "transfer"},
                      {"ph", "f"},
                      {"bp", "e"},
                      {"id", flows},
                      {"pid", layout.pid(r.dst)},
                      {"tid", layout.tid(r.dst, Stream::communication)},
                      {"ts", r.end_seconds * 1e6}});
    ++flows;
  }
  return flows;
}

/// The "M" events that name each node's process and each GPU's tracks.
void add_names(const std::vector<std::uint32_t>& ranks, const TraceLayout& layout, nlohmann::json& events)
{
  std::vector<char> named_node;
  for (std::uint32_t r : ranks) {
    const std::uint32_t node = layout.pid(r);
    if (node >= named_node.size())
      named_node.resize(node + 1, 0);
    if (!named_node[node]) {
      named_node[node] = 1;
      events.push_back(
          {{"name", "process_name"}, {"ph", "M"}, {"pid", node}, {"args", {{"name", "node " + std::to_string(node)}}}});
    }
    for (Stream stream : {Stream::compute, Stream::communication, Stream::codec}) {
      if (stream == Stream::codec && !layout.codec)
        continue;
      std::string name = "GPU " + std::to_string(r);
      name += stream == Stream::compute ? " compute" : stream == Stream::communication ? " comm" : " codec";
      events.push_back({{"name", "thread_name"},
                        {"ph", "M"},
                        {"pid", node},
                        {"tid", layout.tid(r, stream)},
                        {"args", {{"name", name}}}});
    }
  }
}

}  // namespace

nlohmann::json chrome_trace(const TaskGraph& graph, const Timeline& timeline, int gpus_per_node,
                            const std::vector<std::uint32_t>& ranks)
{
  const TraceLayout layout = trace_layout(graph, gpus_per_node, ranks);
  nlohmann::json events = nlohmann::json::array();
  const std::size_t slices = add_slices(graph, timeline, layout, events);
  const std::size_t flows = add_flows(timeline, layout, events);
  add_names(ranks, layout, events);
  return {{"traceEvents", std::move(events)},
          {"displayTimeUnit", "ms"},
          {"otherData", {{"ranks_traced", ranks.size()}, {"slices", slices}, {"flows", flows}}}};
}

}  // namespace ddlsim::report
