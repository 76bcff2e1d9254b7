#pragma once
// The per-rank work of a run as a DAG: fixed-duration tasks on a rank's stream (compute), joins,
// and each rank's part in a collective. Pure data; sim/engine/executor.hpp runs it on SimGrid.
#include "sim/collectives/schedule.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ddlsim::engine {

enum class TaskKind { delay, join, collective };
/// What a task's time counts as in reports and traces.
enum class Stream : std::uint8_t { compute, communication, codec, none };
/// A GPU queue that runs one delay task at a time, in the order they become ready (a CUDA stream):
/// compute tasks take the compute lane; codec kernels take it too, competing with backward, or a
/// codec lane of their own.
enum class Lane : std::uint8_t { none, compute, codec };

struct Task {
  TaskKind kind;
  Stream stream;
  std::uint32_t rank;        ///< global GPU rank (joins: unused)
  double seconds;            ///< delay tasks: duration
  std::uint32_t collective;  ///< collective tasks: index into collectives()
  std::uint32_t group_rank;  ///< collective tasks: this rank's index in the collective's group
  std::uint32_t label;       ///< index into labels()
  Lane lane = Lane::none;    ///< delay tasks: the GPU queue they wait for
};

struct CollectiveInstance {
  /// Shared by every instance with the same schedule (a bucket's all-reduce each iteration).
  std::shared_ptr<const coll::Schedule> schedule;
  std::vector<std::uint32_t> ranks;  ///< group rank -> global GPU rank
  std::vector<std::uint32_t> tasks;  ///< group rank -> task id of that rank's part
  std::uint32_t label;
};

class TaskGraph {
public:
  /// A fixed-duration task; on Stream::compute it takes the rank's compute lane.
  std::uint32_t add_delay(std::uint32_t rank, Stream stream, double seconds, const std::string& label);
  /// A codec kernel of `rank` (Stream::codec), queued on `lane` (compute or codec).
  std::uint32_t add_codec(std::uint32_t rank, double seconds, const std::string& label, Lane lane);
  std::uint32_t add_join(const std::string& label);
  /// Adds one task per group rank; returns the collective's index. Throws std::invalid_argument
  /// when `ranks` does not match the schedule.
  std::uint32_t add_collective(coll::Schedule schedule, std::vector<std::uint32_t> ranks, const std::string& label);
  /// Re-labels what a task's time counts as (e.g. a parameter server's part of a collective, which
  /// is not the GPU's communication stream).
  void set_stream(std::uint32_t task, Stream stream) { tasks_[task].stream = stream; }
  /// `after` starts only once `before` has finished.
  void add_dependency(std::uint32_t before, std::uint32_t after);

  const std::vector<Task>& tasks() const { return tasks_; }
  const std::vector<std::uint32_t>& successors(std::uint32_t task) const { return successors_[task]; }
  std::uint32_t predecessor_count(std::uint32_t task) const { return predecessors_[task]; }
  const std::vector<CollectiveInstance>& collectives() const { return collectives_; }
  const CollectiveInstance& collective(std::uint32_t c) const { return collectives_[c]; }
  const std::string& label(std::uint32_t id) const { return labels_[id]; }

private:
  std::uint32_t add_task(Task t);
  std::uint32_t intern(const std::string& label);

  std::vector<Task> tasks_;
  std::vector<std::vector<std::uint32_t>> successors_;
  std::vector<std::uint32_t> predecessors_;
  std::vector<CollectiveInstance> collectives_;
  std::vector<std::string> labels_;
  /// Distinct schedules by hash: a long run repeats the same few each iteration.
  std::unordered_multimap<std::size_t, std::shared_ptr<const coll::Schedule>> schedules_;
};

}  // namespace ddlsim::engine
