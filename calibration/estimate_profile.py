#!/usr/bin/env python3
"""Writes a GPU profile whose codec costs are estimates, for GPUs we have not measured.

Each codec kernel sequence is costed by a roofline: launches x launch overhead + bytes moved per
element x elements / copy bandwidth. The bytes per element and launches per call below are our
reading of how each method is implemented on GPUs (stated per codec); the GPU's numbers come from
its datasheet. A measured profile (calibration/cuda, `ddlsim calibrate`) replaces all of this.

Usage: python3 calibration/estimate_profile.py v100-sxm2 > calibration/profiles/v100-sxm2.json
"""
import json
import sys

# Datasheet numbers. V100 SXM2: NVIDIA Tesla V100 datasheet (2017/2018): 15.7 TFLOPS fp32,
# 125 TFLOPS tensor (fp16), 900 GB/s HBM2, 80 SMs, 16 or 32 GB.
GPUS = {
    "v100-sxm2": {
        "gpu": "Tesla V100-SXM2-32GB",
        "sm_count": 80,
        "memory": "32GiB",
        "peak": {"fp32": "15.7TFLOPS", "fp16": "125TFLOPS"},
        "memory_bandwidth_gbps": 900.0,
        "host_link_gbps": 16.0,  # PCIe 3.0 x16
    },
    # NVIDIA A100 Tensor Core GPU datasheet (2021), 80GB SXM: 19.5 TFLOPS fp32, 156 tf32, 312
    # fp16/bf16 (dense; the datasheet's doubled figures are with sparsity), 2,039 GB/s HBM2e; 108 SMs
    # (NVIDIA A100 architecture whitepaper, 2020); PCIe 4.0 x16 to the host.
    "a100-sxm4": {
        "gpu": "NVIDIA A100-SXM4-80GB",
        "sm_count": 108,
        "memory": "80GiB",
        "peak": {"fp32": "19.5TFLOPS", "tf32": "156TFLOPS", "fp16": "312TFLOPS", "bf16": "312TFLOPS"},
        "memory_bandwidth_gbps": 2039.0,
        "host_link_gbps": 32.0,
    },
    # NVIDIA Turing architecture whitepaper (2018), GeForce RTX 2080 Ti reference: 13.4 TFLOPS fp32,
    # 53.8 TFLOPS fp16 tensor with fp32 accumulation (what training uses on GeForce), 616 GB/s GDDR6,
    # 68 SMs, 11 GB; PCIe 3.0 x16.
    "rtx2080ti": {
        "gpu": "NVIDIA GeForce RTX 2080 Ti",
        "sm_count": 68,
        "memory": "11GiB",
        "peak": {"fp32": "13.4TFLOPS", "fp16": "53.8TFLOPS"},
        "memory_bandwidth_gbps": 616.0,
        "host_link_gbps": 16.0,
    },
}
COPY_FRACTION = 0.85  # estimate: a device-to-device copy reaches about 85% of the HBM peak
LAUNCH_US = 5.0  # estimate: one kernel launch from a framework, microseconds
GEMM_EFFICIENCY = 0.7  # estimate: fraction of the fp32 peak a large GEMM reaches
REF_RATIO = 0.01  # sparsifier curves are for 1% of the elements

