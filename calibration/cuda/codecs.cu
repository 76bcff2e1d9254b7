// Every compression codec ddlsim models, as GPU kernels: encode (gradient -> payload) and decode
// (payload -> dense values added into an accumulator), timed over sizes and checked against the
// CPU on one size. Wire formats follow sim/compression/codec.hpp; where a kernel stores a payload
// in a wider word than the wire (natural's 9 bits in 16), the method says so.
#include "calibration/cuda/cuda_util.cuh"

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

namespace gpubench {

namespace {

constexpr int T = 256;
constexpr float RATIO = 0.01f;  // sparsifiers keep 1% (the GRACE setting)
constexpr float MOMENTUM = 0.9f;

#define GRID_LOOP(i, n)                                                                                                \
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n);                                    \
       i += std::size_t(gridDim.x) * blockDim.x)

int blocks(std::size_t n)
{
  return int(std::max<std::size_t>(1, std::min<std::size_t>((n + T - 1) / T, 65535)));
}

// ---- reductions into one device float (zeroed by the caller's kernel sequence) ----------------

enum class Reduce { sum_squares, sum_abs, max_abs, sum_positive, count_positive, sum_negative, count_negative };

__device__ float reduce_term(Reduce op, float x)
{
  switch (op) {
  case Reduce::sum_squares: return x * x;
  case Reduce::sum_abs: return fabsf(x);
  case Reduce::max_abs: return fabsf(x);
  case Reduce::sum_positive: return x >= 0 ? x : 0;
  case Reduce::count_positive: return x >= 0 ? 1 : 0;
  case Reduce::sum_negative: return x < 0 ? x : 0;
  case Reduce::count_negative: return x < 0 ? 1 : 0;
  }
  return 0;
}

__global__ void reduce_kernel(const float* x, std::size_t n, Reduce op, float* out)
{
  const bool is_max = op == Reduce::max_abs;
  float s = 0;
  GRID_LOOP(i, n)
  {
    const float t = reduce_term(op, x[i]);
    s = is_max ? fmaxf(s, t) : s + t;
  }
  const float b = block_reduce<T>(s, is_max);
  if (threadIdx.x == 0) {
    if (is_max)  // non-negative floats order as their bit patterns
      atomicMax(reinterpret_cast<unsigned int*>(out), __float_as_uint(b));
    else
      atomicAdd(out, b);
  }
}

void reduce(const float* x, std::size_t n, Reduce op, float* out)
{
  CUDA_CHECK(cudaMemsetAsync(out, 0, sizeof(float)));
  reduce_kernel<<<std::min(blocks(n), 1024), T>>>(x, n, op, out);
}

// ---- casts ----------------------------------------------------------------------------------

__global__ void enc_fp16(const float* g, __half* h, std::size_t n)
{
  GRID_LOOP(i, n) h[i] = __float2half_rn(g[i]);
}
__global__ void dec_fp16(const __half* h, float* acc, std::size_t n)
{
  GRID_LOOP(i, n) acc[i] += __half2float(h[i]);
}
__global__ void enc_bf16(const float* g, __nv_bfloat16* h, std::size_t n)
{
  GRID_LOOP(i, n) h[i] = __float2bfloat16_rn(g[i]);
}
__global__ void dec_bf16(const __nv_bfloat16* h, float* acc, std::size_t n)
{
  GRID_LOOP(i, n) acc[i] += __bfloat162float(h[i]);
}

// ---- sparsifiers ----------------------------------------------------------------------------

__global__ void abs_keys(const float* g, unsigned* keys, unsigned* idx, std::size_t n)
{
  GRID_LOOP(i, n)
  {
    keys[i] = __float_as_uint(fabsf(g[i]));
    idx[i] = unsigned(i);
  }
}

__global__ void gather_pairs(const float* g, const unsigned* idx, float* vals, unsigned* inds, std::size_t k)
{
  GRID_LOOP(j, k)
  {
    inds[j] = idx[j];
    vals[j] = g[idx[j]];
  }
}

__global__ void scatter_add(const float* vals, const unsigned* inds, const unsigned* count, std::size_t k, float* acc)
{
  const std::size_t kk = count ? *count : k;
  GRID_LOOP(j, kk) acc[inds[j]] += vals[j];
}

/// Random-k with a seed both sides share: one index drawn in each of k strides of n / k.
__device__ __host__ inline std::size_t random_index(std::size_t j, std::size_t stride, std::uint64_t seed)
{
  const float u = uniform01(j, seed);
  return j * stride + std::min<std::size_t>(stride - 1, std::size_t(u * float(stride)));
}

__global__ void enc_randomk(const float* g, float* vals, std::size_t k, std::size_t stride, std::uint64_t seed)
{
  GRID_LOOP(j, k) vals[j] = g[random_index(j, stride, seed)];
}

