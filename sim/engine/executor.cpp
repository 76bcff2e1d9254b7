// Running a task graph: tasks on their lanes, collectives rank by rank through their steps, and
// each step's transfers as one-sided comms (or through couriers, couriers.cpp).
#include "sim/engine/executor_impl.hpp"

namespace ddlsim::engine {

using namespace ddlsim::scenario;
using simgrid::kernel::resource::Action;
using simgrid::kernel::timer::Timer;

Executor::Executor(const TaskGraph& graph, const Platform& platform, const ExecOptions& options)
    : g_(graph), platform_(platform), options_(options), predecessors_(graph.tasks().size())
{
  timeline_.start_seconds.assign(graph.tasks().size(), -1);
  timeline_.end_seconds.assign(graph.tasks().size(), -1);
  if (options.link_stats) {
    const std::size_t directions = 2 * platform.topology().link_count();
    timeline_.link_bytes.assign(directions, 0);
    timeline_.link_busy_seconds.assign(directions, 0);
    link_active_.assign(directions, 0);
    link_busy_since_.assign(directions, 0);
  }
  std::size_t lanes = 0;
  for (std::uint32_t t = 0; t < graph.tasks().size(); ++t) {
    predecessors_[t] = graph.predecessor_count(t);
    if (graph.tasks()[t].lane != Lane::none)
      lanes = std::max(lanes, lane_index(graph.tasks()[t]) + 1);
  }
  lanes_.resize(lanes);
  collectives_.reserve(graph.collectives().size());
  for (const CollectiveInstance& c : graph.collectives()) {
    // Collectives of the same schedule (a bucket's, every iteration) share its index.
    auto [it, inserted] = indexes_.try_emplace(c.schedule.get());
    if (inserted)
      it->second = index_schedule(*c.schedule, options);
    collectives_.push_back({&it->second, {}, {}, 0});
  }
}

Timeline Executor::run()
{
  if (g_.tasks().empty())
    return timeline_;
  instance_ = this;
  static bool connected = false;
  if (!connected) {
    sg4::Activity::on_completion_cb([](const sg4::Activity& a) {
      if (instance_)
        instance_->on_comm_done(a);
    });
    // A courier's comm is never waited for, so its end is seen on its network action.
    sg4::Link::on_communication_state_change_cb(
        [](simgrid::kernel::resource::NetworkAction& action, Action::State /*previous*/) {
          if (instance_)
            instance_->on_network_action(action);
        });
    connected = true;
  }
  for (std::uint32_t t = 0; t < g_.tasks().size(); ++t)
    if (predecessors_[t] == 0)
      ready_.push_back(t);
  drain();
  if (done_ < g_.tasks().size()) {
    // Keeps SimGrid's main loop alive while only timers are pending; resumed when all is done.
    keeper_ = sg4::Actor::create("ddlsim-keeper", platform_.host(0), [] { sg4::this_actor::suspend(); });
    sg4::Engine::get_instance()->run();
  }
  instance_ = nullptr;
  if (done_ != g_.tasks().size()) {
    std::uint32_t first = 0;
    while (first < g_.tasks().size() && timeline_.end_seconds[first] >= 0)
      ++first;
    throw SimulationError("the task graph stalled: " + std::to_string(g_.tasks().size() - done_) +
                          " tasks never finished (first: '" + g_.label(g_.tasks()[first].label) + "')");
  }
  return std::move(timeline_);
}

Executor::ScheduleIndex Executor::index_schedule(const coll::Schedule& schedule, const ExecOptions& options)
{
  ScheduleIndex x;
  const std::size_t p = schedule.ranks();
  std::size_t widest = 0;
  for (std::size_t k = 0; k < schedule.steps(); ++k)
    widest = std::max(widest, schedule.step(k).size());
  // One step as wide as 16 times the threshold (a direct all-to-all: p(p-1) flows) also goes
  // through couriers; the flow-form rings of training (p flows a collective) do not.
  x.couriers = options.courier_min_flows == 0 ||
               (widest >= options.courier_min_flows &&
                (schedule.steps() > 1 || widest >= std::size_t{16} * options.courier_min_flows));
  x.pending0.assign(schedule.steps() * p, 0);
  x.by_dst_begin.push_back(0);
  for (std::size_t k = 0; k < schedule.steps(); ++k) {
    const auto transfers = schedule.step(k);
    for (const coll::Transfer& t : transfers) {
      ++x.pending0[k * p + t.src];
      ++x.pending0[k * p + t.dst];
    }
    const std::size_t begin = x.by_dst.size();
    for (std::uint32_t i = 0; i < transfers.size(); ++i)
      x.by_dst.push_back(i);
    std::stable_sort(x.by_dst.begin() + static_cast<std::ptrdiff_t>(begin), x.by_dst.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return transfers[a].dst < transfers[b].dst; });
    x.by_dst_begin.push_back(x.by_dst.size());
  }
  return x;
}

