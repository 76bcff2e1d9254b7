#include "sim/engine/task_graph.hpp"

#include <stdexcept>

namespace ddlsim::engine {

std::uint32_t TaskGraph::intern(const std::string& label)
{
  // Labels repeat per rank ("forward"); the last few are the likely hits.
  for (std::size_t i = labels_.size(); i > 0 && i + 8 > labels_.size(); --i)
    if (labels_[i - 1] == label)
      return static_cast<std::uint32_t>(i - 1);
  labels_.push_back(label);
  return static_cast<std::uint32_t>(labels_.size() - 1);
}

std::uint32_t TaskGraph::add_task(Task t)
{
  tasks_.push_back(t);
  successors_.emplace_back();
  predecessors_.push_back(0);
  return static_cast<std::uint32_t>(tasks_.size() - 1);
}

std::uint32_t TaskGraph::add_delay(std::uint32_t rank, Stream stream, double seconds, const std::string& label)
{
  if (!(seconds >= 0))
    throw std::invalid_argument("task '" + label + "': negative duration");
  return add_task({TaskKind::delay, stream, rank, seconds, 0, 0, intern(label),
                   stream == Stream::compute ? Lane::compute : Lane::none});
}

std::uint32_t TaskGraph::add_codec(std::uint32_t rank, double seconds, const std::string& label, Lane lane)
{
  const std::uint32_t id = add_delay(rank, Stream::codec, seconds, label);
  tasks_[id].lane = lane;
  return id;
}

std::uint32_t TaskGraph::add_join(const std::string& label)
{
  return add_task({TaskKind::join, Stream::none, 0, 0, 0, 0, intern(label), Lane::none});
}

std::uint32_t TaskGraph::add_collective(coll::Schedule schedule, std::vector<std::uint32_t> ranks,
                                        const std::string& label)
{
  if (ranks.size() != schedule.ranks())
    throw std::invalid_argument("collective '" + label + "': group size does not match its schedule");
  const auto c = static_cast<std::uint32_t>(collectives_.size());
  const std::uint32_t l = intern(label);
  std::vector<std::uint32_t> part;
  part.reserve(ranks.size());
  for (std::uint32_t g = 0; g < ranks.size(); ++g)
    part.push_back(add_task({TaskKind::collective, Stream::communication, ranks[g], 0, c, g, l, Lane::none}));
  const std::size_t h = schedule.hash();
  std::shared_ptr<const coll::Schedule> shared;
  for (auto [it, end] = schedules_.equal_range(h); it != end && !shared; ++it)
    if (*it->second == schedule)
      shared = it->second;
  if (!shared) {
    shared = std::make_shared<const coll::Schedule>(std::move(schedule));
    schedules_.emplace(h, shared);
  }
  collectives_.push_back({std::move(shared), std::move(ranks), std::move(part), l});
  return c;
}

void TaskGraph::add_dependency(std::uint32_t before, std::uint32_t after)
{
  if (before >= tasks_.size() || after >= tasks_.size() || before == after)
    throw std::invalid_argument("bad task dependency");
  successors_[before].push_back(after);
  ++predecessors_[after];
}

}  // namespace ddlsim::engine
