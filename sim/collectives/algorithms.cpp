#include "sim/collectives/algorithms.hpp"

#include "sim/collectives/building_blocks.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace ddlsim::coll {

namespace {

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
template <class Body> Schedule with_extra_ranks(Rank p, double bytes, Body body)
{
  Schedule s(p);
  if (p == 1)
    return s;
  const Rank q = floor_pow2(p), extra = p - q;
  if (extra > 0) {
    std::vector<Transfer> in;
    for (Rank r = 0; r < 2 * extra; r += 2)
      in.push_back({r, r + 1, bytes, 1, bytes});
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

namespace {
Schedule ring_pass(Rank p, double bytes, bool reduce)
{
  check(p, bytes);
  Schedule s(p);
  for (Rank k = 0; p > 1 && k < p - 1; ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + 1) % p, bytes / p, 1, reduce ? bytes / p : 0});
    s.add_step(std::move(t));
  }
  return s;
}

}  // namespace

Schedule ring_reduce_scatter(Rank p, double bytes)
{
  return ring_pass(p, bytes, true);
}
Schedule ring_allgather(Rank p, double bytes)
{
  return ring_pass(p, bytes, false);
}

Schedule ring_pass_flows(Rank p, double bytes, bool reduce)
{
  check(p, bytes);
  Schedule s(p);
  if (p == 1)
    return s;
  std::vector<Transfer> t;
  for (Rank r = 0; r < p; ++r)
    t.push_back({r, (r + 1) % p, bytes / p * (p - 1), p - 1, reduce ? bytes / p * (p - 1) : 0});
  s.add_step(std::move(t));
  return s;
}

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
      t.push_back({r + (Rank(1) << k), r, bytes, 1, bytes});
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
        t.push_back({core[i], core[i ^ mask], bytes, 1, bytes});
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
        t.push_back({core[i], core[i ^ mask], chunk, 1, chunk});
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

namespace {
void check_alltoallv(Rank p, const std::vector<double>& bytes)
{
  if (p == 0 || bytes.size() != std::size_t(p) * p)
    throw std::invalid_argument("an all-to-allv needs a p x p matrix of byte counts");
  for (double b : bytes)
    if (!(b >= 0))
      throw std::invalid_argument("an all-to-allv's byte counts must not be negative");
}
}  // namespace

Schedule pairwise_alltoallv(Rank p, const std::vector<double>& bytes)
{
  check_alltoallv(p, bytes);
  Schedule s(p);
  for (Rank k = 1; k < p; ++k) {
    std::vector<Transfer> t;
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + k) % p, bytes[std::size_t(r) * p + (r + k) % p], 1});
    s.add_step(std::move(t));
  }
  return s;
}

Schedule direct_alltoallv(Rank p, const std::vector<double>& bytes)
{
  check_alltoallv(p, bytes);
  Schedule s(p);
  std::vector<Transfer> t;
  for (Rank r = 0; r < p; ++r)
    for (Rank d = 0; d < p; ++d)
      if (d != r && bytes[std::size_t(r) * p + d] > 0)
        t.push_back({r, d, bytes[std::size_t(r) * p + d], 1});
  if (!t.empty())
    s.add_step(std::move(t));
  return s;
}

Schedule ps_allreduce(Rank p, Rank servers, double bytes)
{
  check(p, bytes);
  if (servers == 0 || servers > p)
    throw std::invalid_argument("a parameter server all-reduce needs between 1 and p servers");
  Schedule s(p);
  if (p == 1)
    return s;
  std::vector<Rank> server(servers);
  for (Rank j = 0; j < servers; ++j)
    server[j] = static_cast<Rank>(std::uint64_t(j) * p / servers);
  std::vector<Transfer> push, pull;
  for (Rank r = 0; r < p; ++r)
    for (Rank sv : server)
      if (sv != r) {
        push.push_back({r, sv, bytes / servers, 1, bytes / servers});
        pull.push_back({sv, r, bytes / servers, 1});
      }
  s.add_step(std::move(push));
  s.add_step(std::move(pull));
  return s;
}

Schedule ps_push_pull(Rank p, const std::vector<Rank>& shares, double bytes)
{
  check(p, bytes);
  if (shares.empty())
    throw std::invalid_argument("a parameter server needs at least one server");
  const auto servers = static_cast<Rank>(shares.size());
  Schedule s(p + servers);
  std::vector<Transfer> push, pull;
  const double shard = bytes / servers;
  for (Rank w = 0; w < p; ++w)
    for (Rank j = 0; j < servers; ++j)
      if (shares[j] != w) {
        push.push_back({w, p + j, shard, 1, shard});
        pull.push_back({p + j, w, shard, 1});
      }
  s.add_step(std::move(push));
  s.add_step(std::move(pull));
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

}  // namespace ddlsim::coll
