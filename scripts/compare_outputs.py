#!/usr/bin/env python3
"""Runs every shipped scenario with two ddlsim checkouts and says whether their outputs match.

Each checkout runs its own copy of every scenario file under scenarios/ (sweeps included) with
its own binary (ROOT/build/ddlsim):
  run FILE --output DIR           (report.json, summary.txt, results.csv, trace.json, links.csv, stdout)
  run FILE --print-resolved       (the resolved scenario)
  topo FILE --json                (the topology description)
  sweep FILE -j N --output DIR    (results.jsonl, results.csv) for files with a "sweep" key
Files are compared byte for byte after removing only what measures the simulator itself
(report.json's "wall_clock" key, summary.txt's "of wall time" figure, topo's "build_seconds", a
sweep row's "wall_s"; sweep rows are sorted, since workers finish in any order) and writing each
checkout's root folder as ROOT (resolved scenarios name profile files by absolute path). Usage:
  scripts/compare_outputs.py OLD_ROOT NEW_ROOT [--work DIR] [-j N] [--only SUBSTRING]
e.g. git worktree add /tmp/base <commit>, build it, then
  scripts/compare_outputs.py /tmp/base .
Exit status 0 when every output matches, 1 otherwise.
"""
import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys

WALL_LINE = re.compile(r" in [0-9.]+ s of wall time$", re.M)


def normalized(path: pathlib.Path, root: str) -> bytes:
    data = path.read_bytes().replace(root.encode(), b"ROOT")
    if path.name == "report.json":
        report = json.loads(data)
        report.pop("wall_clock", None)
        return json.dumps(report, indent=1, sort_keys=True).encode()
    if path.name == "stdout.txt" and path.parent.name == "topo":
        return re.sub(rb'"build_seconds": [0-9.e+-]+', b'"build_seconds": 0', data)
    if path.name in ("summary.txt", "stdout.txt"):
        return WALL_LINE.sub(" in (wall) s of wall time", data.decode()).encode()
    if path.name == "results.jsonl":
        rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        for row in rows:
            row.pop("wall_s", None)
        return "\n".join(sorted(json.dumps(r, sort_keys=True) for r in rows)).encode()
    if path.name == "results.csv" and path.parent.name == "sweep":
        lines = data.decode().splitlines()
        header = lines[:1]
        wall = header[0].split(",").index("wall_s") if header and "wall_s" in header[0] else None
        body = []
        for line in lines[1:]:
            if wall is not None:
                cells = line.split(",")
                if len(cells) > wall:
                    cells[wall] = ""
                line = ",".join(cells)
            body.append(line)
        return "\n".join(header + sorted(body)).encode()
    return data


def run_all(root, scenario, out, jobs):
    """Runs `scenario` (relative to root) with root's binary, in `out` (outputs named relative to it)."""
    out.mkdir(parents=True)
    binary = str(root / "build" / "ddlsim")
    path = str(root / scenario)
    text = json.loads((root / scenario).read_text())
    commands = {"run": [binary, "run", path, "--output", "run"],
                "resolved": [binary, "run", path, "--print-resolved"],
                "topo": [binary, "topo", path, "--json"]}
    if "sweep" in text:
        commands["sweep"] = [binary, "sweep", path, "-j", str(jobs), "--quiet", "--output", "sweep"]
    for name, cmd in commands.items():
        done = subprocess.run(cmd, capture_output=True, cwd=out)
        folder = out / name
        folder.mkdir(exist_ok=True)
        (folder / "stdout.txt").write_bytes(done.stdout)
        (folder / "status.txt").write_text(f"{done.returncode}\n{done.stderr.decode()[-2000:]}")


def compare(old: pathlib.Path, new: pathlib.Path, old_root: str, new_root: str):
    names = sorted({p.relative_to(old) for p in old.rglob("*") if p.is_file()} |
                   {p.relative_to(new) for p in new.rglob("*") if p.is_file()})
    bad = []
    for name in names:
        a, b = old / name, new / name
        if not a.exists() or not b.exists():
            bad.append(f"{name}: only in {'new' if b.exists() else 'old'}")
        elif normalized(a, old_root) != normalized(b, new_root):
            bad.append(f"{name}: differs")
    return len(names), bad


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old_root")
    parser.add_argument("new_root")
    parser.add_argument("--work", default="compare-outputs")
    parser.add_argument("--only", default="", help="only the scenarios whose path contains this")
    parser.add_argument("-j", type=int, default=2)
    args = parser.parse_args()
    old_root, new_root = pathlib.Path(args.old_root).resolve(), pathlib.Path(args.new_root).resolve()
    work = pathlib.Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    scenarios = sorted(p.relative_to(new_root) for p in (new_root / "scenarios").rglob("*.json")
                       if args.only in str(p))
    failures = 0
    for scenario in scenarios:
        label = str(scenario).replace("/", "__")
        run_all(old_root, scenario, work / "old" / label, args.j)
        run_all(new_root, scenario, work / "new" / label, args.j)
        files, bad = compare(work / "old" / label, work / "new" / label, str(old_root), str(new_root))
        print(f"{'identical' if not bad else 'DIFFERENT'}  {files:3d} files  {scenario}")
        for line in bad:
            print(f"    {line}")
        failures += bool(bad)
    print(f"{len(scenarios) - failures} of {len(scenarios)} scenarios give identical outputs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
