#!/usr/bin/env python3
"""Prints a measured GPU profile against its datasheet, as Markdown for bench/README.md.

For each microbenchmark: the best measured rate, the datasheet figure it is bounded by, and the
fraction reached. GEMMs against the dense peak of their dtype; device copy, read, write and the
a += b reduction against the HBM bandwidth; host-device copies against the host link (PCIe 5.0
x16 for H100/H200 SXM, the table in derive_profile.py); codecs at their largest size as the fp32
input they get through per second, beside the measured copy bandwidth.

Usage: python3 calibration/profile_report.py calibration/profiles/h100-sxm.json
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from derive_profile import MEASURED_HOST_LINK_GBPS, load_measured, value  # noqa: E402


def rate(x, unit):
    return f"{x / unit:,.1f}"


def size(b):
    for unit, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if b >= unit:
            return f"{b / unit:g} {name}"
    return f"{b:g} B"


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PROFILE.json")
    p = load_measured(sys.argv[1], "its numbers are the datasheet's or scaled from another GPU, so comparing "
                      "them with the datasheet says nothing")
    out = [f"{p['gpu']} ({p['name']}), {p['sm_count']} SMs, driver {p['driver']}, CUDA {p['cuda']}, "
           f"measured {p['date']} by `{p['command']}`", "",
           "| microbenchmark | best measured | datasheet | fraction |", "|---|---:|---:|---:|"]
    hbm = value(p["memory_bandwidth"])
    for dtype, points in p.get("gemm", {}).items():
        best = max(points, key=lambda q: 2 * q["m"] * q["n"] * q["k"] / value(q["time"]))
        flops = 2 * best["m"] * best["n"] * best["k"] / value(best["time"])
        peak = value(p["peak"][dtype])
        out.append(f"| GEMM {dtype} (best: {best['m']} x {best['n']} x {best['k']}) | {rate(flops, 1e12)} TFLOP/s | "
                   f"{rate(peak, 1e12)} TFLOP/s | {100 * flops / peak:.1f} % |")
    host = MEASURED_HOST_LINK_GBPS.get(p["name"])
    names = {"copy": "device copy (bytes read + written)", "read": "device read", "write": "device write",
             "h2d": "host to device (pinned)", "d2h": "device to host (pinned)"}
    for kind, points in p.get("bandwidth", {}).items():
        best = max(points, key=lambda q: value(q["bandwidth"]))
        b = value(best["bandwidth"])
        bound = hbm if kind in ("copy", "read", "write") else (host * 1e9 if host else None)
        label = "HBM" if kind in ("copy", "read", "write") else "host link"
        out.append(f"| {names.get(kind, kind)} (at {size(best['bytes'])}) | {rate(b, 1e9)} GB/s | "
                   + (f"{rate(bound, 1e9)} GB/s {label} | {100 * b / bound:.1f} % |" if bound else "unknown | |"))
    if p.get("reduce"):
        last = p["reduce"][-1]
        b = 12 * last["elements"] / value(last["time"])  # reads a and b, writes a: 12 bytes an element
        out.append(f"| reduction a += b, fp32 (at {last['elements']:.0f} elements, 12 B each) | {rate(b, 1e9)} GB/s | "
                   f"{rate(hbm, 1e9)} GB/s HBM | {100 * b / hbm:.1f} % |")
    out += ["", "| latency | measured |", "|---|---:|",
            f"| kernel launch (the larger of host enqueue and GPU back-to-back) | {p['launch_overhead']} |"]
    if "sync_round_trip" in p:
        out.append(f"| launch + cudaDeviceSynchronize round trip | {p['sync_round_trip']} |")
    if p.get("reduce"):
        first = p["reduce"][0]
        out.append(f"| reduction of {first['elements']:.0f} elements | {first['time']} |")
    if p.get("codecs"):
        copy = value(p["copy_bandwidth"])
        out += ["", f"Codecs at their largest size (measured copy bandwidth {rate(copy, 1e9)} GB/s):", "",
                "| codec | elements | encode | decode | encode input rate (4 B an element) |",
                "|---|---:|---:|---:|---:|"]
        for name, c in p["codecs"].items():
            e, d = c["encode"][-1], c["decode"][-1]
            out.append(f"| {name} | {e['elements']:.0f} | {e['time']} | {d['time']} | "
                       f"{rate(4 * e['elements'] / value(e['time']), 1e9)} GB/s |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
