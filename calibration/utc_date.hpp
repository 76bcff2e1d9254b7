#pragma once
// Today's date in UTC as YYYY-MM-DD: the date profiles and calibrations record.
#include <chrono>
#include <ctime>
#include <string>

namespace ddlsim {

inline std::string utc_date()
{
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace ddlsim