# (launches, bytes moved per input element) for encode and decode of one payload. Decode turns
# one payload into dense values added into the accumulator: reading it, then 4 + 4 bytes per
# dense element of read-modify-write for dense codecs, or a scatter-add of the k kept pairs.
R = REF_RATIO
CODECS = {
    # cast 4 -> 2 bytes; decode reads 2, adds into fp32
    "fp16": ((1, 6.0), (1, 10.0), "a cast kernel"),
    "bf16": ((1, 6.0), (1, 10.0), "a cast kernel"),
    # radix select of |g|: an abs pass (8), four 8-bit digit histogram passes (4 each), a gather pass
    # (4) writing k pairs; decode: zero the dense buffer (4) and scatter-add k pairs (16 each)
    "topk": ((10, 28.0 + 8 * R), (2, 4.0 + 16 * R), "radix select, 4 digit passes"),
    # indices from a shared seed (generated, 4 per kept element), gather k values
    "randomk": ((2, 12 * R), (2, 4.0 + 16 * R), "seeded index generation and gather"),
    # momentum correction (u = m u + g, v += u: 20), threshold from a 1% sample, compare and
    # compact (8), write k pairs
    "dgc": ((8, 28.0 + 8 * R), (2, 4.0 + 16 * R), "momentum correction, sampled threshold, compaction"),
    # compare and compact (8) writing k words
    "threshold": ((3, 8.0 + 4 * R), (2, 4.0 + 12 * R), "compare and stream compaction"),
    # norm (4), stochastic rounding with a counter-based generator and packing (4 + 9/8)
    "qsgd": ((3, 9.125), (1, 9.125), "norm, stochastic rounding, bit packing"),
    # max |g| (4), stochastic ternarisation and 2-bit packing (4 + 1/4)
    "terngrad": ((2, 8.25), (1, 8.25), "max-abs, stochastic ternarisation, 2-bit packing"),
    # mean |g| (4), sign packing (4 + 1/8)
    "signsgd": ((2, 8.125), (1, 8.125), "mean-abs, sign packing"),
    # momentum update (12), then as signsgd on it
    "signum": ((3, 20.125), (1, 8.125), "momentum update, mean-abs, sign packing"),
    # per-column means of positive and negative entries (4), 1-bit packing (4 + 1/8)
    "onebit": ((2, 8.125), (1, 8.125), "column means, 1-bit packing"),
    # stochastic rounding to a power of two, 9-bit packing (4 + 9/8)
    "natural": ((1, 5.125), (1, 9.125), "stochastic power-of-two rounding, 9-bit packing"),
    # max |g| (4), scale and round to 8 bits (4 + 1)
    "8bit": ((2, 9.0), (1, 9.0), "max-abs, 8-bit quantisation"),
    # compensate g + e (12); update e = g - decoded (12)
    "error_feedback": ((1, 12.0), (1, 12.0), "compensate and residual update, elementwise"),
}
POINTS = [1 << 10, 1 << 16, 1 << 20, 1 << 24, 1 << 27]


def fmt_us(seconds):
    return f"{seconds * 1e6:.6g}us"


def curve(launches, bytes_per_element, bandwidth):
    return [{"elements": n, "time": fmt_us(launches * LAUNCH_US * 1e-6 + n * bytes_per_element / bandwidth)}
            for n in POINTS]


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in GPUS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(GPUS)}")
    name = sys.argv[1]
    g = GPUS[name]
    copy = g["memory_bandwidth_gbps"] * 1e9 * COPY_FRACTION
    codecs = {}
    for codec, (enc, dec, how) in CODECS.items():
        entry = {
            "source": (f"estimate, not measured: roofline of {how}; encode {enc[0]} launches and "
                       f"{enc[1]:g} bytes an element, decode {dec[0]} launches and {dec[1]:g} bytes an element, at "
                       f"{LAUNCH_US:g} us a launch and {copy / 1e9:g} GB/s"),
            "encode": curve(enc[0], enc[1], copy),
            "decode": curve(dec[0], dec[1], copy),
        }
        if codec in ("topk", "randomk", "dgc", "threshold"):
            entry["ratio"] = REF_RATIO
        codecs[codec] = entry
    profile = {
        "schema": 1,
        "name": name,
        "gpu": g["gpu"],
        "sm_count": g["sm_count"],
        "memory": g["memory"],
        "measured": False,
        "source": ("estimate from the datasheet (peaks, HBM bandwidth) and a roofline of each codec's memory "
                   f"traffic; copy bandwidth {COPY_FRACTION:g} x HBM peak, {LAUNCH_US:g} us a kernel launch and "
                   f"GEMM efficiency {GEMM_EFFICIENCY:g} are estimates, not measurements"),
        "date": "2026-11-22",
        "command": f"python3 calibration/estimate_profile.py {name}",
        "driver": "none (not measured)",
        "cuda": "none (not measured)",
        "peak": g["peak"],
        "memory_bandwidth": f"{g['memory_bandwidth_gbps']:g}GB/s",
        "copy_bandwidth": f"{copy / 1e9:g}GB/s",
        "launch_overhead": f"{LAUNCH_US:g}us",
        "gemm_efficiency": GEMM_EFFICIENCY,
        "codecs": codecs,
    }
    json.dump(profile, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
