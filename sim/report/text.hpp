#pragma once
// Numbers as the readable summary writes them: every one with its unit.
#include <string>

namespace ddlsim::report {

std::string seconds_text(double s);         ///< "1.234 s", "12.345 ms", "7.000 us"
std::string duration_text(double s);        ///< a long job's durations: "2.50 h", "10.0 min", else seconds_text
std::string bytes_text(double b);           ///< "1.50 GB", "2.00 MB", "3.00 kB", "12 B" (decimal units)
std::string rate_text(double bytes_per_s);  ///< "25.00 GB/s"

}  // namespace ddlsim::report
