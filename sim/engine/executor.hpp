#pragma once
// Runs a TaskGraph on a Platform with SimGrid, without an actor per message: delays are kernel
// timers, transfers are one-sided comms started from completion callbacks, and collectives
// advance per rank through their schedule's steps. Collectives with wide steps send through
// per-host courier actors instead (ExecOptions::courier_min_flows): SimGrid 3.32 walks a list of
// every live one-sided comm each time one ends, which makes a step of p one-sided flows cost
// O(p^2); a courier's mailbox comms are listed only with the two hosts' couriers.
#include "sim/engine/platform.hpp"
#include "sim/engine/task_graph.hpp"

#include <cstdint>
#include <vector>

namespace ddlsim::engine {

/// One point-to-point transfer as it ran (recorded when ExecOptions::record_transfers).
struct TransferRecord {
  std::uint32_t collective;
  std::uint32_t step;
  std::uint32_t src, dst;  ///< hosts (global GPU ranks, then aggregating switches)
  double bytes;
  double start_seconds;  ///< both ends in the step: the data starts to move
  double end_seconds;    ///< arrived (and, for flows, the latency of the messages it stands for charged)
};

struct Timeline {
  std::vector<double> start_seconds;  ///< per task: when its predecessors were done and it began
  std::vector<double> end_seconds;    ///< per task
  double makespan_seconds = 0;
  std::uint64_t transfers = 0;          ///< SimGrid comms started
  std::uint64_t courier_transfers = 0;  ///< of which through courier actors
  std::uint64_t timers = 0;             ///< delays and latency charges
  /// Per link direction (index 2 * link + 0 for source->target, + 1 for target->source): bytes
  /// carried, and seconds during which at least one transfer crossed it. Empty unless
  /// ExecOptions::link_stats.
  std::vector<double> link_bytes;
  std::vector<double> link_busy_seconds;
  std::vector<TransferRecord> transfer_records;  ///< in order of completion; empty unless asked for
};

struct ExecOptions {
  /// Seconds a GPU takes to sum one received byte into its buffer (the gamma of the collectives'
  /// cost model); 0 charges nothing.
  double reduce_seconds_per_byte = 0;
  /// Account bytes and busy time per link direction (Timeline::link_bytes, link_busy_seconds).
  bool link_stats = true;
  /// Keep every transfer's times (Timeline::transfer_records), for the trace's flow arrows.
  bool record_transfers = false;
  /// A collective whose schedule has more than one step, one of them with at least this many
  /// transfers, sends through courier actors (same simulated times; at 16,384 GPUs a 1 GiB
  /// halving-doubling all-reduce on a fat-tree ran 9x faster, bench/README.md), and so does a
  /// single step of at least 16 times this many (a direct all-to-all of 1,024 ranks: 54 s instead
  /// of not finishing in 300 s). Other single-step schedules (flow-form rings) keep one-sided
  /// comms: couriers cost memory, about 11 KB per host and 0.5 KB or more per transfer that
  /// SimGrid 3.32 keeps to the end. 0: every collective uses couriers (the tests compare the two
  /// transports).
  std::uint32_t courier_min_flows = 4096;
};

/// Runs `graph` to completion; once per process (it runs the engine). Throws SimulationError
/// if some task can never run (a dependency cycle) or a transfer is too large to simulate.
Timeline execute(const TaskGraph& graph, const Platform& platform, const ExecOptions& options = {});

}  // namespace ddlsim::engine