__global__ void dec_randomk(const float* vals, float* acc, std::size_t k, std::size_t stride, std::uint64_t seed)
{
  GRID_LOOP(j, k) acc[random_index(j, stride, seed)] += vals[j];
}

__global__ void flag_above(const float* g, std::size_t n, const float* threshold, unsigned* flags)
{
  const float t = *threshold;
  GRID_LOOP(i, n) flags[i] = fabsf(g[i]) >= t ? 1u : 0u;
}

__global__ void compact(const float* g, const unsigned* flags, const unsigned* pos, std::size_t n, float* vals,
                        unsigned* inds, unsigned* count)
{
  GRID_LOOP(i, n)
  {
    if (flags[i]) {
      vals[pos[i]] = g[i];
      inds[pos[i]] = unsigned(i);
    }
    if (i == n - 1)
      *count = pos[i] + flags[i];
  }
}

__global__ void dgc_momentum(const float* g, float* u, float* v, std::size_t n)
{
  GRID_LOOP(i, n)
  {
    const float ui = MOMENTUM * u[i] + g[i];
    u[i] = ui;
    v[i] += ui;
  }
}

__global__ void sample_keys(const float* v, std::size_t samples, std::size_t stride, unsigned* keys)
{
  GRID_LOOP(j, samples) keys[j] = __float_as_uint(fabsf(v[j * stride]));
}

__global__ void key_to_threshold(const unsigned* sorted, std::size_t at, float* threshold)
{
  *threshold = __uint_as_float(sorted[at]);
}

__global__ void dgc_clear(const unsigned* inds, const unsigned* count, float* u, float* v)
{
  GRID_LOOP(j, std::size_t(*count))
  {
    u[inds[j]] = 0;
    v[inds[j]] = 0;
  }
}

// ---- quantisers -----------------------------------------------------------------------------

__global__ void enc_qsgd(const float* g, const float* sum_squares, std::size_t n, int levels, std::uint64_t seed,
                         signed char* q)
{
  const float norm = sqrtf(*sum_squares);
  GRID_LOOP(i, n)
  {
    const float l = norm > 0 ? fabsf(g[i]) / norm * levels : 0;
    const int v = min(levels, int(floorf(l + uniform01(i, seed))));
    q[i] = static_cast<signed char>(g[i] < 0 ? -v : v);
  }
}

__global__ void dec_qsgd(const signed char* q, const float* sum_squares, std::size_t n, int levels, float* acc)
{
  const float scale = sqrtf(*sum_squares) / levels;
  GRID_LOOP(i, n) acc[i] += scale * float(q[i]);
}

/// 16 ternary values a word, 2 bits each: 0 -> 0, 1 -> +max, 2 -> -max.
__global__ void enc_terngrad(const float* g, const float* max_abs, std::size_t n, std::uint64_t seed, unsigned* words)
{
  const float m = *max_abs;
  GRID_LOOP(w, (n + 15) / 16)
  {
    unsigned word = 0;
    for (int j = 0; j < 16; ++j) {
      const std::size_t i = w * 16 + j;
      if (i < n && m > 0 && uniform01(i, seed) < fabsf(g[i]) / m)
        word |= (g[i] > 0 ? 1u : 2u) << (2 * j);
    }
    words[w] = word;
  }
}

__global__ void dec_terngrad(const unsigned* words, const float* max_abs, std::size_t n, float* acc)
{
  const float m = *max_abs;
  GRID_LOOP(i, n)
  {
    const unsigned b = (words[i / 16] >> (2 * (i % 16))) & 3u;
    acc[i] += b == 1 ? m : b == 2 ? -m : 0.0f;
  }
}

/// One bit an element (1: x >= 0), 32 a word, with a warp ballot.
__global__ void pack_signs(const float* x, std::size_t n, unsigned* words)
{
  const std::size_t lane = threadIdx.x % 32;
  const std::size_t warps = std::size_t(gridDim.x) * blockDim.x / 32;
  for (std::size_t w = (blockIdx.x * std::size_t(blockDim.x) + threadIdx.x) / 32; w < (n + 31) / 32; w += warps) {
    const std::size_t i = w * 32 + lane;
    const unsigned word = __ballot_sync(0xffffffffu, i < n && x[i] >= 0);
    if (lane == 0)
      words[w] = word;
  }
}

/// acc += bit ? positive : negative, the two scales read from the device (signSGD: +-mean|g|;
/// 1-bit SGD: the means of the positive and of the negative entries).
__global__ void unpack_signs(const unsigned* words, std::size_t n, const float* positive, const float* negative,
                             float* acc)
{
  const float p = *positive, q = *negative;
  GRID_LOOP(i, n) acc[i] += ((words[i / 32] >> (i % 32)) & 1u) ? p : q;
}

__global__ void mean_scales(float* sums, std::size_t n)
{
  // sums: [sum_abs] -> scale +mean, -mean (signSGD)
  sums[0] = sums[0] / float(n);
  sums[1] = -sums[0];
}

