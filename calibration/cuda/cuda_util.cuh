#pragma once
// CUDA helpers of the microbenchmarks: checked calls, median CUDA-event timing after warm-up,
// device inputs equal to gpubench::input_value.
#include "calibration/cuda/bench.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace gpubench {

void cuda_check(cudaError_t e, const char* what, const char* file, int line);
void cublas_check(cublasStatus_t s, const char* what, const char* file, int line);
#define CUDA_CHECK(x) ::gpubench::cuda_check((x), #x, __FILE__, __LINE__)
#define CUBLAS_CHECK(x) ::gpubench::cublas_check((x), #x, __FILE__, __LINE__)

/// Device buffer of T, freed on scope exit.
template <class T> struct DeviceBuffer {
  T* ptr = nullptr;
  std::size_t count = 0;
  explicit DeviceBuffer(std::size_t n) : count(n)
  {
    CUDA_CHECK(cudaMalloc(&ptr, std::max<std::size_t>(n, 1) * sizeof(T)));
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(ptr); }
  std::vector<T> to_host(std::size_t n) const
  {
    std::vector<T> h(n);
    CUDA_CHECK(cudaMemcpy(h.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
  std::vector<T> to_host() const { return to_host(count); }
};

/// Fills x[i] = input_value(i, seed) on the device.
void fill_inputs(float* x, std::size_t n, std::uint64_t seed, cudaStream_t s = nullptr);

/// The same device function input_value is on the host (for kernels that need it).
__host__ __device__ inline float device_input_value(std::uint64_t i, std::uint64_t seed)
{
  std::uint64_t z = i * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const float u = float((z >> 40) + 1) / float(1ull << 24);
  return (z & 1) ? u : -u;
}

/// A uniform number in [0, 1) for stochastic rounding, from an element index and a seed.
__host__ __device__ inline float uniform01(std::uint64_t i, std::uint64_t seed)
{
  return (device_input_value(i, seed ^ 0x5851F42D4C957F2Dull) + 1.0f) * 0.5f * 0.99999994f;
}

/// The sum (or, with `max`, the maximum) of `v` over a block of `threads` (a multiple of 32, at
/// most 1024) threads, valid in thread 0.
template <int threads> __device__ float block_reduce(float v, bool max = false)
{
  for (int o = 16; o > 0; o >>= 1) {
    const float other = __shfl_down_sync(0xffffffffu, v, o);
    v = max ? fmaxf(v, other) : v + other;
  }
  __shared__ float warp[threads / 32];
  if (threadIdx.x % 32 == 0)
    warp[threadIdx.x / 32] = v;
  __syncthreads();
  float b = 0;
  if (threadIdx.x == 0)
    for (int w = 0; w < threads / 32; ++w)
      b = max ? fmaxf(b, warp[w]) : b + warp[w];
  return b;
}

/// Median seconds of `body` (kernels enqueued on stream 0) over repetitions timed with CUDA
/// events, after `warmup` runs; repetitions adapt to about `budget_s` in all (at least 5, at most
/// 200; 3 and 20 when quick).
template <class F> double median_seconds(F&& body, bool quick, double budget_s = 0.2, int warmup = 2)
{
  for (int i = 0; i < warmup; ++i)
    body();
  CUDA_CHECK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  const auto once = [&] {
    CUDA_CHECK(cudaEventRecord(start));
    body();
    CUDA_CHECK(cudaEventRecord(stop));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    return ms * 1e-3;
  };
  std::vector<double> t{once()};
  const int min_reps = quick ? 3 : 5, max_reps = quick ? 20 : 200;
  const int reps = std::clamp(int(budget_s / std::max(t[0], 1e-7)), min_reps, max_reps);
  for (int i = 1; i < reps; ++i)
    t.push_back(once());
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace gpubench
