// ddlsim_gpubench: the calibration microbenchmarks on one GPU (GEMM, memory, launch, reduction,
// every compression codec), each timed with CUDA events after warm-up (median of repetitions)
// on non-zero inputs and checked against a CPU reference, written as a GPU profile
// (calibration/profiles/README.md). Run through `ddlsim calibrate`.
#include "calibration/cuda/cuda_util.cuh"

#include <cstdio>
#include <cstring>
#include <exception>

int main(int argc, char** argv)
{
  gpubench::Options o;
  o.command = "ddlsim calibrate";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      o.quick = true;
      o.command += " --quick";
    } else if (std::strcmp(argv[i], "--profile-dir") == 0 && i + 1 < argc) {
      o.profile_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
      o.output = argv[++i];
      o.command += std::string(" --output ") + o.output;
    } else {
      std::fprintf(stderr, "usage: %s [--output PROFILE.json | --profile-dir DIR] [--quick]\n", argv[0]);
      return 2;
    }
  }
  try {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      std::fprintf(stderr, "ddlsim calibrate: no CUDA GPU on this machine (cudaGetDeviceCount found none); the "
                           "microbenchmarks need one\n");
      return 2;
    }
    gpubench::Results r;
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    int driver = 0, runtime = 0;
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    r.device = {prop.name,
                prop.multiProcessorCount,
                prop.major,
                prop.minor,
                double(prop.totalGlobalMem),
                "CUDA driver API " + std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10),
                std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10)};
    std::fprintf(stderr, "%s: %d SMs, compute capability %d.%d, %.1f GiB\n", prop.name, prop.multiProcessorCount,
                 prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0);
    gpubench::run_memory(o, r);
    gpubench::run_gemm(o, r);
    gpubench::run_codecs(o, r);
    gpubench::write_profile(o, r);
    return 0;
  } catch (const gpubench::CheckFailed& e) {
    std::fprintf(stderr, "ddlsim calibrate: a kernel's result is wrong, no profile written: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ddlsim calibrate: %s\n", e.what());
    return 1;
  }
}
