#include "sim/collectives/ring.hpp"

#include <stdexcept>

namespace ddlsim::coll {

Schedule ring_allreduce(Rank p, double bytes, ScheduleFidelity fidelity)
{
  if (p == 0)
    throw std::invalid_argument("ring all-reduce needs at least one rank");
  if (!(bytes >= 0))
    throw std::invalid_argument("ring all-reduce: negative size");
  Schedule s(p);
  if (p == 1)
    return s;
  const double chunk = bytes / p;
  const std::uint32_t steps = 2 * (p - 1);
  if (fidelity == ScheduleFidelity::step) {
    for (std::uint32_t k = 0; k < steps; ++k) {
      std::vector<Transfer> t;
      t.reserve(p);
      for (Rank r = 0; r < p; ++r)
        t.push_back({r, (r + 1) % p, chunk, 1, k < p - 1 ? chunk : 0});  // reduce-scatter, then all-gather
      s.add_step(std::move(t));
    }
  } else {
    std::vector<Transfer> t;
    t.reserve(p);
    for (Rank r = 0; r < p; ++r)
      t.push_back({r, (r + 1) % p, chunk * steps, steps, chunk * (p - 1)});
    s.add_step(std::move(t));
  }
  return s;
}

}  // namespace ddlsim::coll
