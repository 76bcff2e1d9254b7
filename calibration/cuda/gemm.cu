// GEMM throughput over a full grid of (m, n, k) per dtype (m from 128 to 131,072 rows, n and k
// from 64 to 8,192): cuBLAS cublasGemmEx for fp32, tf32, fp16 and bf16 (fp32 accumulation, as
// frameworks call it), cuBLASLt for fp8 (e4m3 inputs, bf16 output) on GPUs that have it (compute
// capability 8.9 and up). Column-major C(m x n) = A(m x k) B(k x n). Every measured product has sampled entries checked
// against a CPU dot product of the same (rounded) inputs.
#include "calibration/cuda/cuda_util.cuh"

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace gpubench {

namespace {

__global__ void to_half(const float* in, __half* out, std::size_t n)
{
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = __float2half_rn(in[i]);
}

__global__ void to_bf16(const float* in, __nv_bfloat16* out, std::size_t n)
{
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(in[i]);
}

__global__ void to_fp8(const float* in, __nv_fp8_e4m3* out, std::size_t n)
{
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = __nv_fp8_e4m3(in[i]);
}

float round_to(const std::string& dtype, float x)
{
  if (dtype == "fp16")
    return __half2float(__float2half_rn(x));
  if (dtype == "bf16")
    return __bfloat162float(__float2bfloat16_rn(x));
  if (dtype == "fp8")
    return float(__nv_fp8_e4m3(x));
  return x;
}

/// Reads C(i, j) (column-major, leading dimension ld) of element type `type` back to the host.
double fetch(const void* c, cudaDataType type, long i, long j, long ld)
{
  const std::size_t at = std::size_t(i) + std::size_t(j) * ld;
  if (type == CUDA_R_32F) {
    float v;
    CUDA_CHECK(cudaMemcpy(&v, static_cast<const float*>(c) + at, 4, cudaMemcpyDeviceToHost));
    return v;
  }
  if (type == CUDA_R_16F) {
    __half v;
    CUDA_CHECK(cudaMemcpy(&v, static_cast<const __half*>(c) + at, 2, cudaMemcpyDeviceToHost));
    return __half2float(v);
  }
  __nv_bfloat16 v;
  CUDA_CHECK(cudaMemcpy(&v, static_cast<const __nv_bfloat16*>(c) + at, 2, cudaMemcpyDeviceToHost));
  return __bfloat162float(v);
}

struct Dtype {
  const char* name;
  cudaDataType ab, c;
  cublasComputeType_t compute;
  /// |gpu - cpu| <= tolerance x sum |a b|: accumulation order, output rounding, and for tf32 the
  /// inputs' rounding to 10 mantissa bits (the CPU reference keeps them fp32).
  double tolerance;
};

/// Checks 8 sampled entries of C against the CPU; `a_at(i, p)` and `b_at(p, j)` give the inputs.
template <class A, class B>
void check_entries(const std::string& dtype, long m, long n, long k, const void* c, cudaDataType c_type, double tol,
                   A a_at, B b_at)
{
  for (int s = 0; s < 8; ++s) {
    const long i = (s * 7919L) % m, j = (s * 104729L) % n;
    double ref = 0, mag = 0;
    for (long p = 0; p < k; ++p) {
      const double prod = double(round_to(dtype, a_at(i, p))) * double(round_to(dtype, b_at(p, j)));
      ref += prod;
      mag += std::abs(prod);
    }
    const double got = fetch(c, c_type, i, j, m);
    if (!(std::abs(got - ref) <= tol * mag + 1e-30))
      throw CheckFailed("GEMM " + dtype + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                        ": C(" + std::to_string(i) + "," + std::to_string(j) + ") = " + std::to_string(got) + ", CPU " +
                        std::to_string(ref));
  }
}

}  // namespace

void run_gemm(const Options& o, Results& r)
{
  // m (the rows: tokens, or batch x pixels of a convolution) reaches further than n and k (layer
  // widths), so that convolutions' long products are measured, not held at the grid's edge.
  std::vector<long> ms =
      o.quick ? std::vector<long>{512, 4096} : std::vector<long>{128, 512, 2048, 8192, 32768, 131072};
  const std::vector<long> nks = o.quick ? std::vector<long>{512, 4096} : std::vector<long>{64, 256, 1024, 4096, 8192};
  const long top = nks.back();
  // Inputs and outputs in every dtype: A m x k (fp32, fp16, bf16, fp8), B k x n, C m x n (fp32,
  // fp16, bf16). The largest m values that would not fit in 60 % of the free memory are left out.
  std::size_t free_bytes = 0, total_bytes = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const auto needed = [&](long m) {
    return double(m) * top * (4 + 2 + 2 + 1) + double(top) * top * (4 + 2 + 2 + 1) + double(m) * top * (4 + 2 + 2);
  };
  while (ms.size() > 1 && needed(ms.back()) > 0.6 * double(free_bytes)) {
    char why[160];
    std::snprintf(why, sizeof why,
                  "GEMMs of m = %ld (their buffers need %.1f GiB; 60 %% of the %.1f GiB free is allowed)", ms.back(),
                  needed(ms.back()) / 1073741824.0, free_bytes / 1073741824.0);
    r.gemm_skipped.push_back(why);
    ms.pop_back();
  }
  const std::size_t a_elems = std::size_t(ms.back()) * top, b_elems = std::size_t(top) * top, c_elems = a_elems;
  DeviceBuffer<float> a32(a_elems), b32(b_elems), c32(c_elems);
  fill_inputs(a32.ptr, a_elems, 1);
  fill_inputs(b32.ptr, b_elems, 2);
  const std::vector<float> ah = a32.to_host(), bh = b32.to_host();
  DeviceBuffer<__half> a16(a_elems), b16(b_elems), c16(c_elems);
  DeviceBuffer<__nv_bfloat16> abf(a_elems), bbf(b_elems), cbf(c_elems);
  to_half<<<1024, 256>>>(a32.ptr, a16.ptr, a_elems);
  to_half<<<1024, 256>>>(b32.ptr, b16.ptr, b_elems);
  to_bf16<<<1024, 256>>>(a32.ptr, abf.ptr, a_elems);
  to_bf16<<<1024, 256>>>(b32.ptr, bbf.ptr, b_elems);
  CUDA_CHECK(cudaDeviceSynchronize());

  cublasHandle_t h;
  CUBLAS_CHECK(cublasCreate(&h));
  const Dtype dtypes[] = {{"fp32", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 1e-5},
                          {"tf32", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 2e-3},
                          {"fp16", CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F, 2e-3},
                          {"bf16", CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 1e-2}};
  const float one = 1, zero = 0;
  for (const Dtype& d : dtypes) {
    const void* a = d.ab == CUDA_R_32F   ? static_cast<const void*>(a32.ptr)
                    : d.ab == CUDA_R_16F ? static_cast<const void*>(a16.ptr)
                                         : static_cast<const void*>(abf.ptr);
    const void* b = d.ab == CUDA_R_32F   ? static_cast<const void*>(b32.ptr)
                    : d.ab == CUDA_R_16F ? static_cast<const void*>(b16.ptr)
                                         : static_cast<const void*>(bbf.ptr);
    void* c = d.c == CUDA_R_32F   ? static_cast<void*>(c32.ptr)
              : d.c == CUDA_R_16F ? static_cast<void*>(c16.ptr)
                                  : static_cast<void*>(cbf.ptr);
    for (long m : ms)
      for (long n : nks)
        for (long k : nks) {
          const auto gemm = [&] {
            CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, int(m), int(n), int(k), &one, a, d.ab, int(m), b,
                                      d.ab, int(k), &zero, c, d.c, int(m), d.compute, CUBLAS_GEMM_DEFAULT));
          };
          const double t = median_seconds(gemm, o.quick, 0.1);
          // A(i, p) = a[i + p m], B(p, j) = b[p + j k]: the first m k and k n elements of the inputs.
          check_entries(
              d.name, m, n, k, c, d.c, d.tolerance, [&](long i, long p) { return ah[std::size_t(i + p * m)]; },
              [&](long p, long j) { return bh[std::size_t(p + j * k)]; });
          r.gemm.push_back({d.name, m, n, k, t});
          std::fprintf(stderr, "  gemm %s %ldx%ldx%ld: %.3f TFLOP/s\n", d.name, m, n, k, 2.0 * m * n * k / t / 1e12);
        }
    r.checks.push_back(std::string("GEMM ") + d.name + ": 8 sampled entries of every product match the CPU");
  }
  CUBLAS_CHECK(cublasDestroy(h));

  // fp8: cuBLASLt, D(m x n, bf16) = A^T B with A stored k x m (the "TN" layout fp8 requires).
  if (r.device.cc_major * 10 + r.device.cc_minor < 89) {
    r.gemm_skipped.push_back("fp8: compute capability below 8.9, no fp8 tensor cores");
    return;
  }
  DeviceBuffer<__nv_fp8_e4m3> a8(a_elems), b8(b_elems);
  to_fp8<<<1024, 256>>>(a32.ptr, a8.ptr, a_elems);
  to_fp8<<<1024, 256>>>(b32.ptr, b8.ptr, b_elems);
  CUDA_CHECK(cudaDeviceSynchronize());
  cublasLtHandle_t lt;
  CUBLAS_CHECK(cublasLtCreate(&lt));
  const std::size_t workspace_bytes = 32u << 20;
  DeviceBuffer<char> workspace(workspace_bytes);
  std::string skipped;
  for (long m : ms)
    for (long n : nks)
      for (long k : nks) {
        cublasLtMatmulDesc_t op;
        CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
        const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
        CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
        CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
        cublasLtMatrixLayout_t la, lb, lc;
        CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, k, m, k));
        CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, k, n, k));
        CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, m, n, m));
        cublasLtMatmulPreference_t pref;
        CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
        CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                          &workspace_bytes, sizeof workspace_bytes));
        cublasLtMatmulHeuristicResult_t heuristic{};
        int found = 0;
        const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 1, &heuristic, &found);
        if (st == CUBLAS_STATUS_SUCCESS && found > 0) {
          const auto gemm = [&] {
            CUBLAS_CHECK(cublasLtMatmul(lt, op, &one, a8.ptr, la, b8.ptr, lb, &zero, cbf.ptr, lc, cbf.ptr, lc,
                                        &heuristic.algo, workspace.ptr, workspace_bytes, nullptr));
          };
          const double t = median_seconds(gemm, o.quick, 0.1);
          // A(i, p) = a[p + i k] (A^T stored), B(p, j) = b[p + j k].
          check_entries(
              "fp8", m, n, k, cbf.ptr, CUDA_R_16BF, 1e-2, [&](long i, long p) { return ah[std::size_t(p + i * k)]; },
              [&](long p, long j) { return bh[std::size_t(p + j * k)]; });
          r.gemm.push_back({"fp8", m, n, k, t});
          std::fprintf(stderr, "  gemm fp8 %ldx%ldx%ld: %.3f TFLOP/s\n", m, n, k, 2.0 * m * n * k / t / 1e12);
        } else if (skipped.empty()) {
          skipped = "fp8: cuBLASLt found no algorithm for " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                    std::to_string(k) + " (status " + std::to_string(int(st)) + ")";
        }
        cublasLtMatmulPreferenceDestroy(pref);
        cublasLtMatrixLayoutDestroy(la);
        cublasLtMatrixLayoutDestroy(lb);
        cublasLtMatrixLayoutDestroy(lc);
        cublasLtMatmulDescDestroy(op);
      }
  cublasLtDestroy(lt);
  if (!skipped.empty()) {  // a grid with holes cannot be interpolated: keep fp8 out of the profile
    r.gemm.erase(std::remove_if(r.gemm.begin(), r.gemm.end(), [](const GemmPoint& g) { return g.dtype == "fp8"; }),
                 r.gemm.end());
    r.gemm_skipped.push_back(skipped);
  } else {
    r.checks.push_back("GEMM fp8: 8 sampled entries of every product match the CPU");
  }
}

}  // namespace gpubench
