#pragma once
#include "sim/collectives/schedule.hpp"

namespace ddlsim::coll {

enum class ScheduleFidelity { step, flow };

/// Ring all-reduce of `bytes` per rank over `ranks` ranks (Patarasuk and Yuan 2009; Thakur,
/// Rabenseifner and Gropp 2005): a reduce-scatter then an all-gather, 2(p-1) steps in which every
/// rank r sends bytes/p to (r+1) mod p.
/// Cost on a contention-free network with per-hop latency alpha and bandwidth B:
///   T = 2(p-1) * (alpha + bytes / (p * B));  each rank sends 2(p-1)/p * bytes.
/// (The gamma term, the reduction arithmetic, is not charged here.)
/// `step`: 2(p-1) steps of p transfers. `flow`: one step of p transfers of 2(p-1)/p * bytes, each
/// standing for 2(p-1) messages, so the executor's latency charge gives the same T.
/// p = 1 gives an empty schedule. Throws std::invalid_argument for ranks == 0 or bytes < 0.
Schedule ring_allreduce(Rank ranks, double bytes, ScheduleFidelity fidelity);

}  // namespace ddlsim::coll