__global__ void onebit_scales(float* s)
{
  // s: [sum_pos, count_pos, sum_neg, count_neg] -> [mean_pos, ., mean_neg, .]
  s[0] = s[1] > 0 ? s[0] / s[1] : 0;
  s[2] = s[3] > 0 ? s[2] / s[3] : 0;
}

__global__ void signum_momentum(const float* g, float* m, std::size_t n)
{
  GRID_LOOP(i, n) m[i] = MOMENTUM * m[i] + (1 - MOMENTUM) * g[i];
}

/// Natural compression (Horvath et al. 2019): x rounded stochastically to a neighbouring power of
/// two; sign and 8-bit exponent (9 bits on the wire) kept in a 16-bit word here.
__global__ void enc_natural(const float* g, std::size_t n, std::uint64_t seed, unsigned short* code)
{
  GRID_LOOP(i, n)
  {
    const float a = fabsf(g[i]);
    const int e = ilogbf(a);  // 2^e <= a < 2^(e+1)
    const float low = ldexpf(1.0f, e);
    const float p = (a - low) / low;  // where a sits between 2^e and 2^(e+1)
    const int exponent = e + (uniform01(i, seed) < p ? 1 : 0);
    code[i] = static_cast<unsigned short>((g[i] < 0 ? 0x100 : 0) | ((exponent + 127) & 0xFF));
  }
}

__global__ void dec_natural(const unsigned short* code, std::size_t n, float* acc)
{
  GRID_LOOP(i, n)
  {
    const float v = ldexpf(1.0f, int(code[i] & 0xFF) - 127);
    acc[i] += (code[i] & 0x100) ? -v : v;
  }
}

/// 8-bit dynamic code (Dettmers 2016): x / max|g| rounded to the nearest of 256 sorted values.
__global__ void enc_8bit(const float* g, const float* max_abs, const float* book, std::size_t n, unsigned char* code)
{
  __shared__ float b[256];
  for (int j = threadIdx.x; j < 256; j += blockDim.x)
    b[j] = book[j];
  __syncthreads();
  const float m = *max_abs;
  GRID_LOOP(i, n)
  {
    const float y = m > 0 ? g[i] / m : 0;
    int lo = 0, hi = 255;  // the last entry <= y, then the nearer of it and the next
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (b[mid] <= y)
        lo = mid;
      else
        hi = mid - 1;
    }
    if (lo < 255 && fabsf(b[lo + 1] - y) < fabsf(y - b[lo]))
      ++lo;
    code[i] = static_cast<unsigned char>(lo);
  }
}

__global__ void dec_8bit(const unsigned char* code, const float* max_abs, const float* book, std::size_t n, float* acc)
{
  const float m = *max_abs;
  GRID_LOOP(i, n) acc[i] += m * book[code[i]];
}

// ---- error feedback -------------------------------------------------------------------------

__global__ void ef_compensate(const float* g, const float* e, float* c, std::size_t n)
{
  GRID_LOOP(i, n) c[i] = g[i] + e[i];
}
__global__ void ef_update(const float* c, const float* d, float* e, std::size_t n)
{
  GRID_LOOP(i, n) e[i] = c[i] - d[i];
}

// ---- PowerSGD -------------------------------------------------------------------------------

/// Gram-Schmidt on the r columns of P (rows x r, column-major), one block.
__global__ void orthonormalise(float* p, int rows, int r)
{
  __shared__ float part[1024];
  for (int c = 0; c < r; ++c) {
    float* col = p + std::size_t(c) * rows;
    for (int prev = 0; prev <= c; ++prev) {
      const float* other = p + std::size_t(prev) * rows;
      float s = 0;
      for (int i = threadIdx.x; i < rows; i += blockDim.x)
        s += (prev < c ? other[i] : col[i]) * col[i];
      part[threadIdx.x] = s;
      __syncthreads();
      for (int w = blockDim.x / 2; w > 0; w /= 2) {
        if (threadIdx.x < w)
          part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
      }
      const float dot = part[0];
      __syncthreads();
      for (int i = threadIdx.x; i < rows; i += blockDim.x)
        col[i] = prev < c ? col[i] - dot * other[i] : col[i] / fmaxf(sqrtf(dot), 1e-30f);
      __syncthreads();
    }
  }
}

// ---- host side ------------------------------------------------------------------------------

std::vector<std::size_t> codec_sizes(bool quick)
{
  std::vector<std::size_t> s;
  for (int e = 10; e <= 26; e += quick ? 7 : 2)
    s.push_back(std::size_t(1) << e);
  return s;
}