void Executor::drain()
{
  if (draining_)
    return;
  draining_ = true;
  while (!ready_.empty()) {
    const std::uint32_t t = ready_.front();
    ready_.pop_front();
    start_task(t);
  }
  draining_ = false;
  release_finished();
  if (done_ == g_.tasks().size() && keeper_) {
    keeper_->resume();
    keeper_ = nullptr;
  }
}

void Executor::start_task(std::uint32_t id)
{
  const Task& t = g_.tasks()[id];
  timeline_.start_seconds[id] = now();
  switch (t.kind) {
  case TaskKind::join: complete_task(id); break;
  case TaskKind::delay:
    if (t.seconds <= 0) {
      complete_task(id);
    } else if (t.lane != Lane::none && !take_lane(id)) {
      // Queued behind the kernel running on its lane; started when that one ends.
    } else {
      ++timeline_.timers;
      Timer::set(now() + t.seconds, [this, id] {
        release_lane(id);
        complete_task(id);
        drain();
      });
    }
    break;
  case TaskKind::collective: enter_collective(t.collective, t.group_rank); break;
  }
}

bool Executor::take_lane(std::uint32_t id)
{
  const Task& t = g_.tasks()[id];
  LaneState& lane = lanes_[lane_index(t)];
  if (lane.busy) {
    lane.waiting.push_back(id);
    return false;
  }
  lane.busy = true;
  return true;
}

void Executor::release_lane(std::uint32_t id)
{
  const Task& t = g_.tasks()[id];
  if (t.lane == Lane::none)
    return;
  LaneState& lane = lanes_[lane_index(t)];
  lane.busy = false;
  if (!lane.waiting.empty()) {
    const std::uint32_t next = lane.waiting.front();
    lane.waiting.pop_front();
    start_task(next);
  }
}

void Executor::complete_task(std::uint32_t id)
{
  timeline_.end_seconds[id] = now();
  timeline_.makespan_seconds = std::max(timeline_.makespan_seconds, now());
  ++done_;
  for (std::uint32_t s : g_.successors(id))
    if (--predecessors_[s] == 0)
      ready_.push_back(s);
}

void Executor::enter_collective(std::uint32_t c, std::uint32_t r)
{
  CollectiveState& st = collectives_[c];
  if (st.step.empty()) {
    st.step.assign(g_.collective(c).ranks.size(), -1);
    st.pending = st.index->pending0;
  }
  st.step[r] = 0;
  if (g_.collective(c).schedule->steps() == 0) {
    finish_rank(c, r);
    return;
  }
  enter_step(c, 0, r);
  advance(c, r);
}

void Executor::advance(std::uint32_t c, std::uint32_t r)
{
  CollectiveState& st = collectives_[c];
  const CollectiveInstance& inst = g_.collective(c);
  const std::size_t p = inst.ranks.size();
  const auto steps = static_cast<std::int64_t>(inst.schedule->steps());
  while (st.step[r] >= 0 && st.step[r] < steps && st.pending[st.step[r] * p + r] == 0) {
    ++st.step[r];
    if (st.step[r] == steps) {
      finish_rank(c, r);
      return;
    }
    enter_step(c, static_cast<std::uint32_t>(st.step[r]), r);
  }
}

void Executor::finish_rank(std::uint32_t c, std::uint32_t r)
{
  CollectiveState& st = collectives_[c];
  if (++st.finished == st.step.size())
    finished_.push_back(c);
  complete_task(g_.collective(c).tasks[r]);
}

void Executor::release_finished()
{
  for (std::uint32_t c : finished_) {
    std::vector<std::int64_t>().swap(collectives_[c].step);
    std::vector<std::uint32_t>().swap(collectives_[c].pending);
  }
  finished_.clear();
}

void Executor::enter_step(std::uint32_t c, std::uint32_t k, std::uint32_t r)
{
  const CollectiveInstance& inst = g_.collective(c);
  const CollectiveState& st = collectives_[c];
  const auto transfers = inst.schedule->step(k);
  const auto entered = [&](std::uint32_t rank) {
    return st.step[rank] >= static_cast<std::int64_t>(k);
  };
  auto it = std::lower_bound(transfers.begin(), transfers.end(), r,
                             [](const coll::Transfer& t, std::uint32_t rank) { return t.src < rank; });
  for (; it != transfers.end() && it->src == r; ++it)
    if (entered(it->dst))
      launch(c, k, static_cast<std::uint32_t>(it - transfers.begin()));
  const std::uint32_t* order = st.index->by_dst.data() + st.index->by_dst_begin[k];
  const std::uint32_t* order_end = st.index->by_dst.data() + st.index->by_dst_begin[k + 1];
  const std::uint32_t* first = std::lower_bound(
      order, order_end, r, [&](std::uint32_t i, std::uint32_t rank) { return transfers[i].dst < rank; });
  for (; first != order_end && transfers[*first].dst == r; ++first)
    if (entered(transfers[*first].src))
      launch(c, k, *first);
}

