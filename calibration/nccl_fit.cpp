#include "calibration/nccl_fit.hpp"

#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

using namespace ddlsim::scenario;

namespace ddlsim::calib {

const std::vector<std::string_view>& nccl_op_names()
{
  static const std::vector<std::string_view> names{"all_reduce", "all_gather", "reduce_scatter", "broadcast",
                                                   "reduce",     "alltoall",   "sendrecv"};
  return names;
}

double bus_factor(NcclOp op, int n)
{
  switch (op) {
  case NcclOp::all_reduce: return 2.0 * (n - 1) / n;
  case NcclOp::all_gather:
  case NcclOp::reduce_scatter:
  case NcclOp::alltoall: return double(n - 1) / n;
  case NcclOp::broadcast:
  case NcclOp::reduce:
  case NcclOp::sendrecv: return 1.0;
  }
  return 1.0;
}

int ring_steps(NcclOp op, int n)
{
  switch (op) {
  case NcclOp::all_reduce: return 2 * (n - 1);
  case NcclOp::all_gather:
  case NcclOp::reduce_scatter: return n - 1;
  default: return 1;
  }
}

namespace {

std::vector<std::string> tokens(std::string_view line)
{
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string t; in >> t;)
    out.push_back(t);
  return out;
}

/// A non-negative number, or -1 when `text` is not one.
double number(const std::string& text)
{
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return end == text.c_str() || *end != '\0' || !std::isfinite(v) || v < 0 ? -1 : v;
}

}  // namespace

NcclLog parse_nccl_tests(std::string_view text, const std::string& file)
{
  NcclLog log{file, 0, 0, {}};
  const auto fail = [&](int line, const std::string& message) {
    throw ScenarioError(fmt::format("{}:{}: {}", file, line, message));
  };
  std::set<std::string> hosts;
  std::vector<std::string> header;
  std::size_t size_col = 0, time_col = 0, in_place_col = 0;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    // mpirun --tag-output prefixes every line with "[1,0]<stdout>:".
    if (const std::size_t tag = line.find("]<stdout>:"); !line.empty() && line.front() == '[' && tag != line.npos)
      line.remove_prefix(tag + 10);
    const auto t = tokens(line);
    if (t.empty())
      continue;
    if (t[0].starts_with('#')) {
      std::vector<std::string> words = t;
      if (words[0] == "#")
        words.erase(words.begin());
      else
        words[0] = words[0].substr(1);
      // "#  Rank  0 Group  0 Pid  1234 on  host1 device  0 [0x18] NVIDIA H100 80GB HBM3"
      if (!words.empty() && words[0] == "Rank") {
        const auto on = std::find(words.begin(), words.end(), "on");
        if (on != words.end() && on + 1 != words.end()) {
          ++log.ranks;
          hosts.insert(*(on + 1));
        }
      }
      const auto size_it = std::find(words.begin(), words.end(), "size");
      const auto time_it = std::find(words.begin(), words.end(), "time");
      if (header.empty() && size_it != words.end() && time_it != words.end()) {
        header = words;
        size_col = std::size_t(size_it - words.begin());
        time_col = std::size_t(time_it - words.begin());
        const auto second = std::find(time_it + 1, words.end(), "time");
        in_place_col = second == words.end() ? 0 : std::size_t(second - words.begin());
      }
      continue;
    }
    const bool numeric = std::isdigit(static_cast<unsigned char>(t[0][0])) != 0;
    if (!numeric && (header.empty() || line.find("NCCL ") != line.npos))
      continue;  // NCCL's own INFO / WARN / version lines, printed around the table
    if (!numeric)
      fail(line_no, fmt::format("found '{}'; expected a data row (size, count, type, ..., time, algbw, busbw) or a "
                                "'#' line",
                                std::string(line)));
    if (header.empty())
      fail(line_no, "found a data row before the column header (\"#  size  count  type  redop  root  time  algbw  "
                    "busbw  #wrong  time ...\"); expected nccl-tests output");
    if (t.size() != header.size())
      fail(line_no, fmt::format("found {} columns; expected {} as the header names ({})", t.size(), header.size(),
                                fmt::join(header, " ")));
    const double bytes = number(t[size_col]);
    if (bytes < 0)
      fail(line_no, fmt::format("found size '{}'; expected a number of bytes", t[size_col]));
    const double oop = number(t[time_col]);
    if (oop <= 0)
      fail(line_no,
           fmt::format("found out-of-place time '{}'; expected a positive number of microseconds", t[time_col]));
    double ip = 0;
    if (in_place_col > 0) {
      ip = number(t[in_place_col]);
      if (ip <= 0)
        fail(line_no,
             fmt::format("found in-place time '{}'; expected a positive number of microseconds", t[in_place_col]));
    }
    log.rows.push_back({bytes, oop * 1e-6, ip * 1e-6, line_no});
  }
  if (log.rows.empty())
    throw ScenarioError(fmt::format("{}: no data rows; expected nccl-tests output with a column header and one row per "
                                    "size",
                                    file));
  log.hosts = int(hosts.size());
  return log;
}

