// Device memory (copy, read, write) and host-device bandwidth over sizes; kernel launch cost and a
// launch + synchronisation round trip; the reduction of collectives (a += b in fp32) over sizes.
#include "calibration/cuda/cuda_util.cuh"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace gpubench {

namespace {

constexpr int THREADS = 256;

int blocks_for(std::size_t n, int per_thread = 4)
{
  return int(
      std::min<std::size_t>((n + std::size_t(THREADS) * per_thread - 1) / (std::size_t(THREADS) * per_thread), 65535));
}

/// Reads every element (float4 where aligned) and sums it, one atomic per block. Launch it with
/// read_blocks: one block per 1,024 elements would queue up to 65,535 atomics on one address, and
/// that queue (about 2 ns each), not the memory, bounded the read at 16 MiB to 256 MiB (1.9 TB/s on
/// an H200 whose copy reached 4.1 TB/s).
__global__ void read_kernel(const float* x, std::size_t n, float* total)
{
  float s = 0;
  const std::size_t n4 = n / 4;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n4;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float4 v = x4[i];
    s += (v.x + v.y) + (v.z + v.w);
  }
  for (std::size_t i = n4 * 4 + blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    s += x[i];
  const float b = block_reduce<THREADS>(s);
  if (threadIdx.x == 0)
    atomicAdd(total, b);
}

/// About one wave of read_kernel's blocks (2,048 resident threads per SM on Volta to Hopper).
int read_blocks(std::size_t n)
{
  return std::min(blocks_for(n), 1024);
}

__global__ void write_kernel(float* x, std::size_t n, float value)
{
  const std::size_t n4 = n / 4;
  float4* x4 = reinterpret_cast<float4*>(x);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n4;
       i += std::size_t(gridDim.x) * blockDim.x)
    x4[i] = make_float4(value, value, value, value);
  for (std::size_t i = n4 * 4 + blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    x[i] = value;
}

/// The gamma of all-reduce: a received buffer summed into the local one.
__global__ void add_kernel(float* acc, const float* in, std::size_t n)
{
  const std::size_t n4 = n / 4;
  float4* a4 = reinterpret_cast<float4*>(acc);
  const float4* b4 = reinterpret_cast<const float4*>(in);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n4;
       i += std::size_t(gridDim.x) * blockDim.x) {
    float4 a = a4[i];
    const float4 b = b4[i];
    a.x += b.x, a.y += b.y, a.z += b.z, a.w += b.w;
    a4[i] = a;
  }
  for (std::size_t i = n4 * 4 + blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    acc[i] += in[i];
}

__global__ void empty_kernel() {}

std::vector<double> sizes_bytes(bool quick)
{
  std::vector<double> s;
  for (double b = 4096; b <= (quick ? 64.0 : 1024.0) * 1048576; b *= quick ? 16 : 4)
    s.push_back(b);
  return s;
}

}  // namespace

void warm_up(const Options& o)
{
  const std::size_t n = std::size_t(64) << 20;  // 256 MiB of fp32
  DeviceBuffer<float> a(n), b(n);
  fill_inputs(a.ptr, n, 1);
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < (o.quick ? 0.2 : 1.0)) {
    CUDA_CHECK(cudaMemcpyAsync(b.ptr, a.ptr, n * 4, cudaMemcpyDeviceToDevice));
    CUDA_CHECK(cudaDeviceSynchronize());
  }
}

