#include "calibration/cuda/cuda_util.cuh"

#include <string>

namespace gpubench {

void cuda_check(cudaError_t e, const char* what, const char* file, int line)
{
  if (e != cudaSuccess)
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + what + ": " +
                             cudaGetErrorString(e));
}

void cublas_check(cublasStatus_t s, const char* what, const char* file, int line)
{
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + what + ": cuBLAS status " +
                             std::to_string(int(s)));
}

namespace {

__global__ void fill_kernel(float* x, std::size_t n, std::uint64_t seed)
{
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    x[i] = device_input_value(i, seed);
}

}  // namespace

void fill_inputs(float* x, std::size_t n, std::uint64_t seed, cudaStream_t s)
{
  fill_kernel<<<1024, 256, 0, s>>>(x, n, seed);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpubench
