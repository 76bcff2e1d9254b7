#include "sim/compression/codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ddlsim::compress {

const std::vector<std::string_view>& codec_names()
{
  static const std::vector<std::string_view> names{"none",   "fp16",      "bf16",    "topk",     "randomk",
                                                   "dgc",    "threshold", "qsgd",    "terngrad", "signsgd",
                                                   "signum", "onebit",    "natural", "8bit",     "powersgd"};
  return names;
}

const char* to_string(Codec codec)
{
  return codec_names().at(static_cast<std::size_t>(codec)).data();
}

const std::vector<std::string_view>& exchange_names()
{
  static const std::vector<std::string_view> names{"allreduce", "allgather", "ring"};
  return names;
}

bool summable(Codec codec)
{
  switch (codec) {
  case Codec::none:
  case Codec::fp16:
  case Codec::bf16:
  case Codec::randomk:
  case Codec::powersgd: return true;
  default: return false;
  }
}

bool error_feedback_by_default(Codec codec)
{
  return codec == Codec::onebit || codec == Codec::dgc || codec == Codec::powersgd;
}

bool error_feedback_applies(Codec codec)
{
  return codec != Codec::none && codec != Codec::fp16 && codec != Codec::bf16;
}

bool sparsifier(Codec codec)
{
  return codec == Codec::topk || codec == Codec::randomk || codec == Codec::dgc || codec == Codec::threshold;
}

const char* profile_entry(Codec codec)
{
  return codec == Codec::none || codec == Codec::powersgd ? nullptr : to_string(codec);
}

namespace {

/// PowerSGD compresses a matrix when rank q is below both sides and P, Q are smaller than M.
bool low_rank(const model::Tensor& t, int q)
{
  return t.is_matrix() && q < std::min(t.rows, t.cols) && double(t.rows + t.cols) * q < double(t.rows) * t.cols;
}

double bits_to_bytes(double bits)
{
  return std::ceil(bits / 8);
}

/// Bytes of one tensor of n elements (not PowerSGD).
double tensor_bytes(const CodecConfig& c, const model::Tensor& t, double e)
{
  const double n = double(t.elements());
  const double k = std::max(1.0, std::floor(c.ratio * n));
  switch (c.codec) {
  case Codec::none: return n * e;
  case Codec::fp16:
  case Codec::bf16: return 2 * n;
  case Codec::topk:
  case Codec::dgc: return k * (e + 4);
  case Codec::randomk: return k * e;
  case Codec::threshold: return 4 * k;
  case Codec::qsgd: {
    const double s = c.levels;
    const double fixed = bits_to_bytes(n * (1 + std::ceil(std::log2(s + 1)))) + 4;
    if (!c.elias)
      return fixed;
    const double spread = s * (s + std::sqrt(n));
    const double bits = (3 + 1.5 * std::log2(2 * (s * s + n) / spread)) * spread + 32;
    return std::min(fixed, bits_to_bytes(bits));
  }
  case Codec::terngrad: return bits_to_bytes(2 * n) + 4;
  case Codec::signsgd:
  case Codec::signum: return bits_to_bytes(n) + 4;
  case Codec::onebit: return bits_to_bytes(n) + 8 * double(t.cols);
  case Codec::natural: return bits_to_bytes(9 * n);
  case Codec::eightbit: return n + 4;
  case Codec::powersgd: break;
  }
  throw std::logic_error("tensor_bytes: PowerSGD has two payloads");
}

/// Seconds of a GEMM-like pass that does `flops` and moves `bytes`: the roofline of the profile's
/// fp32 GEMM rate and copy bandwidth, plus one launch.
double roofline(double flops, double bytes, const GpuProfile& p)
{
  return std::max(flops / (p.peak("fp32") * p.gemm_efficiency), bytes / p.copy_bandwidth_bytes_per_s) +
         p.launch_seconds;
}

/// PowerSGD on one m x n matrix at rank q: P = M Q (encode); orthogonalise P (Gram-Schmidt, a
/// launch a column) and Q = M^T P (second_encode); decode adds P Q^T into the gradient, reading
/// and writing it.
CodecSeconds powersgd_roofline(double m, double n, double q, double e, const GpuProfile& p)
{
  const double gemm_flops = 2 * m * n * q, gemm_bytes = (m * n + (m + n) * q) * e;
  CodecSeconds s;
  s.encode = roofline(gemm_flops, gemm_bytes, p);
  s.second_encode = roofline(2 * m * q * q, 2 * m * q * e, p) + (q - 1) * p.launch_seconds;
  s.second_encode += roofline(gemm_flops, gemm_bytes, p);
  s.decode = roofline(gemm_flops, gemm_bytes + m * n * e, p);
  return s;
}

const CodecCost& entry(const GpuProfile& p, const char* name)
{
  const CodecCost* cost = p.codec(name);
  if (!cost)
    throw std::invalid_argument(fmt::format("GPU profile {} has no cost for codec '{}'", p.file, name));
  return *cost;
}

}  // namespace

