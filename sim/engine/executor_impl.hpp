#pragma once
// Inside sim/engine: the Executor behind execute() (executor.hpp says what it does).
// executor.cpp runs tasks, collectives and their transfers; couriers.cpp the courier actors.
#include "sim/engine/executor.hpp"

#include "sim/scenario/error.hpp"

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/kernel/resource/Action.hpp>
#include <simgrid/s4u/Activity.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/Mailbox.hpp>
#include <simgrid/s4u/Semaphore.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

namespace ddlsim::engine {

namespace sg4 = simgrid::s4u;

class Executor {
public:
  Executor(const TaskGraph& graph, const Platform& platform, const ExecOptions& options);

  Timeline run();

private:
  /// What the executor derives from a schedule, once per distinct schedule.
  struct ScheduleIndex {
    bool couriers = false;                ///< its transfers go through courier actors
    std::vector<std::uint32_t> pending0;  ///< [step * p + rank]: transfers of the rank in the step
    std::vector<std::uint32_t> by_dst;    ///< per step, indices of its transfers sorted by receiver
    std::vector<std::size_t> by_dst_begin;
  };
  /// A collective's progress: allocated when its first rank enters, freed when its last finishes,
  /// so a long run holds only the collectives in flight.
  struct CollectiveState {
    const ScheduleIndex* index;
    std::vector<std::int64_t> step;      ///< per group rank: step it is in, -1 before entering
    std::vector<std::uint32_t> pending;  ///< [step * p + rank]: transfers not yet done
    std::size_t finished;                ///< ranks that have left the last step
  };

  static ScheduleIndex index_schedule(const coll::Schedule& schedule, const ExecOptions& options);
  struct Flight {
    std::uint32_t collective;
    std::uint32_t step;
    std::uint32_t index;  ///< within the step
    sg4::CommPtr comm;    ///< the one-sided comm, or a courier transfer's sending side
    double start_seconds;
  };
  /// A courier transfer's kernel comm, shared by its put and its receive once they match.
  struct CourierComm {
    std::uint32_t slot = NO_SLOT;  ///< the flight, once the put has started
    sg4::CommPtr receive;          ///< the receiving side, once started
    static constexpr std::uint32_t NO_SLOT = UINT32_MAX;
  };
  /// Issues mailbox comms for transfers from or to its host; sleeps on its bell between batches.
  struct Courier {
    sg4::SemaphorePtr bell = sg4::Semaphore::create(0);
    std::deque<std::pair<std::uint32_t, bool>> work;  ///< (flight slot, true: send, false: receive)
    bool rung = false;
  };

  static double now() { return sg4::Engine::get_clock(); }

  void drain();

  void start_task(std::uint32_t id);

  /// Claims task id's lane; false (and queued) when another task holds it.
  bool take_lane(std::uint32_t id);

  /// Task id has ended: its lane runs the next task that waits for it.
  void release_lane(std::uint32_t id);

  /// Per rank: its compute lane, then its codec lane (sized once, in the constructor).
  static std::size_t lane_index(const Task& t) { return std::size_t(t.rank) * 2 + (t.lane == Lane::compute ? 0 : 1); }

  void complete_task(std::uint32_t id);

  void enter_collective(std::uint32_t c, std::uint32_t r);

  /// Moves rank r through every step whose transfers (as sender and receiver) are all done.
  void advance(std::uint32_t c, std::uint32_t r);

  /// Rank r has left collective c's last step: its part is done. Once every rank's is, no
  /// transfer of c is left, and its state is freed when the current event has been handled.
  void finish_rank(std::uint32_t c, std::uint32_t r);

  /// Frees the state of the collectives whose every rank has finished.
  void release_finished();

  /// Rank r has entered step k: start its transfers of step k, as sender or receiver, whose
  /// other end has entered step k too (rendezvous: a message needs its receiver in the same step,
  /// as a posted receive or a free buffer slot).
  void enter_step(std::uint32_t c, std::uint32_t k, std::uint32_t r);

