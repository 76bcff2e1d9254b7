#include "sim/collectives/schedule.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ddlsim::coll {

void Schedule::add_step(std::vector<Transfer> transfers)
{
  for (const Transfer& t : transfers) {
    if (t.src >= ranks_ || t.dst >= ranks_)
      throw std::invalid_argument("schedule: rank out of range (" + std::to_string(t.src) + " -> " +
                                  std::to_string(t.dst) + ", ranks " + std::to_string(ranks_) + ")");
    if (t.src == t.dst)
      throw std::invalid_argument("schedule: a rank cannot send to itself");
    if (!(t.bytes >= 0))
      throw std::invalid_argument("schedule: negative transfer size");
    if (t.messages == 0)
      throw std::invalid_argument("schedule: a transfer stands for at least one message");
  }
  std::stable_sort(transfers.begin(), transfers.end(),
                   [](const Transfer& a, const Transfer& b) { return a.src < b.src; });
  transfers_.insert(transfers_.end(), transfers.begin(), transfers.end());
  step_begin_.push_back(transfers_.size());
}

double Schedule::bytes_sent_by(Rank rank) const
{
  double bytes = 0;
  for (const Transfer& t : transfers_)
    bytes += t.src == rank ? t.bytes : 0;
  return bytes;
}

double Schedule::bytes_received_by(Rank rank) const
{
  double bytes = 0;
  for (const Transfer& t : transfers_)
    bytes += t.dst == rank ? t.bytes : 0;
  return bytes;
}

std::size_t Schedule::hash() const
{
  // FNV-1a over the fields; bytes enter by value (equal doubles hash alike).
  std::uint64_t h = 1469598103934665603ULL;
  const auto mix = [&h](std::uint64_t v) {
    h = (h ^ v) * 1099511628211ULL;
  };
  const auto bits = [](double d) {
    std::uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    return u;
  };
  mix(ranks_);
  for (std::size_t b : step_begin_)
    mix(b);
  for (const Transfer& t : transfers_) {
    mix(t.src);
    mix(t.dst);
    mix(bits(t.bytes));
    mix(t.messages);
    mix(bits(t.reduce_bytes));
  }
  return static_cast<std::size_t>(h);
}

}  // namespace ddlsim::coll
