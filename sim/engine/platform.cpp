#include "sim/engine/platform.hpp"

#include "sim/scenario/error.hpp"

#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>
#include <xbt/log.h>

#include <string>

using namespace ddlsim::scenario;

namespace sg4 = simgrid::s4u;
using simgrid::kernel::routing::NetPoint;
using simgrid::kernel::routing::Route;

namespace ddlsim::engine {

namespace {
constexpr double MAX_MIN_BYTE_SCALE = 65536.0;
// GPU hosts never compute in SimGrid (compute is charged as timed tasks); any positive speed works.
constexpr double HOST_SPEED_FLOPS = 1e9;
}  // namespace

sg4::Engine& create_engine(Sharing sharing)
{
  static std::unique_ptr<sg4::Engine> engine;
  if (engine)
    throw SimulationError("a SimGrid engine already exists in this process (SimGrid 3.32 allows one)");
  xbt_log_control_set("root.thres:critical");
  static int argc = 1;
  static char name[] = "ddlsim";
  static char* argv[] = {name, nullptr};
  engine = std::make_unique<sg4::Engine>(&argc, argv);
  // SimGrid 3.32 ends together the actions whose ends lie within surf/precision (1e-9 s by
  // default): transfers of a few bytes that differ by under a nanosecond would all end with the
  // first, and a step that waits for the slowest of them would end early. 1e-13 s keeps them apart.
  sg4::Engine::set_config("surf/precision:1e-13");
  switch (sharing) {
  case Sharing::max_min:
    sg4::Engine::set_config("network/model:CM02");
    sg4::Engine::set_config("network/crosstraffic:0");
    sg4::Engine::set_config("network/TCP-gamma:0");
    break;
  case Sharing::tcp: sg4::Engine::set_config("network/model:LV08"); break;
  case Sharing::ib: sg4::Engine::set_config("network/model:IB"); break;
  }
  return *engine;
}

/// A SimGrid routing zone whose routes come from the topology's routing function.
class TopologyZone : public simgrid::kernel::routing::NetZoneImpl {
public:
  TopologyZone(const std::string& name, const topo::Topology& topology) : NetZoneImpl(name), topology_(topology) {}

  void add_link_pair(simgrid::kernel::resource::StandardLinkImpl* forward,
                     simgrid::kernel::resource::StandardLinkImpl* backward)
  {
    links_.push_back(forward);
    links_.push_back(backward);
  }

protected:
  void get_local_route(const NetPoint* src, const NetPoint* dst, Route* into, double* latency) override
  {
    hops_.clear();
    topology_.route(static_cast<std::uint32_t>(src->id()), static_cast<std::uint32_t>(dst->id()), hops_);
    for (const topo::Hop& h : hops_) {
      into->link_list_.push_back(links_[2 * h.edge + (h.forward ? 0 : 1)]);
      if (latency)
        *latency += topology_.link(h.edge).latency_seconds;
    }
  }

private:
  const topo::Topology& topology_;
  std::vector<simgrid::kernel::resource::StandardLinkImpl*> links_;
  std::vector<topo::Hop> hops_;
};

Platform::Platform(const topo::Topology& topology, Sharing sharing)
    : topology_(topology), byte_scale_(sharing == Sharing::max_min ? MAX_MIN_BYTE_SCALE : 1.0)
{
  auto* zone = new TopologyZone("ddlsim", topology);  // owned by the engine from here on
  sg4::NetZone* iface = zone->get_iface();
  hosts_.reserve(topology.host_count());
  for (std::uint32_t r = 0; r < topology.host_count(); ++r) {
    sg4::Host* h = iface->create_host(topology.graph()[topology.host(r)].name, HOST_SPEED_FLOPS)->seal();
    if (h->get_netpoint()->id() != r)
      throw SimulationError("platform: host netpoints are not in rank order");
    hosts_.push_back(h);
  }
  for (std::uint32_t e = 0; e < topology.link_count(); ++e) {
    const topo::EdgeProps& l = topology.link(e);
    auto make = [&](const char* direction) {
      return iface->create_link(l.name + direction, l.bandwidth_bytes_per_s * byte_scale_)
          ->set_latency(l.latency_seconds)
          ->set_sharing_policy(sg4::Link::SharingPolicy::SHARED)
          ->seal();
    };
    sg4::Link* forward = make(">");
    sg4::Link* backward = make("<");
    zone->add_link_pair(forward->get_impl(), backward->get_impl());
  }
  iface->seal();
}

}  // namespace ddlsim::engine
