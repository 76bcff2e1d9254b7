#!/usr/bin/env python3
"""Renders every plot headless from shipped runs and checks each PNG: present, non-empty, and
of the pixel size its script's figure size gives (at plots/ddlsim_plots.DPI).

usage: render_all.py DDLSIM_BINARY SOURCE_DIR OUT_DIR
"""
import os
import shutil
import struct
import subprocess
import sys


def run(*args):
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=True)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        sys.exit(f"{path}: not a PNG")
    return struct.unpack(">II", head[16:24])


def main():
    ddlsim, src, out = sys.argv[1:4]
    shutil.rmtree(out, ignore_errors=True)  # a fresh sweep each time
    plots = os.path.join(src, "plots")
    py = sys.executable
    sweep = os.path.join(out, "sweep")
    run(ddlsim, "sweep", os.path.join(src, "scenarios/sweeps/scaling_resnet50_bert_large.json"),
        "--quiet", "--output", sweep)
    for name in ("quickstart", "fat_tree_2to1_64gpu", "ring_allreduce_16gpu"):
        run(ddlsim, "run", os.path.join(src, "scenarios", name + ".json"), "--quiet", "--output",
            os.path.join(out, name))
    csv = os.path.join(sweep, "results.csv")
    rows = sum(1 for _ in open(csv)) - 1
    if rows != 90:
        sys.exit(f"{csv}: {rows} rows, expected 90 (2 models x 5 GPU counts x 3 networks x 3 policies)")
    figs = os.path.join(out, "figures")
    run(py, os.path.join(plots, "scaling.py"), csv, "--facet", "model", "--facet", "cluster.network.link",
        "--out", os.path.join(figs, "scaling"))
    run(py, os.path.join(plots, "breakdown.py"), csv, "--where", "model=bert-large",
        "--where", "cluster.network.link=eth-10", "--out", os.path.join(figs, "breakdown"))
    links = os.path.join(out, "fat_tree_2to1_64gpu", "links.csv")
    tiers = len({line.split(",")[3] for line in open(links).read().splitlines()[1:]})
    run(py, os.path.join(plots, "link_heatmap.py"), links, "--out", os.path.join(figs, "links"))
    run(py, os.path.join(plots, "gantt.py"), os.path.join(out, "quickstart", "trace.json"), "--ranks", "0,1,4",
        "--out", os.path.join(figs, "gantt"))
    run(py, os.path.join(plots, "collective_busbw.py"), os.path.join(out, "ring_allreduce_16gpu", "results.csv"),
        "--out", os.path.join(figs, "busbw"))
    # Pixel sizes = figure inches x 100 dpi, as each script sets them.
    expected = {
        "scaling": (1000, round(3.2 * 6 * 100)),        # 6 facets (2 models x 3 networks)
        "breakdown": (round((0.45 * 15 + 2) * 100), 450),  # 15 bars (5 GPU counts x 3 policies)
        "links": (round((3.2 * tiers + 1) * 100), 360),
        "gantt": (1000, round((0.45 * 6 + 1.2) * 100)),  # 3 ranks x 2 streams
        "busbw": (600, 400),
    }
    failures = []
    for name, size in expected.items():
        for ext in ("png", "svg"):
            path = os.path.join(figs, f"{name}.{ext}")
            if not os.path.exists(path) or os.path.getsize(path) == 0:
                failures.append(f"{path}: missing or empty")
        got = png_size(os.path.join(figs, name + ".png"))
        if got != size:
            failures.append(f"{name}.png: {got[0]}x{got[1]} pixels, expected {size[0]}x{size[1]}")
    if failures:
        sys.exit("\n".join(failures))
    print(f"ok: {len(expected)} figures in {figs}")


if __name__ == "__main__":
    main()
