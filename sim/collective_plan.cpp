#include "sim/collective_plan.hpp"

namespace ddlsim {

namespace {
// Above this many step-level messages per collective, `auto` uses flow fidelity: a step-level
// ring at p = 181 already has 65,160 messages, and SimGrid 3.32 handles ~1e5 per CPU second.
constexpr double AUTO_FLOW_MESSAGES = 65536;
}  // namespace

coll::ScheduleFidelity choose_fidelity(Fidelity requested, double messages)
{
  switch (requested) {
  case Fidelity::step: return coll::ScheduleFidelity::step;
  case Fidelity::flow: return coll::ScheduleFidelity::flow;
  case Fidelity::auto_: break;
  }
  return messages > AUTO_FLOW_MESSAGES ? coll::ScheduleFidelity::flow : coll::ScheduleFidelity::step;
}

coll::GroupShape group_shape(const topo::Topology& t, std::uint32_t ranks, std::uint32_t gpus_per_node)
{
  coll::GroupShape g{ranks, gpus_per_node, 0, 1, 0, 1};
  if (t.aggregator_count() > t.server_count()) {  // a switch that sums
    g.aggregator = static_cast<std::uint32_t>(t.gpu_count());
    g.aggregator_reduce_bytes_per_s = t.aggregator_reduce_bytes_per_s(0);
  }
  if (t.server_count() > 0) {  // parameter servers on CPU hosts of their own
    g.ps_servers = static_cast<coll::Rank>(t.server_count());
    g.ps_server_host = t.server_host(0);
  }
  if (ranks < 2)
    return g;
  const std::uint32_t inside = gpus_per_node > 1 ? 1 : 0;
  const std::uint32_t outside = ranks > gpus_per_node ? gpus_per_node : 1;
  g.alpha_inter_s = t.route_latency_seconds(0, outside);
  g.bandwidth_inter = t.route_bandwidth_bytes_per_s(0, outside);
  g.alpha_intra_s = inside ? t.route_latency_seconds(0, inside) : g.alpha_inter_s;
  g.bandwidth_intra = inside ? t.route_bandwidth_bytes_per_s(0, inside) : g.bandwidth_inter;
  return g;
}

PlannedCollective plan_collective(coll::Op op, coll::Algorithm requested, Fidelity fidelity,
                                  const coll::GroupShape& group, double bytes)
{
  const coll::Algorithm algorithm =
      requested == coll::Algorithm::auto_ ? coll::choose_algorithm(op, group, bytes) : requested;
  const coll::ScheduleFidelity f = choose_fidelity(fidelity, coll::step_messages(op, algorithm, group));
  return {coll::make_schedule(op, algorithm, group, bytes, f), coll::schedule_hosts(algorithm, group), algorithm, f};
}

}  // namespace ddlsim
