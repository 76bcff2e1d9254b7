#include "sim/scenario/units.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

namespace ddlsim::scenario {

namespace {

struct Unit {
  std::string_view suffix;
  double factor;
};

constexpr double KI = 1024.0, MI = KI * KI, GI = MI * KI, TI = GI * KI;

// Bytes.
constexpr std::array BYTE_UNITS{
    Unit{"B", 1},     Unit{"kB", 1e3}, Unit{"KB", 1e3}, Unit{"MB", 1e6}, Unit{"GB", 1e9}, Unit{"TB", 1e12},
    Unit{"PB", 1e15}, Unit{"KiB", KI}, Unit{"MiB", MI}, Unit{"GiB", GI}, Unit{"TiB", TI},
};
// Bits per second ("bps") and bytes per second ("Bps"), also written with "/s".
constexpr std::array RATE_UNITS{
    Unit{"bps", 1.0 / 8},   Unit{"kbps", 1e3 / 8}, Unit{"Kbps", 1e3 / 8}, Unit{"Mbps", 1e6 / 8}, Unit{"Gbps", 1e9 / 8},
    Unit{"Tbps", 1e12 / 8}, Unit{"b/s", 1.0 / 8},  Unit{"kb/s", 1e3 / 8}, Unit{"Mb/s", 1e6 / 8}, Unit{"Gb/s", 1e9 / 8},
    Unit{"Tb/s", 1e12 / 8}, Unit{"Bps", 1},        Unit{"kBps", 1e3},     Unit{"KBps", 1e3},     Unit{"MBps", 1e6},
    Unit{"GBps", 1e9},      Unit{"TBps", 1e12},    Unit{"B/s", 1},        Unit{"kB/s", 1e3},     Unit{"MB/s", 1e6},
    Unit{"GB/s", 1e9},      Unit{"TB/s", 1e12},    Unit{"KiBps", KI},     Unit{"MiBps", MI},     Unit{"GiBps", GI},
    Unit{"TiBps", TI},      Unit{"KiB/s", KI},     Unit{"MiB/s", MI},     Unit{"GiB/s", GI},     Unit{"TiB/s", TI},
};
constexpr std::array TIME_UNITS{
    Unit{"s", 1},     Unit{"ms", 1e-3},  Unit{"us", 1e-6}, Unit{"\u00b5s", 1e-6},
    Unit{"ns", 1e-9}, Unit{"ps", 1e-12}, Unit{"min", 60},  Unit{"h", 3600},
};
constexpr std::array FLOPS_UNITS{
    Unit{"FLOPS", 1},     Unit{"kFLOPS", 1e3}, Unit{"MFLOPS", 1e6},  Unit{"GFLOPS", 1e9},   Unit{"TFLOPS", 1e12},
    Unit{"PFLOPS", 1e15}, Unit{"FLOP/s", 1},   Unit{"GFLOP/s", 1e9}, Unit{"TFLOP/s", 1e12}, Unit{"PFLOP/s", 1e15},
};

template <std::size_t N> std::optional<double> lookup(std::string_view suffix, const std::array<Unit, N>& units)
{
  for (const Unit& u : units)
    if (u.suffix == suffix)
      return u.factor;
  return std::nullopt;
}

}  // namespace

std::string expected_form(Dimension dim)
{
  switch (dim) {
  case Dimension::bytes:
    return "a size with a unit, such as '25MB' or '4MiB' (B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB)";
  case Dimension::bytes_per_s:
    return "a bandwidth with a unit, such as '100Gbps' or '12.5GBps' (bits: bps, kbps, Mbps, Gbps, Tbps; "
           "bytes: Bps, kBps, MBps, GBps, TBps, KiBps, MiBps, GiBps, TiBps; '/s' forms like 'GB/s' too)";
  case Dimension::seconds: return "a duration with a unit, such as '1.5us' or '2ms' (h, min, s, ms, us, ns, ps)";
  case Dimension::flops_per_s:
    return "a compute rate with a unit, such as '15.7TFLOPS' (FLOPS, kFLOPS, MFLOPS, GFLOPS, TFLOPS, PFLOPS)";
  }
  return "";
}

std::optional<double> parse_quantity(std::string_view text, Dimension dim)
{
  double number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+')
    return std::nullopt;
  const auto [ptr, ec] = std::from_chars(begin, end, number, std::chars_format::general);
  if (ec != std::errc{} || ptr == begin)
    return std::nullopt;
  const std::string_view suffix(ptr, static_cast<std::size_t>(end - ptr));
  std::optional<double> factor;
  switch (dim) {
  case Dimension::bytes: factor = lookup(suffix, BYTE_UNITS); break;
  case Dimension::bytes_per_s: factor = lookup(suffix, RATE_UNITS); break;
  case Dimension::seconds: factor = lookup(suffix, TIME_UNITS); break;
  case Dimension::flops_per_s: factor = lookup(suffix, FLOPS_UNITS); break;
  }
  if (!factor)
    return std::nullopt;
  return number * *factor;
}

std::string format_quantity(double value, Dimension dim)
{
  const char* unit = "";
  switch (dim) {
  case Dimension::bytes: unit = "B"; break;
  case Dimension::bytes_per_s: unit = "Bps"; break;
  case Dimension::seconds: unit = "s"; break;
  case Dimension::flops_per_s: unit = "FLOPS"; break;
  }
  return fmt::format("{}{}", value, unit);  // fmt's shortest round-trip representation
}

}  // namespace ddlsim::scenario
