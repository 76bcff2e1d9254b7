#include "topologies/metrics.hpp"

#include <boost/graph/push_relabel_max_flow.hpp>

#include <algorithm>

namespace ddlsim::topo {

double bisection_bandwidth(const Topology& t)
{
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, double,
                      boost::property<boost::edge_residual_capacity_t, double,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const std::size_t n = boost::num_vertices(t.graph());
  FlowGraph g(n + 2);
  auto capacity = boost::get(boost::edge_capacity, g);
  auto reverse = boost::get(boost::edge_reverse, g);
  // Each direction of a full-duplex link is an arc of its bandwidth; its paired reverse arc
  // (capacity 0 unless the link adds it) carries the residual.
  auto add_arc = [&](std::size_t a, std::size_t b, double cap) {
    const auto e = boost::add_edge(a, b, g).first;
    const auto r = boost::add_edge(b, a, g).first;
    capacity[e] = cap;
    capacity[r] = 0;
    reverse[e] = r;
    reverse[r] = e;
  };
  for (std::uint32_t id = 0; id < t.link_count(); ++id) {
    const EdgeProps& l = t.link(id);
    const Vertex u = t.link_source(id), v = t.link_target(id);
    add_arc(u, v, l.bandwidth_bytes_per_s);
    add_arc(v, u, l.bandwidth_bytes_per_s);
  }
  const std::size_t source = n, sink = n + 1;
  const std::size_t half = t.gpu_count() / 2;
  double infinite = 0;
  for (std::uint32_t id = 0; id < t.link_count(); ++id)
    infinite += t.link(id).bandwidth_bytes_per_s;
  for (std::uint32_t r = 0; r < t.gpu_count(); ++r) {
    if (r < half)
      add_arc(source, t.gpu(r), infinite);
    else if (r < 2 * half)
      add_arc(t.gpu(r), sink, infinite);
  }
  return boost::push_relabel_max_flow(g, source, sink);
}

TopologyMetrics measure(const Topology& t, std::size_t exact_diameter_gpus)
{
  TopologyMetrics m;
  m.gpus = t.gpu_count();
  m.switches = boost::num_vertices(t.graph()) - m.gpus;
  m.links = t.link_count();
  double nic_bandwidth = 0;
  for (std::uint32_t id = 0; id < t.link_count(); ++id) {
    const EdgeProps& l = t.link(id);
    ++m.links_per_tier[l.tier];
    if (l.tier == Tier::nic)
      nic_bandwidth += l.bandwidth_bytes_per_s;
  }
  m.injection_bytes_per_s = m.gpus ? nic_bandwidth / m.gpus : 0;
  m.bisection_bytes_per_s = m.gpus > 1 ? bisection_bandwidth(t) : 0;

  const auto n = static_cast<std::uint32_t>(m.gpus);
  std::vector<std::uint32_t> sources;
  if (m.gpus <= exact_diameter_gpus) {
    for (std::uint32_t s = 0; s < n; ++s)
      sources.push_back(s);
  } else {
    m.diameter_exact = false;
    const std::uint32_t step = std::max<std::uint32_t>(1, n / 64);
    for (std::uint32_t s = 0; s < n; s += step)
      sources.push_back(s);
    sources.push_back(n - 1);
  }
  m.diameter_sources = sources.size();
  std::vector<Hop> hops;
  for (std::uint32_t s : sources)
    for (std::uint32_t d = 0; d < n; ++d) {
      hops.clear();
      t.route(s, d, hops);
      m.diameter_links = std::max(m.diameter_links, hops.size());
    }
  return m;
}

void write_dot(const Topology& t, std::ostream& out)
{
  out << "graph ddlsim {\n  node [fontsize=10];\n";
  const auto& g = t.graph();
  for (auto [v, end] = boost::vertices(g); v != end; ++v)
    out << "  v" << *v << " [label=\"" << g[*v].name
        << "\", shape=" << (g[*v].kind == VertexKind::gpu ? "box" : "ellipse") << "];\n";
  for (std::uint32_t id = 0; id < t.link_count(); ++id) {
    const EdgeProps& l = t.link(id);
    out << "  v" << t.link_source(id) << " -- v" << t.link_target(id) << " [label=\"" << to_string(l.tier) << " "
        << l.bandwidth_bytes_per_s / 1e9 << " GB/s\"];\n";
  }
  out << "}\n";
}

}  // namespace ddlsim::topo
