#!/usr/bin/env python3
"""Link utilization heatmap per tier, from a run's links.csv.

usage: plots/link_heatmap.py LINKS.csv --out PREFIX [--metric utilization|busy_fraction]
One panel per tier; each cell is one link direction (in the order of links.csv, laid out in a
near-square grid), coloured by its utilization (bytes / (bandwidth x simulated time)) or busy
fraction. Writes PREFIX.png and PREFIX.svg.
"""
import argparse
import math

from ddlsim_plots import plt, read_csv, require_columns, save


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--out", required=True)
    parser.add_argument("--metric", choices=["utilization", "busy_fraction"], default="utilization")
    args = parser.parse_args()
    rows = read_csv(args.csv)
    require_columns(rows, args.csv, ["tier", args.metric])
    tiers = []
    for r in rows:
        if r["tier"] not in tiers:
            tiers.append(r["tier"])
    fig, axes = plt.subplots(1, len(tiers), figsize=(3.2 * len(tiers) + 1, 3.6), squeeze=False)
    vmax = max(max(float(r[args.metric]) for r in rows), 1e-12)
    image = None
    for ax, tier in zip(axes[0], tiers):
        values = [float(r[args.metric]) for r in rows if r["tier"] == tier]
        width = math.ceil(math.sqrt(len(values)))
        height = math.ceil(len(values) / width)
        grid = [[float("nan")] * width for _ in range(height)]
        for i, v in enumerate(values):
            grid[i // width][i % width] = v
        image = ax.imshow(grid, vmin=0, vmax=vmax, cmap="viridis", aspect="auto")
        ax.set_title(f"{tier} ({len(values)} link directions)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=axes[0].tolist(), label=args.metric.replace("_", " "))
    save(fig, args.out)


if __name__ == "__main__":
    main()
