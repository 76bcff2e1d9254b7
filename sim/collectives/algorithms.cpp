#include "sim/collectives/algorithms.hpp"

#include <map>
#include <stdexcept>
#include <utility>

namespace ddlsim::coll {

namespace {

void check(Rank p, double bytes)
{
  if (p == 0)
    throw std::invalid_argument("a collective needs at least one rank");
  if (!(bytes >= 0))
    throw std::invalid_argument("a collective cannot move a negative size");
}

Rank floor_pow2(Rank p)
{
  Rank q = 1;
  while (q * 2 <= p)
    q *= 2;
  return q;
}

Rank ceil_log2(Rank p)
{
  Rank k = 0;
  while ((Rank(1) << k) < p)
    ++k;
  return k;
}

/// The ranks that take part in the power-of-two core: the odd ones of the first 2r, then the rest.
/// core[i] is the real rank of core position i.
std::vector<Rank> core_ranks(Rank p, Rank q)
{
  const Rank extra = p - q;
  std::vector<Rank> core;
  for (Rank r = 0; r < p; ++r)
    if (r >= 2 * extra || r % 2 == 1)
      core.push_back(r);
  return core;
}

/// Builds an all-reduce on p ranks around a power-of-two core `body`, which adds its steps given
/// the core's real ranks.
template <class Body>
Schedule with_extra_ranks(Rank p, double bytes, Body body)
{
  Schedule s(p);
  if (p == 1)
    return s;
  const Rank q = floor_pow2(p), extra = p - q;
  if (extra > 0) {
    std::vector<Transfer> in;
    for (Rank r = 0; r < 2 * extra; r += 2)
      in.push_back({r, r + 1, bytes, 1});
    s.add_step(std::move(in));
  }
  body(s, core_ranks(p, q));
  if (extra > 0) {
    std::vector<Transfer> out;
    for (Rank r = 0; r < 2 * extra; r += 2)
      out.push_back({r + 1, r, bytes, 1});
    s.add_step(std::move(out));
  }
  return s;
}

}  // namespace

Schedule ring_reduce_scatter(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = 0; p > 1 && k < p - 1; ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + 1) % p, bytes / p, 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule ring_allgather(Rank p, double bytes) { return ring_reduce_scatter(p, bytes); }

Schedule binomial_broadcast(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = 0; k < ceil_log2(p); ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < (Rank(1) << k) && r + (Rank(1) << k) < p; ++r)
      t.push_back({r, r + (Rank(1) << k), bytes, 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule binomial_reduce(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = ceil_log2(p); k-- > 0;) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < (Rank(1) << k) && r + (Rank(1) << k) < p; ++r)
      t.push_back({r + (Rank(1) << k), r, bytes, 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule recursive_doubling_allreduce(Rank p, double bytes)
{
  check(p, bytes);
  return with_extra_ranks(p, bytes, [bytes](Schedule& s, const std::vector<Rank>& core) {
    const auto q = static_cast<Rank>(core.size());
    for (Rank mask = 1; mask < q; mask *= 2) {
      std::vector<Transfer> t;
      for (Rank i = 0; i < q; ++i)
        t.push_back({core[i], core[i ^ mask], bytes, 1});
      s.add_step(std::move(t));
    }
  });
}

Schedule halving_doubling_allreduce(Rank p, double bytes)
{
  check(p, bytes);
  return with_extra_ranks(p, bytes, [bytes](Schedule& s, const std::vector<Rank>& core) {
    const auto q = static_cast<Rank>(core.size());
    double chunk = bytes;
    std::vector<double> sizes;
    for (Rank mask = q / 2; mask >= 1; mask /= 2) {  // recursive halving: reduce-scatter
      chunk /= 2;
      sizes.push_back(chunk);
      std::vector<Transfer> t;
      for (Rank i = 0; i < q; ++i)
        t.push_back({core[i], core[i ^ mask], chunk, 1});
      s.add_step(std::move(t));
    }
    Rank mask = 1;
    for (auto it = sizes.rbegin(); it != sizes.rend(); ++it, mask *= 2) {  // recursive doubling: all-gather
      std::vector<Transfer> t;
      for (Rank i = 0; i < q; ++i)
        t.push_back({core[i], core[i ^ mask], *it, 1});
      s.add_step(std::move(t));
    }
  });
}

Schedule pairwise_alltoall(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = 1; k < p; ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + k) % p, bytes / p, 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule direct_alltoall(Rank p, double bytes)
{
  check(p, bytes);
  Schedule s(p);
  if (p == 1)
    return s;
  std::vector<Transfer> t;
  for (Rank r = 0; r < p; ++r)
    for (Rank d = 0; d < p; ++d)
      if (d != r)
        t.push_back({r, d, bytes / p, 1});
  s.add_step(std::move(t));
  return s;
}

Schedule send_recv(Rank p, double bytes)
{
  check(p, bytes);
  if (p < 2)
    throw std::invalid_argument("send/recv needs two ranks");
  Schedule s(p);
  s.add_step({{0, 1, bytes, 1}});
  return s;
}

Schedule dissemination_barrier(Rank p)
{
  check(p, 0);
  Schedule s(p);
  for (Rank k = 0; k < ceil_log2(p); ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + (Rank(1) << k)) % p, 0, 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule as_flows(const Schedule& steps)
{
  Schedule flows(steps.ranks());
  if (steps.steps() == 0)
    return flows;
  std::map<std::pair<Rank, Rank>, Transfer> merged;
  for (const Transfer& t : steps.step(0))
    merged[{t.src, t.dst}] = {t.src, t.dst, 0, 0};
  for (std::size_t k = 0; k < steps.steps(); ++k) {
    if (steps.step(k).size() != merged.size())
      throw std::invalid_argument("flow fidelity merges steps over the same pairs only");
    for (const Transfer& t : steps.step(k)) {
      const auto it = merged.find({t.src, t.dst});
      if (it == merged.end())
        throw std::invalid_argument("flow fidelity merges steps over the same pairs only");
      it->second.bytes += t.bytes;
      it->second.messages += t.messages;
    }
  }
  std::vector<Transfer> out;
  for (const auto& [pair, t] : merged)
    out.push_back(t);
  flows.add_step(std::move(out));
  return flows;
}

}  // namespace ddlsim::coll
