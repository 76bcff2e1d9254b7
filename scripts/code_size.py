#!/usr/bin/env python3
"""Function and file sizes of the C++ sources, for the house rules in ARCHITECTURE.md.

A function's length is its line span as universal-ctags reports it (`end:` minus `line:`
plus one), body and signature included; lambdas count inside their enclosing function.
Files are counted with their line total. Usage:
  scripts/code_size.py [--max-function N] [--max-file N] [--top N] [--ctags PATH] DIR...
Prints every function and file over the limits and exits 1 when there is one.
"""
import argparse
import pathlib
import subprocess
import sys


def functions(paths, ctags="ctags"):
    out = subprocess.run(
        [ctags, "--c++-kinds=f", "--fields=+ne", "-o", "-", *map(str, paths)],
        check=True, capture_output=True, text=True).stdout
    for row in out.splitlines():
        cols = row.split("\t")
        name, path = cols[0], cols[1]
        fields = dict(c.split(":", 1) for c in cols[3:] if ":" in c)
        if name.startswith("__anon") or "end" not in fields:
            continue
        scope = fields.get("class") or fields.get("function") or fields.get("namespace") or ""
        scope = ".".join(p for p in scope.split("::") if not p.startswith("__anon"))
        start, end = int(fields["line"]), int(fields["end"])
        yield path, start, end - start + 1, (scope + "::" if scope else "") + name


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-function", type=int, default=100)
    parser.add_argument("--max-file", type=int, default=600)
    parser.add_argument("--top", type=int, default=0, help="also list the N longest functions")
    parser.add_argument("--ctags", default="ctags", help="universal-ctags (default: ctags on PATH)")
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()
    sources = sorted(p for d in args.dirs for p in pathlib.Path(d).rglob("*")
                     if p.suffix in (".cpp", ".hpp"))
    found = sorted(functions(sources, args.ctags), key=lambda f: -f[2])
    bad = 0
    for path, start, length, name in found:
        if length > args.max_function:
            print(f"function {length:5d} lines  {path}:{start}  {name}")
            bad += 1
    for path in sources:
        lines = len(path.read_text().splitlines())
        if lines > args.max_file:
            print(f"file     {lines:5d} lines  {path}")
            bad += 1
    for path, start, length, name in found[:args.top]:
        print(f"longest  {length:5d} lines  {path}:{start}  {name}")
    print(f"{len(sources)} files, {len(found)} functions; {bad} over the limits "
          f"(function {args.max_function} lines, file {args.max_file} lines)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
