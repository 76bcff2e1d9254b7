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

nlohmann::json chrome_trace(const TaskGraph& graph, const Timeline& timeline, int gpus_per_node,
                            const std::vector<std::uint32_t>& ranks)
{
  using nlohmann::json;
  std::vector<char> traced;
  for (std::uint32_t r : ranks) {
    if (r >= traced.size())
      traced.resize(r + 1, 0);
    traced[r] = 1;
  }
  auto is_traced = [&](std::uint32_t r) {
    return r < traced.size() && traced[r];
  };
  const auto gpn = static_cast<std::uint32_t>(gpus_per_node);
  auto pid = [&](std::uint32_t rank) {
    return rank / gpn;
  };
  // A codec track per GPU only when codec kernels ran.
  const bool codec =
      std::any_of(graph.tasks().begin(), graph.tasks().end(), [](const Task& t) { return t.stream == Stream::codec; });
  const std::uint32_t tracks = codec ? 3 : 2;
  auto tid = [&](std::uint32_t rank, Stream stream) {
    return (rank % gpn) * tracks + (stream == Stream::compute ? 0 : stream == Stream::communication ? 1 : 2);
  };

  json events = json::array();
  std::size_t slices = 0, flows = 0;
  for (std::uint32_t id = 0; id < graph.tasks().size(); ++id) {
    const Task& t = graph.tasks()[id];
    if (t.kind == TaskKind::join || t.stream == Stream::none || (t.kind == TaskKind::delay && t.seconds <= 0) ||
        !is_traced(t.rank))
      continue;
    json e = {{"name", graph.label(t.label)},
              {"cat", stream_name(t.stream)},
              {"ph", "X"},
              {"pid", pid(t.rank)},
              {"tid", tid(t.rank, t.stream)},
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
  for (const TransferRecord& r : timeline.transfer_records) {
    if (!is_traced(r.src) || !is_traced(r.dst))
      continue;  // aggregating switches and ranks left out have no track
    const json args = {{"bytes", r.bytes}, {"step", r.step}};
    const std::string name = "transfer";
    events.push_back({{"name", name},
                      {"cat", "transfer"},
                      {"ph", "s"},
                      {"id", flows},
                      {"pid", pid(r.src)},
                      {"tid", tid(r.src, Stream::communication)},
                      {"ts", r.start_seconds * 1e6},
                      {"args", args}});
    events.push_back({{"name", name},
                      {"cat", "transfer"},
                      {"ph", "f"},
                      {"bp", "e"},
                      {"id", flows},
                      {"pid", pid(r.dst)},
                      {"tid", tid(r.dst, Stream::communication)},
                      {"ts", r.end_seconds * 1e6}});
    ++flows;
  }
  std::vector<char> named_node;
  for (std::uint32_t r : ranks) {
    const std::uint32_t node = pid(r);
    if (node >= named_node.size())
      named_node.resize(node + 1, 0);
    if (!named_node[node]) {
      named_node[node] = 1;
      events.push_back(
          {{"name", "process_name"}, {"ph", "M"}, {"pid", node}, {"args", {{"name", "node " + std::to_string(node)}}}});
    }
    for (Stream stream : {Stream::compute, Stream::communication, Stream::codec}) {
      if (stream == Stream::codec && !codec)
        continue;
      std::string name = "GPU " + std::to_string(r);
      name += stream == Stream::compute ? " compute" : stream == Stream::communication ? " comm" : " codec";
      events.push_back(
          {{"name", "thread_name"}, {"ph", "M"}, {"pid", node}, {"tid", tid(r, stream)}, {"args", {{"name", name}}}});
    }
  }
  return {{"traceEvents", std::move(events)},
          {"displayTimeUnit", "ms"},
          {"otherData", {{"ranks_traced", ranks.size()}, {"slices", slices}, {"flows", flows}}}};
}

}  // namespace ddlsim::report