  void launch(std::uint32_t c, std::uint32_t k, std::uint32_t index);

  /// The payload SimGrid simulates for a transfer (bytes times the platform's byte scale).
  std::uint64_t simulated_units(const coll::Transfer& t) const
  {
    const double units = std::round(t.bytes * platform_.byte_scale());
    if (units > 9.2e18)
      throw scenario::SimulationError("a transfer of " + std::to_string(t.bytes) + " bytes is too large to simulate");
    return static_cast<std::uint64_t>(units);
  }

  /// Queues one side of a courier transfer with the courier of `host` (created on first use) and
  /// wakes it; it issues the comm in the next scheduling round, at the same simulated time.
  void hand_to_courier(std::uint32_t host, std::uint32_t slot, bool send);

  sg4::Mailbox* mailbox(std::uint32_t host);

  /// A courier's life: wait for its bell, issue what is queued. A put is matched with any receive
  /// the destination's courier posted: which one does not matter, the route is the two couriers'
  /// hosts. Matched, both sides share one kernel comm, by which the flight is found.
  void courier_loop(std::uint32_t host);

  /// A network action changed state: when it is a courier transfer's and it finished, that
  /// transfer is handled by a timer at this date (not inside SimGrid's model update).
  void on_network_action(simgrid::kernel::resource::NetworkAction& network_action);

  void on_couriers_done();

  void on_comm_done(const sg4::Activity& a);

  /// The transfer in flight `slot` has arrived.
  void transfer_done(std::uint32_t slot);

  /// A transfer from host src to host dst starts (adding its bytes) or ends on every link direction
  /// of its route. Busy time is the union of the intervals in which some transfer is in flight.
  void account_links(std::uint32_t src, std::uint32_t dst, double bytes, bool starts);

  void finish_transfer(std::uint32_t c, std::uint32_t k, std::uint32_t index, double start_seconds);

  static inline Executor* instance_ = nullptr;

  const TaskGraph& g_;
  const Platform& platform_;
  ExecOptions options_;
  std::vector<double> reducing_until_ = std::vector<double>(platform_.topology().host_count(), 0.0);
  std::vector<std::uint32_t> predecessors_;
  std::unordered_map<const coll::Schedule*, ScheduleIndex> indexes_;
  std::vector<CollectiveState> collectives_;
  std::vector<std::uint32_t> finished_;  ///< collectives whose state release_finished frees
  std::deque<std::uint32_t> ready_;
  struct LaneState {
    bool busy = false;
    std::deque<std::uint32_t> waiting;
  };
  std::vector<LaneState> lanes_;  ///< per rank: compute lane, codec lane
  bool draining_ = false;
  std::size_t done_ = 0;
  std::vector<Flight> flights_;
  std::vector<std::uint32_t> free_slots_;
  std::array<sg4::CommPtr, 8> graveyard_;
  std::size_t graveyard_next_ = 0;
  std::vector<std::unique_ptr<Courier>> couriers_;              ///< per host, once it has sent or received
  std::vector<sg4::Mailbox*> mailboxes_;                        ///< per host: where its courier receives
  std::unordered_map<const void*, CourierComm> courier_comms_;  ///< by kernel comm, until it ends
  std::vector<std::uint32_t> couriers_done_;                    ///< flights ended at this date, not yet handled
  bool courier_timer_ = false;
  std::deque<std::pair<double, sg4::CommPtr>> released_;  ///< (end, comm) kept until the clock moves on
  void* sink_ = nullptr;  ///< what a courier's receive writes (the payload is this address)
  sg4::ActorPtr keeper_;
  std::vector<std::uint32_t> link_active_;  ///< per link direction: transfers in flight
  std::vector<double> link_busy_since_;
  std::vector<topo::Hop> route_;
  Timeline timeline_;
};

}  // namespace ddlsim::engine
