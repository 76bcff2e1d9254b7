#pragma once
// Network calibration from nccl-tests output (github.com/NVIDIA/nccl-tests): the latency and
// bandwidth of a scope (intra-node, inter-node) fitted from a collective's time over message sizes,
// and the calibration file scenarios reference as a link ("link": "net.json").
//
// Fit: t(S) = a + S f(n) / B, with f the nccl-tests bus factor of the operation (all_reduce
// 2(n-1)/n; all_gather, reduce_scatter, alltoall (n-1)/n; broadcast, reduce, sendrecv 1) so B is
// the bus bandwidth; least squares on relative error (weights 1/t^2: sizes span decades). The
// simulator's ring runs 2(n-1) steps for all_reduce and n-1 for all_gather and reduce_scatter, so
// a step's latency is a / steps; a step crosses two links (GPU or NIC to switch, switch to GPU or
// NIC), so a link's latency is half of it and its bandwidth B.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ddlsim::calib {

enum class NcclOp { all_reduce, all_gather, reduce_scatter, broadcast, reduce, alltoall, sendrecv };
/// Names as nccl-tests' binaries spell them (all_reduce_perf -> "all_reduce"), in enum order.
const std::vector<std::string_view>& nccl_op_names();

/// nccl-tests' bus bandwidth factor: busbw = algbw x factor.
double bus_factor(NcclOp op, int ranks);
/// Ring steps of the operation in the simulator (all_reduce 2(n-1), all_gather and reduce_scatter
/// n-1), 1 for the others.
int ring_steps(NcclOp op, int ranks);

struct NcclRow {
  double bytes;
  double out_of_place_seconds;
  double in_place_seconds;  ///< 0 when the log has no in-place column
  int line;                 ///< 1-based line of the log
};

struct NcclLog {
  std::string file;
  int ranks = 0;  ///< from the "#  Rank" lines (0 when the log has none)
  int hosts = 0;  ///< distinct hosts of those lines
  std::vector<NcclRow> rows;
};

/// Parses nccl-tests output: '#' lines are comments except the rank lines and the column header
/// ("#  size  count  type  redop  root  time  algbw  busbw  #wrong  time ..."), whose first "time"
/// is out-of-place and second in-place (microseconds). Throws ScenarioError naming the file and
/// line for a data row before the header, a row with the wrong number of columns, a size or time
/// that is not a non-negative number, or a log without data rows.
NcclLog parse_nccl_tests(std::string_view text, const std::string& file);

struct AlphaBetaFit {
  double alpha_seconds = 0;  ///< a: the collective's time at zero bytes
  double bus_bandwidth_bytes_per_s = 0;
  double max_relative_residual = 0;  ///< max |fit - measured| / measured over the rows
  int points = 0;
};

/// Fits t(S) = a + S f / B to `rows` (out-of-place times, or in-place with `in_place`); throws
/// ScenarioError when fewer than two sizes are given or the fit is not physical (B <= 0).
AlphaBetaFit fit_alpha_beta(const NcclLog& log, NcclOp op, int ranks, bool in_place = false);

/// One scope of a network calibration file, as a link.
struct CalibratedLink {
  double bandwidth_bytes_per_s;
  double latency_seconds;
};

/// Reads `scope` ("intra_node" or "inter_node") of a network calibration file; throws
/// ScenarioError naming the file and JSON path when it is malformed or lacks the scope.
CalibratedLink load_calibrated_link(const std::string& path, const std::string& scope);

}  // namespace ddlsim::calib
