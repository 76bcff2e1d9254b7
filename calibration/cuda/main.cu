// ddlsim_gpubench: the calibration microbenchmarks on one GPU (GEMM, memory, launch, reduction,
// every compression codec), each timed with CUDA events after warm-up (median of repetitions)
// on non-zero inputs and checked against a CPU reference, written as a GPU profile
// (calibration/profiles/README.md). Run through `ddlsim calibrate`, or copied alone to a GPU
// node: it needs only the NVIDIA driver and cuBLAS (see calibration/cuda/CMakeLists.txt).
#include "calibration/cuda/cuda_util.cuh"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>

int main(int argc, char** argv)
{
  gpubench::Options o;
  // The profile's `command`: this program and its options (the profile directory aside), or what
  // `ddlsim calibrate` says it ran.
  const char* slash = std::strrchr(argv[0], '/');
  o.command = slash ? slash + 1 : argv[0];
  std::string given_command;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--quick") == 0) {
      o.quick = true;
      o.command += " --quick";
    } else if (std::strcmp(argv[i], "--profile-dir") == 0 && has_value) {
      o.profile_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--output") == 0 && has_value) {
      o.output = argv[++i];
      o.command += " --output " + o.output;
    } else if (std::strcmp(argv[i], "--command") == 0 && has_value) {
      given_command = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--output PROFILE.json | --profile-dir DIR] [--quick] [--command TEXT]\n",
                   argv[0]);
      return 2;
    }
  }
  if (!given_command.empty())
    o.command = given_command;
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
                gpubench::driver_description(gpubench::nvidia_driver_version(), driver),
                std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10)};
    std::fprintf(stderr, "%s: %d SMs, compute capability %d.%d, %.1f GiB\n", prop.name, prop.multiProcessorCount,
                 prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0);
    // Each part's wall time, so a run's length is known before a long one is planned.
    const auto timed = [&](const char* part, void (*run)(const gpubench::Options&, gpubench::Results&)) {
      const auto start = std::chrono::steady_clock::now();
      run(o, r);
      std::fprintf(stderr, "%s: %.1f s\n", part,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    };
    const auto start = std::chrono::steady_clock::now();
    gpubench::warm_up(o);
    std::fprintf(stderr, "warm-up: %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    timed("memory, launch and reduction", gpubench::run_memory);
    timed("GEMM", gpubench::run_gemm);
    timed("codecs", gpubench::run_codecs);
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
