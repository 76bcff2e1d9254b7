#pragma once
// Gradient compression codecs: for a bucket of gradient tensors, the bytes each worker puts on the
// wire (values, indices, scales, exactly as the method sends them), whether payloads can be summed
// in flight (all-reduce) or must be gathered, and encode/decode seconds from a GPU profile.
//
// Wire formats, per tensor of n elements at e bytes an element (e = 4 for fp32 gradients):
// - none: n e.  fp16, bf16: 2n (a cast; Micikevicius et al. 2018).
// - topk (ratio r): k = max(1, floor(r n)) pairs of a value (e bytes) and a 32-bit index
//   (Aji and Heafield 2017; Shi et al. 2019): k (e + 4).
// - randomk (ratio r): k values; the indices come from a seed every worker shares, so none are
//   sent and payloads add up index by index (Stich et al. 2018): k e. Summable.
// - dgc (ratio r): the top r by a threshold sampled from the gradient (Lin et al., ICLR 2018), sent
//   as value-index pairs like topk: k (e + 4); momentum correction keeps a velocity buffer.
// - threshold (ratio r = the expected fraction above the threshold; the simulator has no gradient
//   values): Strom 2015 sends each element above it as one 32-bit word (31-bit index and the sign;
//   the magnitude is the threshold): 4 k bytes.
// - qsgd (levels s): fixed width, 1 sign bit + ceil(log2(s + 1)) bits an element and the fp32 norm:
//   ceil(n (1 + ceil(log2(s+1))) / 8) + 4. With "elias": true, the expected size of the Elias-coded
//   form, Alistarh et al. 2017 Theorem 3.2 (its o(1) taken as 0), at most the fixed width:
//   (3 + 1.5 log2(2 (s^2 + n) / (s (s + sqrt n)))) s (s + sqrt n) + 32 bits.
// - terngrad: 2 bits an element and the fp32 scale max|g| (Wen et al. 2017): ceil(2n/8) + 4.
// - signsgd, signum: 1 bit an element and one fp32 scale per tensor (Bernstein et al. 2018; the
//   scale as in EF-signSGD, Karimireddy et al. 2019): ceil(n/8) + 4. Signum's momentum stays local.
// - onebit: 1-bit SGD (Seide et al. 2014): 1 bit an element and two fp32 reconstruction values (the
//   means of the positive and of the negative entries) per column of the (rows, cols) matrix:
//   ceil(n/8) + 8 cols.
// - natural: natural compression (Horvath et al. 2019), a sign and an 8-bit exponent: ceil(9n/8).
// - 8bit: Dettmers 2015, 8 bits an element and one fp32 scale per tensor: n + 4.
// - powersgd (rank q): each matrix M (rows m, cols c) with q < min(m, c) goes as P (m x q) and Q
//   (c x q) in two all-reduces (Vogels et al. 2019): (m + c) q e; vectors, and matrices too small to
//   gain, go uncompressed with P. Summable.
// Granularity: "tensor" encodes every parameter tensor on its own (GRACE, Horovod); "bucket" encodes
// a bucket's gradients as one flat vector (a PyTorch DDP communication hook). PowerSGD always works
// on the matrices.
#include "calibration/gpu_profile.hpp"
#include "models/layer.hpp"

#include <span>
#include <string_view>
#include <vector>

namespace ddlsim::compress {

enum class Codec {
  none,
  fp16,
  bf16,
  topk,
  randomk,
  dgc,
  threshold,
  qsgd,
  terngrad,
  signsgd,
  signum,
  onebit,
  natural,
  eightbit,
  powersgd
};

/// Names as scenarios spell them, in enum order ("8bit" for eightbit).
const std::vector<std::string_view>& codec_names();
const char* to_string(Codec codec);

/// How non-summable payloads are combined in an all-reduce architecture.
enum class Exchange {
  allreduce,  ///< summable codecs: an all-reduce of the payloads
  allgather,  ///< every worker gathers every payload, decodes all p and sums (volume grows with p)
  ring        ///< compressed ring all-reduce: each hop decodes, adds and re-encodes its chunk
};
const std::vector<std::string_view>& exchange_names();

enum class Granularity { tensor, bucket };

struct CodecConfig {
  Codec codec = Codec::none;
  double ratio = 0;  ///< topk, randomk, dgc, threshold: in (0, 1)
  int levels = 0;    ///< qsgd: quantization levels s >= 1
  bool elias = false;
  int rank = 0;  ///< powersgd: >= 1
  bool error_feedback = false;
  Granularity granularity = Granularity::tensor;
  Exchange exchange = Exchange::allreduce;
  bool separate_stream = false;  ///< codec kernels on a stream of their own, not the compute stream
};

/// Payloads can be summed element by element in flight (all-reduce, in-network, PS summing).
bool summable(Codec codec);
/// Methods that ship with error feedback in their papers (onebit, dgc, powersgd): the default.
bool error_feedback_by_default(Codec codec);
/// Whether error feedback means anything for the codec (not for none, fp16, bf16).
bool error_feedback_applies(Codec codec);
/// Sparsifiers: decode cost scales with the ratio.
bool sparsifier(Codec codec);
/// Profile entry whose curves a codec's encode/decode take ("8bit" for eightbit); nullptr for
/// none and powersgd (costed from the profile's GEMM and memory rates).
const char* profile_entry(Codec codec);

/// The tensors a codec works on for a bucket: the given ones (tensor granularity, and always
/// for powersgd), or one vector of all their elements.
std::vector<model::Tensor> codec_tensors(const CodecConfig& config, std::span<const model::Tensor> tensors);

/// What one worker sends for `tensors` (as returned by codec_tensors): `first` in the first (or
/// only) collective, `second` in PowerSGD's Q all-reduce (0 otherwise).
struct Wire {
  double first = 0;
  double second = 0;
  double total() const { return first + second; }
};
Wire wire_bytes(const CodecConfig& config, std::span<const model::Tensor> tensors, double element_bytes);

/// GPU seconds for `tensors`: encode before sending, second_encode between PowerSGD's two
/// all-reduces (orthogonalise P, Q = M^T P), decode of one payload into the dense gradient (an
/// all-gather decodes p of them). Error feedback adds its compensate and update passes to encode.
struct CodecSeconds {
  double encode = 0;
  double second_encode = 0;
  double decode = 0;
};
/// Throws std::invalid_argument when the profile has no entry the codec needs.
CodecSeconds codec_seconds(const CodecConfig& config, std::span<const model::Tensor> tensors, double element_bytes,
                           const GpuProfile& profile);

/// Extra GPU memory the codec keeps per worker: error-feedback residuals (n e), DGC's momentum
/// and velocity buffers (2 n e), Signum's momentum (n e), PowerSGD's Q matrices (c q e).
double extra_memory_bytes(const CodecConfig& config, std::span<const model::Tensor> tensors, double element_bytes);

}  // namespace ddlsim::compress
