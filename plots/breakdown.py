#!/usr/bin/env python3
"""Iteration breakdown bars from a sweep's results.csv: compute, exposed communication, codec, bubble.

usage: plots/breakdown.py RESULTS.csv --out PREFIX [--label COLUMN ...] [--where COLUMN=VALUE ...]
One stacked bar per successful row (filtered by --where), labelled by the --label columns
(default: every swept column). Codec and bubble columns count as 0 when the CSV has none
(runs without compression or pipeline parallelism). Writes PREFIX.png and PREFIX.svg.
"""
import argparse

from ddlsim_plots import ok_rows, plt, read_csv, require_columns, save

PARTS = [("compute_s", "compute"), ("exposed_communication_s", "exposed communication"),
         ("codec_s", "codec"), ("bubble_s", "pipeline bubble"),
         ("tensor_s", "tensor-parallel all-reduces"), ("expert_s", "expert all-to-alls")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--out", required=True)
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--where", action="append", default=[])
    args = parser.parse_args()
    all_rows = read_csv(args.csv)
    rows = ok_rows(all_rows, args.csv, args.where)
    require_columns(rows, args.csv, ["compute_s", "exposed_communication_s"])
    columns = list(rows[0])
    labels = args.label or columns[1:columns.index("status")]
    require_columns(rows, args.csv, labels)
    names = ["\n".join(r[c] for c in labels) for r in rows]
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(rows) + 2), 4.5))
    bottom = [0.0] * len(rows)
    for column, name in PARTS:
        values = [1e3 * float(r[column]) if r.get(column) else 0.0 for r in rows]
        if column not in ("compute_s", "exposed_communication_s") and not any(values):
            continue
        ax.bar(range(len(rows)), values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, fontsize=6, rotation=90)
    ax.set_ylabel("time per iteration (ms)")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    save(fig, args.out)


if __name__ == "__main__":
    main()
