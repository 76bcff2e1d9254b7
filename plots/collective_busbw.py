#!/usr/bin/env python3
"""Bus bandwidth against message size (log x), nccl-tests style, from ddlsim's results.csv.

usage: plots/collective_busbw.py RESULTS.csv [RESULTS.csv ...] --out PREFIX
Writes PREFIX.png and PREFIX.svg; each CSV is one line, labelled by its folder name.
"""
import argparse
import os

from ddlsim_plots import plt, read_csv, require_columns, save


def read(path):
    rows = read_csv(path)
    require_columns(rows, path, ["size_B", "busbw_GBps"])
    return [float(r["size_B"]) for r in rows], [float(r["busbw_GBps"]) for r in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    fig, ax = plt.subplots(figsize=(6, 4))
    for path in args.csv:
        sizes, busbw = read(path)
        ax.plot(sizes, busbw, marker="o", markersize=3,
                label=os.path.basename(os.path.dirname(os.path.abspath(path))))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("message size per rank (bytes)")
    ax.set_ylabel("bus bandwidth (GB/s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save(fig, args.out)


if __name__ == "__main__":
    main()