void Executor::launch(std::uint32_t c, std::uint32_t k, std::uint32_t index)
{
  const CollectiveInstance& inst = g_.collective(c);
  const coll::Transfer& t = inst.schedule->step(k)[index];
  const std::uint64_t units = simulated_units(t);
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(flights_.size());
    flights_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  ++timeline_.transfers;
  if (options_.link_stats)
    account_links(inst.ranks[t.src], inst.ranks[t.dst], t.bytes, true);
  if (collectives_[c].index->couriers) {
    ++timeline_.courier_transfers;
    flights_[slot] = {c, k, index, nullptr, now()};
    hand_to_courier(inst.ranks[t.src], slot, true);
    hand_to_courier(inst.ranks[t.dst], slot, false);
    return;
  }
  sg4::CommPtr comm = sg4::Comm::sendto_init(platform_.host(inst.ranks[t.src]), platform_.host(inst.ranks[t.dst]));
  comm->set_payload_size(units);
  comm->set_data(reinterpret_cast<void*>(static_cast<std::uintptr_t>(slot) + 1));
  flights_[slot] = {c, k, index, comm, now()};
  comm->start();
}

void Executor::on_comm_done(const sg4::Activity& a)
{
  const auto tag = reinterpret_cast<std::uintptr_t>(a.get_data<void>());
  if (tag == 0)
    return;
  const auto slot = static_cast<std::uint32_t>(tag - 1);
  // The engine may still touch this comm after the callback returns, so it is released a few
  // completions later. Few: SimGrid 3.32 walks a list of every live one-sided comm whenever one
  // ends (fixed in 3.34), so each comm kept alive slows every completion.
  graveyard_[graveyard_next_] = std::move(flights_[slot].comm);
  graveyard_next_ = (graveyard_next_ + 1) % graveyard_.size();
  transfer_done(slot);
}

void Executor::transfer_done(std::uint32_t slot)
{
  const Flight f = flights_[slot];  // its comm already handed to a graveyard
  free_slots_.push_back(slot);

  const CollectiveInstance& inst = g_.collective(f.collective);
  const coll::Transfer& t = inst.schedule->step(f.step)[f.index];
  if (options_.link_stats)
    account_links(inst.ranks[t.src], inst.ranks[t.dst], 0, false);
  // The latency of the other messages a flow stands for, then the receiver's reduction, which
  // waits for the reductions it is already doing (a GPU sums one buffer at a time).
  double done = now();
  if (t.messages > 1)
    done += (t.messages - 1) * platform_.topology().route_latency_seconds(inst.ranks[t.src], inst.ranks[t.dst]);
  // A GPU sums a message once it has arrived; an aggregating switch (or a parameter server)
  // sums it as it streams through (SHARP, BytePS), from the moment it starts arriving. Either sums one message at a
  // time.
  const topo::Topology& topology = platform_.topology();
  const std::uint32_t receiver = inst.ranks[t.dst];
  const bool in_network = receiver >= topology.gpu_count();
  double reduce = t.reduce_bytes * options_.reduce_seconds_per_byte;
  if (in_network) {  // an aggregating switch or a parameter server; rate 0: not charged
    const double rate = topology.aggregator_reduce_bytes_per_s(receiver - topology.gpu_count());
    reduce = rate > 0 ? t.reduce_bytes / rate : 0;
  }
  if (reduce > 0) {
    double& free_at = reducing_until_[receiver];
    const double begin = std::max(in_network ? f.start_seconds : done, free_at);
    free_at = begin + reduce;
    done = std::max(done, free_at);
  }
  if (done > now()) {
    ++timeline_.timers;
    Timer::set(done, [this, f] { finish_transfer(f.collective, f.step, f.index, f.start_seconds); });
  } else {
    finish_transfer(f.collective, f.step, f.index, f.start_seconds);
  }
}

void Executor::account_links(std::uint32_t src, std::uint32_t dst, double bytes, bool starts)
{
  route_.clear();
  platform_.topology().route(src, dst, route_);
  const double t = now();
  for (const topo::Hop& h : route_) {
    const std::size_t d = 2 * std::size_t{h.edge} + (h.forward ? 0 : 1);
    if (starts) {
      timeline_.link_bytes[d] += bytes;
      if (link_active_[d]++ == 0)
        link_busy_since_[d] = t;
    } else if (--link_active_[d] == 0) {
      timeline_.link_busy_seconds[d] += t - link_busy_since_[d];
    }
  }
}

void Executor::finish_transfer(std::uint32_t c, std::uint32_t k, std::uint32_t index, double start_seconds)
{
  const CollectiveInstance& inst = g_.collective(c);
  const coll::Transfer& t = inst.schedule->step(k)[index];
  if (options_.record_transfers)
    timeline_.transfer_records.push_back({c, k, inst.ranks[t.src], inst.ranks[t.dst], t.bytes, start_seconds, now()});
  CollectiveState& st = collectives_[c];
  const std::size_t p = inst.ranks.size();
  --st.pending[k * p + t.src];
  --st.pending[k * p + t.dst];
  advance(c, t.src);
  advance(c, t.dst);
  drain();
}

Timeline execute(const TaskGraph& graph, const Platform& platform, const ExecOptions& options)
{
  Executor executor(graph, platform, options);
  return executor.run();
}

}  // namespace ddlsim::engine