std::vector<model::Tensor> codec_tensors(const CodecConfig& config, std::span<const model::Tensor> tensors)
{
  if (config.granularity == Granularity::tensor || config.codec == Codec::powersgd)
    return {tensors.begin(), tensors.end()};
  std::int64_t n = 0;
  for (const model::Tensor& t : tensors)
    n += t.elements();
  if (n == 0)
    return {};
  return {{n, 1}};
}

Wire wire_bytes(const CodecConfig& c, std::span<const model::Tensor> tensors, double e)
{
  Wire w;
  for (const model::Tensor& t : tensors) {
    if (c.codec != Codec::powersgd) {
      w.first += tensor_bytes(c, t, e);
    } else if (low_rank(t, c.rank)) {
      w.first += double(t.rows) * c.rank * e;
      w.second += double(t.cols) * c.rank * e;
    } else {
      w.first += double(t.elements()) * e;
    }
  }
  return w;
}

CodecSeconds codec_seconds(const CodecConfig& c, std::span<const model::Tensor> tensors, double e, const GpuProfile& p)
{
  CodecSeconds s;
  if (c.codec == Codec::none)
    return s;
  if (c.codec == Codec::powersgd) {
    const CodecCost* measured = p.codec("powersgd");
    for (const model::Tensor& t : tensors) {
      if (!low_rank(t, c.rank))
        continue;
      CodecSeconds r = powersgd_roofline(double(t.rows), double(t.cols), c.rank, e, p);
      if (measured) {
        // Scaled by what the microbenchmark measured against this roofline for its fp32 matrix of
        // as many elements at rank 4: 2^ceil(log2(n) / 2) rows (calibration/cuda/codecs.cu).
        const double n = double(t.elements());
        const double rows = std::exp2(std::ceil(std::log2(n) / 2));
        const CodecSeconds ref = powersgd_roofline(rows, std::max(1.0, n / rows), 4, 4, p);
        const double k = measured->encode.at(n) / (ref.encode + ref.second_encode);
        r.encode *= k;
        r.second_encode *= k;
        r.decode *= measured->decode.at(n) / ref.decode;
      }
      s.encode += r.encode;
      s.second_encode += r.second_encode;
      s.decode += r.decode;
    }
  } else {
    const CodecCost& cost = entry(p, profile_entry(c.codec));
    const double scale = sparsifier(c.codec) && cost.ratio > 0 ? c.ratio / cost.ratio : 1.0;
    for (const model::Tensor& t : tensors) {
      s.encode += cost.encode.at(double(t.elements()));
      s.decode += cost.decode.at(double(t.elements()) * scale);
    }
  }
  if (c.error_feedback) {
    // Compensate (g + residual) before encoding, update (residual = g - decode(encode(g))) after.
    const CodecCost& ef = entry(p, "error_feedback");
    for (const model::Tensor& t : tensors)
      s.encode += ef.encode.at(double(t.elements())) + ef.decode.at(double(t.elements()));
  }
  return s;
}

double extra_memory_bytes(const CodecConfig& c, std::span<const model::Tensor> tensors, double e)
{
  double n = 0, q_elements = 0;
  for (const model::Tensor& t : tensors) {
    n += double(t.elements());
    if (c.codec == Codec::powersgd && low_rank(t, c.rank))
      q_elements += double(t.cols) * c.rank;
  }
  double bytes = c.error_feedback ? n * e : 0;
  if (c.codec == Codec::dgc)
    bytes += 2 * n * e;
  if (c.codec == Codec::signum)
    bytes += n * e;
  return bytes + q_elements * e;
}

}  // namespace ddlsim::compress