/// 256 sorted values in [-1, 1]: 0, 1 and, for z leading zero bits (z = 0..6), 2^(6-z) linear
/// steps of 10^-z x [0.1, 1] of each sign (2 x 127): Dettmers' dynamic tree code.
std::vector<float> dynamic_codebook()
{
  std::vector<float> b{0.0f, 1.0f};
  for (int z = 0; z <= 6; ++z) {
    const int steps = 1 << (6 - z);
    for (int f = 0; f < steps; ++f) {
      const float v = std::pow(10.0f, -float(z)) * (0.1f + 0.9f * (f + 0.5f) / steps);
      b.push_back(v);
      b.push_back(-v);
    }
  }
  std::sort(b.begin(), b.end());
  return b;  // 2 + 2 x 127 = 256
}

void check(bool ok, const std::string& what)
{
  if (!ok)
    throw CheckFailed(what);
}

}  // namespace

void run_codecs(const Options& o, Results& r)
{
  const std::vector<std::size_t> sizes = codec_sizes(o.quick);
  const std::size_t top = sizes.back();
  DeviceBuffer<float> g(top), acc(top), u(top), v(top), vals(top), work(top), scalars(8), book(256);
  DeviceBuffer<unsigned> keys(top), keys_out(top), idx(top), idx_out(top), inds(top), flags(top), pos(top), count(1);
  DeviceBuffer<unsigned> words((top + 15) / 16);
  DeviceBuffer<__half> h16(top);
  DeviceBuffer<__nv_bfloat16> b16(top);
  DeviceBuffer<signed char> q8(top);
  DeviceBuffer<unsigned char> c8(top);
  DeviceBuffer<unsigned short> c16(top);
  fill_inputs(g.ptr, top, 11);
  CUDA_CHECK(cudaMemset(acc.ptr, 0, top * 4));
  CUDA_CHECK(cudaMemset(u.ptr, 0, top * 4));
  CUDA_CHECK(cudaMemset(v.ptr, 0, top * 4));
  const std::vector<float> codebook = dynamic_codebook();
  if (codebook.size() != 256)
    throw std::logic_error("the 8-bit code needs 256 values");
  CUDA_CHECK(cudaMemcpy(book.ptr, codebook.data(), 256 * 4, cudaMemcpyHostToDevice));
  std::size_t temp_bytes = 0, scan_bytes = 0, sample_bytes = 0;
  CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(nullptr, temp_bytes, keys.ptr, keys_out.ptr, idx.ptr,
                                                       idx_out.ptr, int(top)));
  CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, flags.ptr, pos.ptr, int(top)));
  CUDA_CHECK(
      cub::DeviceRadixSort::SortKeysDescending(nullptr, sample_bytes, keys.ptr, keys_out.ptr, int(top / 100 + 1)));
  DeviceBuffer<char> temp(std::max({temp_bytes, scan_bytes, sample_bytes}));
  const std::uint64_t seed = 42;
  float* s = scalars.ptr;

  // Each codec: encode(n) and decode(n) enqueue its kernels for n elements.
  struct Codec {
    const char* name;
    bool sparse;
    std::function<void(std::size_t)> encode, decode;
    std::string method;
  };
  const auto k_of = [](std::size_t n) {
    return std::max<std::size_t>(1, std::size_t(RATIO * n));
  };
  // Threshold keeping 1% of |g| (uniform on (0, 1]) in expectation: 0.99.
  const float threshold = 1.0f - RATIO;
  const auto compaction = [&](const float* x, std::size_t n) {
    flag_above<<<blocks(n), T>>>(x, n, s + 6, flags.ptr);
    std::size_t bytes = temp.count;
    CUDA_CHECK(cub::DeviceScan::ExclusiveSum(temp.ptr, bytes, flags.ptr, pos.ptr, int(n)));
    compact<<<blocks(n), T>>>(x, flags.ptr, pos.ptr, n, vals.ptr, inds.ptr, count.ptr);
  };
  const std::vector<Codec> codecs{
      {"fp16", false, [&](std::size_t n) { enc_fp16<<<blocks(n), T>>>(g.ptr, h16.ptr, n); },
       [&](std::size_t n) { dec_fp16<<<blocks(n), T>>>(h16.ptr, acc.ptr, n); }, "cast to fp16; decode adds into fp32"},
      {"bf16", false, [&](std::size_t n) { enc_bf16<<<blocks(n), T>>>(g.ptr, b16.ptr, n); },
       [&](std::size_t n) { dec_bf16<<<blocks(n), T>>>(b16.ptr, acc.ptr, n); }, "cast to bf16; decode adds into fp32"},
      {"topk", true,
       [&](std::size_t n) {
         abs_keys<<<blocks(n), T>>>(g.ptr, keys.ptr, idx.ptr, n);
         std::size_t bytes = temp.count;
         CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(temp.ptr, bytes, keys.ptr, keys_out.ptr, idx.ptr,
                                                              idx_out.ptr, int(n)));
         gather_pairs<<<blocks(k_of(n)), T>>>(g.ptr, idx_out.ptr, vals.ptr, inds.ptr, k_of(n));
       },
       [&](std::size_t n) { scatter_add<<<blocks(k_of(n)), T>>>(vals.ptr, inds.ptr, nullptr, k_of(n), acc.ptr); },
       "exact top-k of |g| by a CUB radix sort of (|g|, index) pairs, then a gather of k values and indices; "
       "decode scatter-adds the k pairs"},
      {"randomk", true,
       [&](std::size_t n) { enc_randomk<<<blocks(k_of(n)), T>>>(g.ptr, vals.ptr, k_of(n), n / k_of(n), seed); },
       [&](std::size_t n) { dec_randomk<<<blocks(k_of(n)), T>>>(vals.ptr, acc.ptr, k_of(n), n / k_of(n), seed); },
       "one index drawn per stride of n/k from a seed both sides share, gather of k values; decode regenerates "
       "the indices and scatter-adds"},
      {"threshold", true,
       [&](std::size_t n) {
         CUDA_CHECK(cudaMemcpyAsync(s + 6, &threshold, 4, cudaMemcpyHostToDevice));
         compaction(g.ptr, n);
         unsigned c;
         CUDA_CHECK(cudaMemcpy(&c, count.ptr, 4, cudaMemcpyDeviceToHost));  // the payload's size
       },
       [&](std::size_t n) { scatter_add<<<blocks(k_of(n)), T>>>(vals.ptr, inds.ptr, count.ptr, n, acc.ptr); },
       "flags of |g| >= threshold, CUB exclusive scan, stream compaction of values and indices, count read back; "
       "decode scatter-adds"},
      {"dgc", true,
       [&](std::size_t n) {
         dgc_momentum<<<blocks(n), T>>>(g.ptr, u.ptr, v.ptr, n);
         const std::size_t samples = std::max<std::size_t>(1, n / 100);
         sample_keys<<<blocks(samples), T>>>(v.ptr, samples, n / samples, keys.ptr);
         std::size_t bytes = temp.count;
         CUDA_CHECK(cub::DeviceRadixSort::SortKeysDescending(temp.ptr, bytes, keys.ptr, keys_out.ptr, int(samples)));
         key_to_threshold<<<1, 1>>>(keys_out.ptr, std::min(samples - 1, std::size_t(RATIO * samples)), s + 6);
         compaction(v.ptr, n);
         dgc_clear<<<blocks(k_of(n) * 2), T>>>(inds.ptr, count.ptr, u.ptr, v.ptr);
         unsigned c;
         CUDA_CHECK(cudaMemcpy(&c, count.ptr, 4, cudaMemcpyDeviceToHost));
       },
       [&](std::size_t n) { scatter_add<<<blocks(k_of(n)), T>>>(vals.ptr, inds.ptr, count.ptr, n, acc.ptr); },
       "momentum correction (u = 0.9 u + g, v += u), threshold from the top 1% of a 1% strided sample (CUB radix "
       "sort), compaction of |v| >= threshold, momentum factor masking; decode scatter-adds"},
      {"qsgd", false,
       [&](std::size_t n) {
         reduce(g.ptr, n, Reduce::sum_squares, s);
         enc_qsgd<<<blocks(n), T>>>(g.ptr, s, n, 127, seed, q8.ptr);
       },
       [&](std::size_t n) { dec_qsgd<<<blocks(n), T>>>(q8.ptr, s, n, 127, acc.ptr); },
       "L2 norm, stochastic rounding to 127 levels, one signed byte an element"},
      {"terngrad", false,
       [&](std::size_t n) {
         reduce(g.ptr, n, Reduce::max_abs, s);
         enc_terngrad<<<blocks((n + 15) / 16), T>>>(g.ptr, s, n, seed, words.ptr);
       },
       [&](std::size_t n) { dec_terngrad<<<blocks(n), T>>>(words.ptr, s, n, acc.ptr); },
       "max |g|, stochastic ternarisation, 2-bit packing (16 a word)"},
      {"signsgd", false,
       [&](std::size_t n) {
         reduce(g.ptr, n, Reduce::sum_abs, s);
         mean_scales<<<1, 1>>>(s, n);
         pack_signs<<<blocks(n), T>>>(g.ptr, n, words.ptr);
       },
       [&](std::size_t n) { unpack_signs<<<blocks(n), T>>>(words.ptr, n, s, s + 1, acc.ptr); },
       "mean |g|, sign bits packed with a warp ballot; decode +-mean"},
      {"signum", false,
       [&](std::size_t n) {
         signum_momentum<<<blocks(n), T>>>(g.ptr, u.ptr, n);
         reduce(u.ptr, n, Reduce::sum_abs, s);
         mean_scales<<<1, 1>>>(s, n);
         pack_signs<<<blocks(n), T>>>(u.ptr, n, words.ptr);
       },
       [&](std::size_t n) { unpack_signs<<<blocks(n), T>>>(words.ptr, n, s, s + 1, acc.ptr); },
       "momentum update (m = 0.9 m + 0.1 g), then as signsgd on m"},
      {"onebit", false,
       [&](std::size_t n) {
         reduce(g.ptr, n, Reduce::sum_positive, s);
         reduce(g.ptr, n, Reduce::count_positive, s + 1);
         reduce(g.ptr, n, Reduce::sum_negative, s + 2);
         reduce(g.ptr, n, Reduce::count_negative, s + 3);
         onebit_scales<<<1, 1>>>(s);
         pack_signs<<<blocks(n), T>>>(g.ptr, n, words.ptr);
       },
       [&](std::size_t n) { unpack_signs<<<blocks(n), T>>>(words.ptr, n, s, s + 2, acc.ptr); },
       "means of the positive and of the negative entries, 1-bit packing; decode to the two means"},
      {"natural", false, [&](std::size_t n) { enc_natural<<<blocks(n), T>>>(g.ptr, n, seed, c16.ptr); },
       [&](std::size_t n) { dec_natural<<<blocks(n), T>>>(c16.ptr, n, acc.ptr); },
       "stochastic rounding to a power of two; sign and 8-bit exponent kept in 16 bits (9 on the wire)"},
      {"8bit", false,
       [&](std::size_t n) {
         reduce(g.ptr, n, Reduce::max_abs, s);
         enc_8bit<<<blocks(n), T>>>(g.ptr, s, book.ptr, n, c8.ptr);
       },
       [&](std::size_t n) { dec_8bit<<<blocks(n), T>>>(c8.ptr, s, book.ptr, n, acc.ptr); },
       "max |g|, nearest of a 256-value dynamic code by binary search in shared memory"},
      {"error_feedback", false, [&](std::size_t n) { ef_compensate<<<blocks(n), T>>>(g.ptr, v.ptr, work.ptr, n); },
       [&](std::size_t n) { ef_update<<<blocks(n), T>>>(work.ptr, acc.ptr, u.ptr, n); },
       "encode: compensate c = g + e; decode: residual update e = c - decoded (elementwise)"},
  };

  for (const Codec& c : codecs) {
    CodecResult res{c.name, {}, {}, c.sparse ? RATIO : 0.0, c.method};
    for (std::size_t n : sizes) {
      CUDA_CHECK(cudaMemset(u.ptr, 0, n * 4));
      CUDA_CHECK(cudaMemset(v.ptr, 0, n * 4));
      res.encode.push_back({double(n), median_seconds([&] { c.encode(n); }, o.quick, 0.1)});
      res.decode.push_back({double(n), median_seconds([&] { c.decode(n); }, o.quick, 0.1)});
    }
    std::fprintf(stderr, "  codec %s: encode %.1f us, decode %.1f us at %zu elements\n", c.name,
                 res.encode.back().seconds * 1e6, res.decode.back().seconds * 1e6, sizes.back());
    r.codecs.push_back(res);
  }

  // ---- correctness on one size: each codec against the CPU --------------------------------
  const std::size_t n = std::size_t(1) << 20;
  fill_inputs(g.ptr, n, 11);
  const std::vector<float> gh = g.to_host(n);
  const auto fresh = [&] {
    CUDA_CHECK(cudaMemset(acc.ptr, 0, n * 4));
    CUDA_CHECK(cudaMemset(u.ptr, 0, n * 4));
    CUDA_CHECK(cudaMemset(v.ptr, 0, n * 4));
  };
  const auto codec = [&](const char* name) -> const Codec& {
    for (const Codec& c : codecs)
      if (std::string(c.name) == name)
        return c;
    throw std::logic_error(name);
  };
  const auto run = [&](const char* name) -> std::vector<float> {
    const Codec& c = codec(name);
    fresh();
    c.encode(n);
    c.decode(n);
    CUDA_CHECK(cudaDeviceSynchronize());
    return acc.to_host(n);
  };
  {
    const auto d = run("fp16");
    for (std::size_t i = 0; i < n; ++i)
      check(d[i] == __half2float(__float2half_rn(gh[i])), "fp16: element " + std::to_string(i));
    const auto e = run("bf16");
    for (std::size_t i = 0; i < n; ++i)
      check(e[i] == __bfloat162float(__float2bfloat16_rn(gh[i])), "bf16: element " + std::to_string(i));
  }
  {
    const std::size_t k = std::size_t(RATIO * n);
    std::vector<float> mags(n);
    for (std::size_t i = 0; i < n; ++i)
      mags[i] = std::abs(gh[i]);
    std::nth_element(mags.begin(), mags.begin() + (k - 1), mags.end(), std::greater<>());
    const float kth = mags[k - 1];
    const auto d = run("topk");
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (d[i] != 0) {
        ++kept;
        check(d[i] == gh[i] && std::abs(gh[i]) >= kth, "topk: element " + std::to_string(i) + " kept wrongly");
      }
    check(kept == k, "topk: " + std::to_string(kept) + " kept, expected " + std::to_string(k));
  }
  {
    const std::size_t k = std::size_t(RATIO * n), stride = n / k;
    const auto d = run("randomk");
    std::vector<float> want(n, 0.0f);
    for (std::size_t j = 0; j < k; ++j)
      want[random_index(j, stride, seed)] += gh[random_index(j, stride, seed)];
    check(d == want, "randomk: decoded values differ from the CPU's");
  }
  for (const char* name : {"threshold"}) {
    const auto d = run(name);
    for (std::size_t i = 0; i < n; ++i)
      check(d[i] == (std::abs(gh[i]) >= threshold ? gh[i] : 0.0f),
            std::string(name) + ": element " + std::to_string(i));
  }
  {
    const auto d = run("dgc");  // first step: v = u = g; kept where |g| >= sampled threshold, then cleared
    float t = 0;
    CUDA_CHECK(cudaMemcpy(&t, s + 6, 4, cudaMemcpyDeviceToHost));
    const std::vector<float> vh = v.to_host(n);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool sel = std::abs(gh[i]) >= t;
      kept += sel;
      check(d[i] == (sel ? gh[i] : 0.0f) && vh[i] == (sel ? 0.0f : gh[i]), "dgc: element " + std::to_string(i));
    }
    check(kept > n / 300 && kept < n / 30, "dgc: kept " + std::to_string(kept) + " of " + std::to_string(n));
  }
  {
    const auto d = run("qsgd");
    double ss = 0;
    for (float x : gh)
      ss += double(x) * x;
    const double step = std::sqrt(ss) / 127;
    for (std::size_t i = 0; i < n; ++i)
      check(std::abs(d[i] - gh[i]) <= step * 1.001 && (d[i] == 0 || (d[i] > 0) == (gh[i] > 0)),
            "qsgd: element " + std::to_string(i));
  }
  {
    const auto d = run("terngrad");
    float m = 0;
    for (float x : gh)
      m = std::max(m, std::abs(x));
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < n; ++i) {
      nonzero += d[i] != 0;
      check(d[i] == 0 || d[i] == (gh[i] > 0 ? m : -m), "terngrad: element " + std::to_string(i));
    }
    check(nonzero > n / 3 && nonzero < 2 * n / 3, "terngrad: " + std::to_string(nonzero) + " non-zero");
  }
  {
    const auto d = run("signsgd");
    double mean = 0;
    for (float x : gh)
      mean += std::abs(x);
    mean /= n;
    for (std::size_t i = 0; i < n; ++i)
      check(std::abs(d[i] - (gh[i] >= 0 ? mean : -mean)) <= 1e-4 * mean, "signsgd: element " + std::to_string(i));
    const auto e = run("onebit");
    double sp = 0, sn = 0, cp = 0, cn = 0;
    for (float x : gh)
      (x >= 0 ? sp : sn) += x, (x >= 0 ? cp : cn) += 1;
    for (std::size_t i = 0; i < n; ++i) {
      const double want = gh[i] >= 0 ? sp / cp : sn / cn;
      check(std::abs(e[i] - want) <= 1e-4 * std::abs(want), "onebit: element " + std::to_string(i));
    }
  }
  {
    const auto d = run("natural");
    for (std::size_t i = 0; i < n; ++i) {
      const float a = std::abs(gh[i]), got = std::abs(d[i]);
      const float low = std::exp2(std::floor(std::log2(a)));
      check((got == low || got == 2 * low) && (d[i] < 0) == (gh[i] < 0), "natural: element " + std::to_string(i));
    }
  }
  {
    const auto d = run("8bit");
    float m = 0;
    for (float x : gh)
      m = std::max(m, std::abs(x));
    for (std::size_t i = 0; i < n; ++i) {
      const float y = gh[i] / m;
      float best = codebook[0];
      for (float b : codebook)
        if (std::abs(b - y) < std::abs(best - y))
          best = b;
      check(std::abs(d[i] - m * best) <= 1e-6f * m + std::abs(m * best) * 1e-6f ||
                std::abs(std::abs(d[i] / m - y) - std::abs(best - y)) <= 1e-6f,
            "8bit: element " + std::to_string(i) + " is not the nearest code");
    }
  }
  {
    // Error feedback: with e = 0, c = g + e = g; then e = c - decoded, the decoded gradient in acc.
    fresh();
    CUDA_CHECK(cudaMemset(u.ptr, 0xFF, n * 4));  // NaN: the update must overwrite every element
    const Codec& ef = codec("error_feedback");
    fill_inputs(acc.ptr, n, 12);  // a decoded gradient that is not zero
    ef.encode(n);
    ef.decode(n);
    const std::vector<float> c_h = work.to_host(n), e_h = u.to_host(n), d_h = acc.to_host(n);
    for (std::size_t i = 0; i < n; ++i)
      check(c_h[i] == gh[i] && e_h[i] == gh[i] - d_h[i], "error_feedback: element " + std::to_string(i));
  }
  r.checks.push_back("codecs: fp16, bf16, topk, randomk, threshold, dgc, qsgd, terngrad, signsgd, onebit, natural, "
                     "8bit decoded values and error feedback's compensation and residual match the CPU on 2^20 "
                     "elements");

  // ---- PowerSGD rank 4 on square-ish matrices: P = M Q, orthonormalise P, Q = M^T P; decode
  // adds P Q^T into the accumulator ---------------------------------------------------------
  cublasHandle_t h;
  CUBLAS_CHECK(cublasCreate(&h));
  const int rank = 4;
  DeviceBuffer<float> P(top / 64 + 64), Q(top / 64 + 64);
  CodecResult ps{"powersgd",
                 {},
                 {},
                 0,
                 "rank 4: P = M Q (cuBLAS), Gram-Schmidt on P (one block), Q = M^T P; decode "
                 "adds P Q^T into the accumulator (cuBLAS)"};
  const float one = 1, zero = 0;
  for (std::size_t count_n : sizes) {
    int rows = 1;  // 2^ceil(log2(n) / 2): square, or twice as tall as wide
    while (std::size_t(rows) * rows < count_n)
      rows *= 2;
    const int cols = int(count_n / rows);
    fill_inputs(Q.ptr, std::size_t(cols) * rank, 5);
    const auto encode = [&] {
      CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, rows, rank, cols, &one, g.ptr, rows, Q.ptr, cols, &zero,
                               P.ptr, rows));
      orthonormalise<<<1, 1024>>>(P.ptr, rows, rank);
      CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, cols, rank, rows, &one, g.ptr, rows, P.ptr, rows, &zero,
                               Q.ptr, cols));
    };
    const auto decode = [&] {
      CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, rows, cols, rank, &one, P.ptr, rows, Q.ptr, cols, &one,
                               acc.ptr, rows));
    };
    ps.encode.push_back({double(count_n), median_seconds(encode, o.quick, 0.1)});
    ps.decode.push_back({double(count_n), median_seconds(decode, o.quick, 0.1)});
    {  // every size: P's columns orthonormal, the decode is P Q^T
      const std::vector<float> ph = P.to_host(std::size_t(rows) * rank), qh = Q.to_host(std::size_t(cols) * rank);
      for (int a = 0; a < rank; ++a)
        for (int b = 0; b < rank; ++b) {
          double dot = 0;
          for (int i = 0; i < rows; ++i)
            dot += double(ph[std::size_t(a) * rows + i]) * ph[std::size_t(b) * rows + i];
          check(std::abs(dot - (a == b ? 1.0 : 0.0)) < 1e-3,
                "powersgd: P (" + std::to_string(rows) + " x 4) is not orthonormal");
        }
      for (int s2 = 0; s2 < 8; ++s2) {  // Q = M^T P, M(i, j) = g[i + j rows] = input_value(i + j rows, 11)
        const int j = (s2 * 104729) % cols, c = s2 % rank;
        double want = 0, mag = 0;
        for (int i = 0; i < rows; ++i) {
          const double t =
              double(device_input_value(std::size_t(i) + std::size_t(j) * rows, 11)) * ph[std::size_t(c) * rows + i];
          want += t;
          mag += std::abs(t);
        }
        check(std::abs(qh[std::size_t(c) * cols + j] - want) <= 1e-4 * mag + 1e-30,
              "powersgd: Q(" + std::to_string(j) + ", " + std::to_string(c) + ") is not (M^T P)");
      }
      CUDA_CHECK(cudaMemset(acc.ptr, 0, count_n * 4));
      decode();
      const std::vector<float> d = acc.to_host(count_n);
      for (int s2 = 0; s2 < 16; ++s2) {
        const int i = (s2 * 7919) % rows, j = (s2 * 104729) % cols;
        double want = 0;
        for (int c = 0; c < rank; ++c)
          want += double(ph[std::size_t(c) * rows + i]) * qh[std::size_t(c) * cols + j];
        check(std::abs(d[std::size_t(j) * rows + i] - want) <= 1e-4 * (1 + std::abs(want)),
              "powersgd: decode of " + std::to_string(count_n) + " elements is not P Q^T");
      }
    }
  }
  r.checks.push_back("powersgd: at every size, P orthonormal to 1e-3, Q = M^T P and the decode = P Q^T on "
                     "sampled entries");
  CUBLAS_CHECK(cublasDestroy(h));
  r.codecs.push_back(ps);
}

}  // namespace gpubench
