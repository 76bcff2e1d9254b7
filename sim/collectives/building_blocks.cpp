#include "sim/collectives/building_blocks.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

namespace ddlsim::coll {

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

void add_group_rings(Schedule& s, Rank groups, Rank c, double shard, bool reduce, bool flows)
{
  if (c < 2)
    return;
  const Rank steps = flows ? 1 : c - 1, messages = flows ? c - 1 : 1;
  const double bytes = shard * messages;
  for (Rank k = 0; k < steps; ++k) {
    std::vector<Transfer> t;
    for (Rank n = 0; n < groups; ++n)
      for (Rank i = 0; i < c; ++i)
        t.push_back({n * c + i, n * c + (i + 1) % c, bytes, messages, reduce ? bytes : 0});
    s.add_step(std::move(t));
  }
}

}  // namespace ddlsim::coll
