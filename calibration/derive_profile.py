#!/usr/bin/env python3
"""Derives a GPU profile for a GPU we have not measured from one we have, by roofline scaling.

Rules (each curve scales with the resource that bounds it):
- GEMM times of a dtype x (measured GPU's peak / target's peak) of that dtype; a dtype the target
  lacks is dropped. gemm_efficiency is kept (the same fraction of a different peak).
- Device-memory bandwidth curves (copy, read, write) x (target HBM / measured HBM); host-device
  curves x (target host link / measured host link) when both are known, else kept.
- Codec and reduction curves are memory-bound kernels: each time t splits into the launch-bound
  part (the curve's first point) and the rest, which scales with the HBM ratio:
  t' = t0 + (t - t0) x (measured HBM / target HBM).
- Launch overhead and the sync round trip are host-bound: kept.
- Measured iterations are dropped (they belong to the measured GPU).
The target's peaks, memory bandwidth, SMs and memory come from the datasheet table in
estimate_profile.py. The result says "derived_from" and "measured": false.

Usage: python3 calibration/derive_profile.py MEASURED.json TARGET > calibration/profiles/TARGET.json
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from estimate_profile import GPUS  # noqa: E402

UNITS = {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9,
         "GB/s": 1e9, "TB/s": 1e12, "MB/s": 1e6, "GBps": 1e9, "TBps": 1e12,
         "TFLOPS": 1e12, "PFLOPS": 1e15, "GFLOPS": 1e9}
# Host links of the measured GPUs the microbenchmarks know (GB/s, one direction): H100 (SXM and
# PCIe) and H200 SXM on PCIe 5.0 x16, A100 on PCIe 4.0 x16.
MEASURED_HOST_LINK_GBPS = {"h100-sxm": 64.0, "h100-pcie": 64.0, "h200-sxm": 64.0, "a100-sxm4": 32.0}


def value(text):
    m = re.fullmatch(r"([0-9.eE+-]+)\s*(\S+)", text)
    if not m or m.group(2) not in UNITS:
        sys.exit(f"derive_profile: cannot read the quantity '{text}'")
    return float(m.group(1)) * UNITS[m.group(2)]


def us(seconds):
    return f"{seconds * 1e6:.6g}us"


def scale_curve(points, ratio):
    t0 = value(points[0]["time"])
    return [{"elements": p["elements"], "time": us(t0 + (value(p["time"]) - t0) * ratio)} for p in points]


def load_measured(path, refusal):
    """The profile at `path`; exits with `refusal` unless it was measured on a GPU."""
    with open(path) as f:
        profile = json.load(f)
    if not profile.get("measured"):
        sys.exit(f"{os.path.basename(sys.argv[0])}: {path} is not a measured profile (\"measured\": true); "
                 f"{refusal}")
    return profile


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in GPUS:
        sys.exit(f"usage: {sys.argv[0]} MEASURED.json {'|'.join(GPUS)}")
    src = load_measured(sys.argv[1], "derive only from measurements")
    name = sys.argv[2]
    t = GPUS[name]
    hbm_ratio = value(src["memory_bandwidth"]) / (t["memory_bandwidth_gbps"] * 1e9)
    host_src = MEASURED_HOST_LINK_GBPS.get(src["name"])
    host_ratio = host_src / t["host_link_gbps"] if host_src else 1.0
    out = {
        "schema": 1, "name": name, "gpu": t["gpu"], "sm_count": t["sm_count"], "memory": t["memory"],
        "measured": False, "derived_from": src["name"],
        "source": (f"derived from the measured {src['name']} profile ({src['gpu']}, {src['date']}) by roofline "
                   f"scaling (calibration/derive_profile.py): GEMMs by the peak ratio per dtype, memory-bound "
                   f"curves by the HBM ratio ({1 / hbm_ratio:.3g}x), host links by {1 / host_ratio:.3g}x, launch "
                   "overheads kept; peaks and bandwidth from the target's datasheet"),
        "date": src["date"],
        "command": f"python3 calibration/derive_profile.py {sys.argv[1]} {name}",
        "driver": src["driver"], "cuda": src["cuda"],
        "peak": t["peak"],
        "memory_bandwidth": f"{t['memory_bandwidth_gbps']:g}GB/s",
        "copy_bandwidth": f"{value(src['copy_bandwidth']) / hbm_ratio / 1e9:.6g}GB/s",
        "launch_overhead": src["launch_overhead"],
        "gemm_efficiency": src["gemm_efficiency"],
    }
    if "sync_round_trip" in src:
        out["sync_round_trip"] = src["sync_round_trip"]
    gemm = {}
    for dtype, points in src.get("gemm", {}).items():
        if dtype not in t["peak"]:
            continue
        ratio = value(src["peak"][dtype]) / value(t["peak"][dtype])
        gemm[dtype] = [dict(p, time=f"{value(p['time']) * ratio:.6g}s") for p in points]
    if gemm:
        out["gemm"] = gemm
    bandwidth = {}
    for kind, points in src.get("bandwidth", {}).items():
        r = hbm_ratio if kind in ("copy", "read", "write") else host_ratio
        bandwidth[kind] = [{"bytes": p["bytes"], "bandwidth": f"{value(p['bandwidth']) / r / 1e9:.6g}GB/s"}
                           for p in points]
    if bandwidth:
        out["bandwidth"] = bandwidth
    if src.get("reduce"):
        out["reduce"] = scale_curve(src["reduce"], hbm_ratio)
    codecs = {}
    for codec, c in src.get("codecs", {}).items():
        e = {"source": f"derived from {src['name']} ({c['source']}) by the HBM ratio",
             "encode": scale_curve(c["encode"], hbm_ratio), "decode": scale_curve(c["decode"], hbm_ratio)}
        if "ratio" in c:
            e["ratio"] = c["ratio"]
        codecs[codec] = e
    if codecs:
        out["codecs"] = codecs
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
