// Courier actors: one per host that sends or receives through mailboxes, for collectives whose
// steps are too wide for one-sided comms (executor.hpp, ExecOptions::courier_min_flows).
#include "sim/engine/executor_impl.hpp"

namespace ddlsim::engine {

using namespace ddlsim::scenario;
using simgrid::kernel::resource::Action;
using simgrid::kernel::timer::Timer;

void Executor::hand_to_courier(std::uint32_t host, std::uint32_t slot, bool send)
{
  if (couriers_.empty()) {
    couriers_.resize(platform_.topology().host_count());
    mailboxes_.resize(platform_.topology().host_count(), nullptr);
  }
  std::unique_ptr<Courier>& courier = couriers_[host];
  if (!courier) {
    courier = std::make_unique<Courier>();
    sg4::ActorPtr actor = sg4::Actor::init("ddlsim-courier-" + std::to_string(host), platform_.host(host));
    actor->set_stacksize(256 * 1024);
    actor->start([this, host] { courier_loop(host); });
    actor->daemonize();
  }
  courier->work.emplace_back(slot, send);
  if (!courier->rung) {
    courier->rung = true;
    courier->bell->release();
  }
}

sg4::Mailbox* Executor::mailbox(std::uint32_t host)
{
  if (!mailboxes_[host])
    mailboxes_[host] = sg4::Mailbox::by_name("ddlsim-courier-" + std::to_string(host));
  return mailboxes_[host];
}

void Executor::courier_loop(std::uint32_t host)
{
  Courier& courier = *couriers_[host];
  for (;;) {
    courier.bell->acquire();
    courier.rung = false;
    while (!courier.work.empty()) {
      const auto [slot, send] = courier.work.front();
      courier.work.pop_front();
      if (send) {
        const Flight& f = flights_[slot];
        const CollectiveInstance& inst = g_.collective(f.collective);
        const coll::Transfer& t = inst.schedule->step(f.step)[f.index];
        sg4::CommPtr comm = mailbox(inst.ranks[t.dst])->put_init(&sink_, simulated_units(t));
        comm->start();  // a simcall: index flights_ afresh after it
        courier_comms_[comm->get_impl()].slot = slot;
        flights_[slot].comm = std::move(comm);
      } else {
        sg4::CommPtr comm = mailbox(host)->get_init()->set_dst_data(&sink_, sizeof sink_);
        comm->start();
        courier_comms_[comm->get_impl()].receive = std::move(comm);
      }
    }
  }
}

void Executor::on_network_action(simgrid::kernel::resource::NetworkAction& network_action)
{
  if (courier_comms_.empty())
    return;
  // NetworkAction derives from Action alone; 3.32 installs no header that says so.
  const auto& action = reinterpret_cast<const Action&>(network_action);
  if (action.get_state() != Action::State::FINISHED)
    return;
  const auto it = courier_comms_.find(action.get_activity());
  if (it == courier_comms_.end())
    return;
  // Running means matched: both sides have started.
  couriers_done_.push_back(it->second.slot);
  released_.emplace_back(now(), std::move(it->second.receive));
  courier_comms_.erase(it);
  if (!courier_timer_) {
    courier_timer_ = true;
    Timer::set(now(), [this] { on_couriers_done(); });
  }
}

void Executor::on_couriers_done()
{
  courier_timer_ = false;
  // Comms are released once the clock has moved past their end: by then SimGrid has finished
  // with them (released earlier, an unwaited comm still running logs a warning).
  while (!released_.empty() && released_.front().first < now())
    released_.pop_front();
  std::vector<std::uint32_t> done;
  done.swap(couriers_done_);
  for (std::uint32_t slot : done) {
    released_.emplace_back(now(), std::move(flights_[slot].comm));
    transfer_done(slot);
  }
  drain();
}

}  // namespace ddlsim::engine
