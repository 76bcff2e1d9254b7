#!/usr/bin/env python3
"""Bus bandwidth against message size (log x), nccl-tests style, from ddlsim's results.csv.

usage: plots/collective_busbw.py RESULTS.csv [RESULTS.csv ...] --out PREFIX
Writes PREFIX.png and PREFIX.svg; each CSV is one line, labelled by its folder name.
"""
import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    sizes, busbw = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            sizes.append(float(row["size_B"]))
            busbw.append(float(row["busbw_GBps"]))
    return sizes, busbw


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    fig, ax = plt.subplots(figsize=(6, 4))
    for path in args.csv:
        sizes, busbw = read(path)
        if not sizes:
            sys.exit(f"{path}: no rows")
        ax.plot(sizes, busbw, marker="o", markersize=3,
                label=os.path.basename(os.path.dirname(os.path.abspath(path))))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("message size per rank (bytes)")
    ax.set_ylabel("bus bandwidth (GB/s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{args.out}.{ext}", dpi=120)
    for ext in ("png", "svg"):
        if os.path.getsize(f"{args.out}.{ext}") == 0:
            sys.exit(f"{args.out}.{ext} is empty")


if __name__ == "__main__":
    main()
