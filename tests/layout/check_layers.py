#!/usr/bin/env python3
"""Checks the layer rules of ARCHITECTURE.md against the sources.

ARCHITECTURE.md's layer table (the first table whose header starts with "| Folder") names each
code folder, its namespace and what it may include (folders, or single headers). This script
fails when
  - a folder under sim/ that holds sources is missing from the table (--folders);
  - a source includes a project header its folder may not include, or a folder's namespace is
    not the one the table gives (--includes);
  - a file outside sim/engine includes a SimGrid header (<simgrid/...> or <xbt/...>) (--simgrid).
Usage: tests/layout/check_layers.py ROOT [--folders] [--includes] [--simgrid] (none: all three).
"""
import pathlib
import re
import sys

SOURCE = (".cpp", ".hpp", ".cu", ".cuh")


def layer_table(root: pathlib.Path):
    text = (root / "ARCHITECTURE.md").read_text()
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| Folder"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        folder = cells["Folder"].strip("`/")
        allowed = [a.strip().strip("`") for a in cells["May include"].split(",") if a.strip() not in ("", "-", "nothing")]
        namespaces = [n.strip().strip("`") for n in cells["Namespace"].split(",")]
        rows[folder] = {"namespaces": namespaces, "allowed": allowed}
    return rows


def owner(path: str, folders):
    """The table folder a path belongs to: the longest that contains it."""
    best = None
    for f in folders:
        if path == f or path.startswith(f + "/"):
            if best is None or len(f) > len(best):
                best = f
    return best


def sources(root: pathlib.Path, folder: str):
    return sorted(p for p in (root / folder).rglob("*") if p.suffix in SOURCE)


def check_folders(root, table):
    bad = []
    for d in sorted(p for p in (root / "sim").rglob("*") if p.is_dir()):
        rel = str(d.relative_to(root))
        if any(f.suffix in SOURCE for f in d.iterdir()) and rel not in table:
            bad.append(f"{rel}: holds sources but is not in ARCHITECTURE.md's layer table")
    return bad


def check_includes(root, table):
    bad = []
    for folder, row in table.items():
        for src in sources(root, folder):
            rel = str(src.relative_to(root))
            if owner(rel, table) != folder:
                continue  # a sub-folder with its own row
            text = src.read_text()
            for inc in re.findall(r'#include "([^"]+)"', text):
                target = owner(inc, table)
                if target is None or target == folder:
                    continue
                if target not in row["allowed"] and inc not in row["allowed"]:
                    bad.append(f"{rel}: includes {inc} ({target}), which {folder} may not include")
            for opened in re.findall(r"^namespace (ddlsim[\w:]*) \{", text, re.M):
                if opened not in row["namespaces"] and opened != "ddlsim::test":
                    bad.append(f"{rel}: opens namespace {opened}; {folder}'s is {', '.join(row['namespaces'])}")
    return bad


def check_simgrid(root, table):
    bad = []
    for folder in table:
        for src in sources(root, folder):
            rel = str(src.relative_to(root))
            if rel.startswith("sim/engine/"):
                continue
            for inc in re.findall(r"#include <((?:simgrid|xbt)/[^>]+)>", src.read_text()):
                bad.append(f"{rel}: includes <{inc}>; only sim/engine may include SimGrid")
    return bad


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    root = pathlib.Path(args[0])
    checks = [a for a in args[1:]] or ["--folders", "--includes", "--simgrid"]
    table = layer_table(root)
    missing = [f for f in table if not (root / f).is_dir()]
    bad = [f"ARCHITECTURE.md names {f}, which does not exist" for f in missing]
    if "--folders" in checks:
        bad += check_folders(root, table)
    if "--includes" in checks:
        bad += check_includes(root, table)
    if "--simgrid" in checks:
        bad += check_simgrid(root, table)
    for line in bad:
        print(line)
    print(f"{len(table)} folders in the layer table; {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