void run_memory(const Options& o, Results& r)
{
  const std::vector<double> sizes = sizes_bytes(o.quick);
  const std::size_t max_elems = std::size_t(sizes.back() / 4);
  DeviceBuffer<float> a(max_elems), b(max_elems);
  DeviceBuffer<float> total(1);
  fill_inputs(a.ptr, max_elems, 3);
  fill_inputs(b.ptr, max_elems, 4);
  const std::vector<float> ah = a.to_host(), bh = b.to_host();
  float* pinned = nullptr;
  CUDA_CHECK(cudaMallocHost(&pinned, max_elems * 4));

  for (double bytes : sizes) {
    const std::size_t n = std::size_t(bytes / 4);
    const double copy =
        median_seconds([&] { CUDA_CHECK(cudaMemcpyAsync(b.ptr, a.ptr, n * 4, cudaMemcpyDeviceToDevice)); }, o.quick);
    r.bandwidth.push_back({"copy", bytes, 2 * bytes / copy});
    const double read = median_seconds([&] { read_kernel<<<read_blocks(n), THREADS>>>(a.ptr, n, total.ptr); }, o.quick);
    r.bandwidth.push_back({"read", bytes, bytes / read});
    const double write = median_seconds([&] { write_kernel<<<blocks_for(n), THREADS>>>(b.ptr, n, 0.5f); }, o.quick);
    r.bandwidth.push_back({"write", bytes, bytes / write});
    const double h2d =
        median_seconds([&] { CUDA_CHECK(cudaMemcpyAsync(b.ptr, pinned, n * 4, cudaMemcpyHostToDevice)); }, o.quick);
    r.bandwidth.push_back({"h2d", bytes, bytes / h2d});
    const double d2h =
        median_seconds([&] { CUDA_CHECK(cudaMemcpyAsync(pinned, a.ptr, n * 4, cudaMemcpyDeviceToHost)); }, o.quick);
    r.bandwidth.push_back({"d2h", bytes, bytes / d2h});
    std::fprintf(stderr, "  memory %.0f B: copy %.1f, read %.1f, write %.1f, h2d %.1f, d2h %.1f GB/s\n", bytes,
                 2 * bytes / copy / 1e9, bytes / read / 1e9, bytes / write / 1e9, bytes / h2d / 1e9, bytes / d2h / 1e9);
  }
  // Checks: the copy, the read's sum, the write, the device-to-host copy.
  {
    const std::size_t n = 1 << 20;
    CUDA_CHECK(cudaMemcpy(b.ptr, a.ptr, n * 4, cudaMemcpyDeviceToDevice));
    const std::vector<float> got = b.to_host(n);
    for (std::size_t i = 0; i < n; ++i)
      if (got[i] != ah[i])
        throw CheckFailed("device copy: element " + std::to_string(i) + " differs");
    CUDA_CHECK(cudaMemset(total.ptr, 0, 4));
    read_kernel<<<read_blocks(n), THREADS>>>(a.ptr, n, total.ptr);
    double ref = 0, mag = 0;
    for (std::size_t i = 0; i < n; ++i)
      ref += ah[i], mag += std::abs(ah[i]);
    const float sum = total.to_host(1)[0];
    if (!(std::abs(sum - ref) <= 1e-5 * mag))
      throw CheckFailed("read kernel: sum " + std::to_string(sum) + ", CPU " + std::to_string(ref));
    write_kernel<<<blocks_for(n), THREADS>>>(b.ptr, n, 0.5f);
    for (float v : b.to_host(n))
      if (v != 0.5f)
        throw CheckFailed("write kernel: a value is not 0.5");
    CUDA_CHECK(cudaMemcpy(pinned, a.ptr, n * 4, cudaMemcpyDeviceToHost));
    for (std::size_t i = 0; i < n; ++i)
      if (pinned[i] != ah[i])
        throw CheckFailed("device-to-host copy: element " + std::to_string(i) + " differs");
    r.checks.push_back("memory: copy, read (sum), write and device-to-host results match the CPU");
  }
  CUDA_CHECK(cudaFreeHost(pinned));

  // Reduction a += b over sizes, checked.
  for (double elements = 1024; elements <= double(max_elems); elements *= o.quick ? 64 : 8) {
    const std::size_t n = std::size_t(elements);
    const double t = median_seconds([&] { add_kernel<<<blocks_for(n), THREADS>>>(a.ptr, b.ptr, n); }, o.quick);
    r.reduce.push_back({elements, t});
  }
  {
    const std::size_t n = (1 << 20) + 3;  // a tail past the float4 part
    fill_inputs(a.ptr, n, 3);
    fill_inputs(b.ptr, n, 4);
    add_kernel<<<blocks_for(n), THREADS>>>(a.ptr, b.ptr, n);
    const std::vector<float> got = a.to_host(n);
    for (std::size_t i = 0; i < n; ++i)
      if (got[i] != ah[i] + bh[i])
        throw CheckFailed("reduction a += b: element " + std::to_string(i) + " differs");
    r.checks.push_back("reduction a += b matches the CPU exactly");
  }

  // Launch: host time to enqueue an empty kernel (what a framework pays per kernel), the GPU's
  // time per back-to-back empty kernel, and a launch + cudaDeviceSynchronize round trip.
  for (int i = 0; i < 100; ++i)
    empty_kernel<<<1, 1>>>();
  CUDA_CHECK(cudaDeviceSynchronize());
  const int launches = o.quick ? 1000 : 10000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < launches; ++i)
    empty_kernel<<<1, 1>>>();
  const auto t1 = std::chrono::steady_clock::now();
  CUDA_CHECK(cudaDeviceSynchronize());
  r.launch_seconds = std::chrono::duration<double>(t1 - t0).count() / launches;
  r.gpu_launch_seconds = median_seconds(
                             [&] {
                               for (int i = 0; i < 100; ++i)
                                 empty_kernel<<<1, 1>>>();
                             },
                             o.quick) /
                         100;
  std::vector<double> trips;
  for (int i = 0; i < (o.quick ? 100 : 1000); ++i) {
    const auto s = std::chrono::steady_clock::now();
    empty_kernel<<<1, 1>>>();
    CUDA_CHECK(cudaDeviceSynchronize());
    trips.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count());
  }
  std::sort(trips.begin(), trips.end());
  r.sync_seconds = trips[trips.size() / 2];
  std::fprintf(stderr, "  launch: %.2f us to enqueue, %.2f us per kernel on the GPU, %.2f us round trip\n",
               r.launch_seconds * 1e6, r.gpu_launch_seconds * 1e6, r.sync_seconds * 1e6);
}

}  // namespace gpubench
