#include "sim/report/text.hpp"

#include <fmt/format.h>

namespace ddlsim::report {

std::string seconds_text(double s)
{
  if (s >= 1)
    return fmt::format("{:.3f} s", s);
  if (s >= 1e-3)
    return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

std::string duration_text(double s)
{
  if (s >= 3600)
    return fmt::format("{:.2f} h", s / 3600);
  if (s >= 60)
    return fmt::format("{:.1f} min", s / 60);
  return seconds_text(s);
}

std::string bytes_text(double b)
{
  if (b >= 1e9)
    return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6)
    return fmt::format("{:.2f} MB", b / 1e6);
  if (b >= 1e3)
    return fmt::format("{:.2f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

std::string rate_text(double bytes_per_s)
{
  return fmt::format("{:.2f} GB/s", bytes_per_s / 1e9);
}

}  // namespace ddlsim::report
