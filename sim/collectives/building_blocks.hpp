#pragma once
// Inside sim/collectives: what several algorithm files build their schedules from.
#include "sim/collectives/schedule.hpp"

namespace ddlsim::coll {

/// Throws std::invalid_argument for no ranks or a negative size.
void check(Rank p, double bytes);
/// The largest power of two at most p (p >= 1).
Rank floor_pow2(Rank p);
/// The least k with 2^k >= p.
Rank ceil_log2(Rank p);
/// Ring reduce-scatter (`reduce`: the receiver sums) or all-gather of `shard`-byte pieces inside
/// each of `groups` groups of `c` consecutive ranks: c-1 steps, or one step of flows standing for
/// them (`flows`). Nothing for c = 1.
void add_group_rings(Schedule& s, Rank groups, Rank c, double shard, bool reduce, bool flows);

}  // namespace ddlsim::coll
