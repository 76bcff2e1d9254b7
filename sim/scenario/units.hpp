#pragma once
// Quantities with units, as the scenario format writes them: "400Gbps", "12.5GBps", "1.5us",
// "25MB", "4MiB", "120TFLOPS". SI prefixes are powers of 10, binary ones (Ki, Mi, Gi, Ti) powers
// of 2; a lowercase "b" is a bit, an uppercase "B" a byte. Parsing happens here and nowhere else.
#include <optional>
#include <string>
#include <string_view>

namespace ddlsim::scenario {

enum class Dimension { bytes, bytes_per_s, seconds, flops_per_s };

/// A description of the accepted forms, for error messages: "a size such as '25MB' or '4MiB' (...)".
std::string expected_form(Dimension dim);

/// The value in base units (bytes, bytes/s, seconds, flop/s), or nullopt when `text` is not a
/// number followed by a unit of `dim`. Negative values parse; the caller checks ranges.
std::optional<double> parse_quantity(std::string_view text, Dimension dim);

/// Canonical text of a value in base units, exact when parsed back: "2.5e+10Bps".
std::string format_quantity(double value, Dimension dim);

}  // namespace ddlsim::scenario
