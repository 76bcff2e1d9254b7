#!/usr/bin/env python3
"""Scaling curves from a sweep's results.csv: throughput and scaling efficiency against GPUs.

usage: plots/scaling.py RESULTS.csv --out PREFIX [--series COLUMN] [--facet COLUMN ...] [--where COLUMN=VALUE ...]
One line per value of --series (default: workload.scheduling.policy), one pair of panels
(throughput, efficiency) per combination of the --facet columns (e.g. model, network link).
Writes PREFIX.png and PREFIX.svg.
"""
import argparse
import itertools

from ddlsim_plots import ok_rows, plt, read_csv, require_columns, save


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--out", required=True)
    parser.add_argument("--series", default="workload.scheduling.policy")
    parser.add_argument("--facet", action="append", default=[])
    parser.add_argument("--where", action="append", default=[])
    args = parser.parse_args()
    rows = ok_rows(read_csv(args.csv), args.csv, args.where)
    require_columns(rows, args.csv, ["gpus", "samples_per_s", "scaling_efficiency", args.series] + args.facet)
    facets = sorted({tuple(r[c] for c in args.facet) for r in rows})
    fig, axes = plt.subplots(len(facets), 2, figsize=(10, 3.2 * len(facets)), squeeze=False)
    for (ax_tp, ax_eff), facet in zip(axes, facets):
        in_facet = [r for r in rows if tuple(r[c] for c in args.facet) == facet]
        for series, group in itertools.groupby(sorted(in_facet, key=lambda r: r[args.series]),
                                               key=lambda r: r[args.series]):
            points = sorted((int(r["gpus"]), float(r["samples_per_s"]), float(r["scaling_efficiency"]))
                            for r in group)
            gpus = [p[0] for p in points]
            ax_tp.plot(gpus, [p[1] for p in points], marker="o", markersize=3, label=series)
            ax_eff.plot(gpus, [100 * p[2] for p in points], marker="o", markersize=3, label=series)
        title = ", ".join(facet)
        for ax in (ax_tp, ax_eff):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("GPUs")
            ax.grid(True, which="both", alpha=0.3)
            if title:
                ax.set_title(title, fontsize=9)
        ax_tp.set_ylabel("throughput (samples/s)")
        ax_eff.set_ylabel("scaling efficiency (%)")
        ax_eff.set_ylim(0, 105)
        ax_tp.legend(title=args.series, fontsize=8, title_fontsize=8)
    fig.tight_layout()
    save(fig, args.out)


if __name__ == "__main__":
    main()
