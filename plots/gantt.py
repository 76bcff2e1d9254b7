#!/usr/bin/env python3
"""Gantt timeline of a few ranks from a run's trace.json: compute and communication per GPU.

usage: plots/gantt.py TRACE.json --out PREFIX [--ranks 0,1,2,3] [--gpus-per-node N]
One row per GPU stream; bars are the trace's slices ("X" events). Ranks are decoded from the
trace's process (node) and thread (2 x local GPU + stream) ids. Writes PREFIX.png and PREFIX.svg.
"""
import argparse
import json
import sys

from ddlsim_plots import plt, save

COLORS = {"compute": "tab:blue", "communication": "tab:orange", "codec": "tab:green"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--out", required=True)
    parser.add_argument("--ranks", default="0,1,2,3")
    args = parser.parse_args()
    try:
        with open(args.trace) as f:
            events = json.load(f)["traceEvents"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"{args.trace}: not a ddlsim trace ({e})")
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    wanted = {int(r) for r in args.ranks.split(",")}
    tracks = sorted(k for k, name in names.items() if int(name.split()[1]) in wanted)
    if not tracks:
        sys.exit(f"{args.trace}: none of the ranks {sorted(wanted)} is in the trace")
    row = {k: i for i, k in enumerate(tracks)}
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(tracks) + 1.2))
    seen = set()
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if e.get("ph") != "X" or key not in row:
            continue
        seen.add(e["cat"])
        ax.broken_barh([(e["ts"] / 1e3, e["dur"] / 1e3)], (row[key] - 0.4, 0.8),
                       facecolors=COLORS.get(e["cat"], "gray"), edgecolor="none")
    ax.set_yticks(range(len(tracks)))
    ax.set_yticklabels([names[k] for k in tracks], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("simulated time (ms)")
    shown = [c for c in COLORS if c in seen]
    ax.legend([plt.Rectangle((0, 0), 1, 1, color=COLORS[c]) for c in shown], shown, fontsize=8, loc="upper right")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    save(fig, args.out)


if __name__ == "__main__":
    main()
