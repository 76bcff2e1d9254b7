#pragma once
// A collective as a traffic schedule: who sends how many bytes to whom, in which step. Pure data,
// no SimGrid. Ranks are group-local (0..ranks-1); the executor maps them to GPUs.
//
// Execution semantics (sim/engine/executor.hpp): a rank enters step k once every transfer of step k-1 that it
// sends or receives has completed. A transfer of step k starts when both its sender and its
// receiver have entered step k (rendezvous: the receiver must be there, as a posted receive or a
// free buffer slot). So a step is a per-rank dependency, not a global barrier, as in NCCL and
// MPI implementations, and step-synchronous algorithms keep their textbook cost.
//
// A transfer may stand for `messages` back-to-back messages of the same route (flow fidelity):
// its bytes move as one long flow, and the executor charges the other messages' latency,
// (messages - 1) * route latency, after the flow ends. A transfer's `reduce_bytes` are summed by
// its receiver after it arrives; the executor charges that at the GPU's reduction rate.
#include <cstdint>
#include <span>
#include <vector>

namespace ddlsim::coll {

using Rank = std::uint32_t;
/// A tree's root has no parent (in-network aggregation trees).
inline constexpr Rank NO_PARENT = ~Rank{0};

struct Transfer {
  Rank src;
  Rank dst;
  double bytes;
  std::uint32_t messages = 1;
  double reduce_bytes = 0;  ///< bytes the receiver sums into its buffer once this arrives (gamma)

  bool operator==(const Transfer&) const = default;
};

class Schedule {
public:
  explicit Schedule(Rank ranks) : ranks_(ranks), step_begin_{0} {}

  /// Appends a step; transfers are stored sorted by source rank. Throws std::invalid_argument for
  /// out-of-range ranks, self-transfers, negative bytes or zero messages.
  void add_step(std::vector<Transfer> transfers);

  Rank ranks() const { return ranks_; }
  std::size_t steps() const { return step_begin_.size() - 1; }
  std::span<const Transfer> step(std::size_t k) const
  {
    return {transfers_.data() + step_begin_[k], transfers_.data() + step_begin_[k + 1]};
  }
  std::size_t transfer_count() const { return transfers_.size(); }
  /// Total bytes that `rank` sends over the whole schedule.
  double bytes_sent_by(Rank rank) const;
  /// Total bytes that `rank` receives.
  double bytes_received_by(Rank rank) const;

  /// Same ranks, steps and transfers.
  bool operator==(const Schedule&) const = default;
  /// A hash of all of it, consistent with ==.
  std::size_t hash() const;

private:
  Rank ranks_;
  std::vector<Transfer> transfers_;
  std::vector<std::size_t> step_begin_;
};

}  // namespace ddlsim::coll