AlphaBetaFit fit_alpha_beta(const NcclLog& log, NcclOp op, int ranks, bool in_place)
{
  if (ranks < 2)
    throw ScenarioError(fmt::format("{}: expected at least 2 ranks for a collective; found {}", log.file, ranks));
  std::set<double> sizes;
  for (const NcclRow& r : log.rows)
    sizes.insert(r.bytes);
  if (sizes.size() < 2)
    throw ScenarioError(fmt::format("{}: expected rows of at least two sizes to fit latency and bandwidth", log.file));
  // Weighted least squares of t = a + b S with weights 1/t^2 (relative error).
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const NcclRow& r : log.rows) {
    const double t = in_place ? r.in_place_seconds : r.out_of_place_seconds;
    if (t <= 0)
      throw ScenarioError(fmt::format("{}:{}: no in-place time to fit", log.file, r.line));
    const double w = 1 / (t * t);
    sw += w;
    sx += w * r.bytes;
    sy += w * t;
    sxx += w * r.bytes * r.bytes;
    sxy += w * r.bytes * t;
  }
  const double det = sw * sxx - sx * sx;
  const double b = (sw * sxy - sx * sy) / det;
  const double a = (sy - b * sx) / sw;
  if (!(b > 0))
    throw ScenarioError(fmt::format("{}: the times do not grow with the size (fitted slope {:g} s/B); expected a "
                                    "collective's times over growing sizes",
                                    log.file, b));
  AlphaBetaFit fit{std::max(a, 0.0), bus_factor(op, ranks) / b, 0, int(log.rows.size())};
  for (const NcclRow& r : log.rows) {
    const double t = in_place ? r.in_place_seconds : r.out_of_place_seconds;
    fit.max_relative_residual = std::max(fit.max_relative_residual, std::abs(a + b * r.bytes - t) / t);
  }
  return fit;
}

CalibratedLink load_calibrated_link(const std::string& path, const std::string& scope)
{
  const nlohmann::json doc = read_json_file(path);
  const JsonNode root(doc, path, "");
  if (!root.is_object() || !root.has("kind") || !root.child("kind").is_string() ||
      root.string("kind") != "network_calibration")
    root.fail("expected a network calibration (\"kind\": \"network_calibration\", written by ddlsim calibrate "
              "--from-nccl-tests)");
  root.allow_keys({"schema", "kind", "source", "date", "command", "scopes"});
  if (root.integer("schema", 1) != 1)
    root.child("schema").fail("expected 1 (the only network calibration schema this ddlsim reads)");
  const JsonNode scopes = root.child("scopes");
  scopes.allow_keys({"intra_node", "inter_node"});
  if (!scopes.has(scope))
    scopes.fail(fmt::format("no '{}' scope; expected one fitted from a log of that scope", scope));
  const JsonNode s = scopes.child(scope);
  s.allow_keys({"bandwidth", "latency", "fit"});
  return {s.quantity("bandwidth", Dimension::bytes_per_s, Bound::positive),
          s.quantity("latency", Dimension::seconds, Bound::non_negative)};
}

}  // namespace ddlsim::calib
