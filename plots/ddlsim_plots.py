"""Helpers shared by the plot scripts: reading ddlsim's CSV outputs and saving PNG + SVG."""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401  (re-exported for the scripts)

DPI = 100


def read_csv(path):
    """The rows of a CSV as dicts; exits with a message naming the file when it has none."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"{path}: {e.strerror}")
    if not rows:
        sys.exit(f"{path}: no rows")
    return rows


def ok_rows(rows, path, where=()):
    """Sweep rows with status ok that match every COLUMN=VALUE filter in `where`."""
    out = [r for r in rows if r.get("status", "ok") == "ok"]
    for cond in where:
        column, _, value = cond.partition("=")
        if rows and column not in rows[0]:
            sys.exit(f"{path}: no column '{column}' (columns: {', '.join(rows[0])})")
        out = [r for r in out if r[column] == value]
    if not out:
        sys.exit(f"{path}: no successful rows match {list(where)}")
    return out


def require_columns(rows, path, columns):
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        sys.exit(f"{path}: missing column(s) {', '.join(missing)} (columns: {', '.join(rows[0])})")


def save(fig, prefix):
    """Writes PREFIX.png and PREFIX.svg and checks that both are non-empty."""
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    for ext in ("png", "svg"):
        fig.savefig(f"{prefix}.{ext}", dpi=DPI)
        if os.path.getsize(f"{prefix}.{ext}") == 0:
            sys.exit(f"{prefix}.{ext} is empty")
