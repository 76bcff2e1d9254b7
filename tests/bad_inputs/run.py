#!/usr/bin/env python3
"""Runs the bad-input corpus (cases.json beside this file) against a ddlsim binary.

Each case is one command line and the files it reads. Its input is a shipped scenario with a JSON
merge patch (RFC 7386: null removes a key), a raw text, or what a named generator below writes;
it names the exit status expected and a fragment of the message expected on stderr. A case fails
on another status, a missing fragment, a message without "ddlsim:", or no answer in 60 s.
Usage: tests/bad_inputs/run.py DDLSIM SOURCE_DIR WORK_DIR [NAME_SUBSTRING]
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def quickstart_sweep(src, sweep):
    doc = json.loads((src / "scenarios/quickstart.json").read_text())
    doc["sweep"] = sweep
    return json.dumps(doc)


# Inputs too large or too special for cases.json: each returns the text of {file}, or prepares
# {work} itself and returns None.
def gen_deep_sweep(src, work, case):
    return quickstart_sweep(src, {"workload.iterations": "X"}).replace('"X"', "[" * 100000 + "]" * 100000)


def gen_million_failing_points(src, work, case):
    return quickstart_sweep(src, {"workload.batch_per_gpu": [-i for i in range(1000)],
                                  "workload.iterations": [-i for i in range(1000)]})


def gen_fifo(src, work, case):
    path = work / (case["name"] + ".json")
    os.mkfifo(path)
    return None


def gen_huge_file(src, work, case):
    with open(work / (case["name"] + ".json"), "wb") as f:
        f.truncate(65 * 1024 * 1024)  # sparse: 65 MiB of zeros without writing them
    return None


def gen_invalid_utf8(src, work, case):
    text = (src / "scenarios/quickstart.json").read_bytes().replace(b'"quickstart"', b'"q\xff\xfe"', 1)
    (work / (case["name"] + ".json")).write_bytes(text)
    return None


def results_folder(src, work, case, row):
    folder = work / (case["name"] + ".out")
    folder.mkdir()
    (folder / "results.jsonl").write_text(json.dumps(row) + "\n")
    return quickstart_sweep(src, {"cluster.nodes": [1, 2]})


def gen_resume_bad_point(src, work, case):
    return results_folder(src, work, case, {"point": "x", "sweep_id": "0", "kind": "training", "status": "ok",
                                            "paths": ["cluster.nodes"], "values": [1], "metrics": {}})


def gen_resume_existing(src, work, case):
    return results_folder(src, work, case, {"point": 0, "sweep_id": "0", "kind": "training", "status": "ok",
                                            "paths": ["cluster.nodes"], "values": [1], "metrics": {}})


def shard(work, case, row):
    folder = work / (case["name"] + ".shard")
    folder.mkdir()
    (folder / "results.jsonl").write_text(json.dumps(row) + "\n")
    return None


def gen_merge_no_kind(src, work, case):
    return shard(work, case, {"point": 0, "sweep_id": "a", "status": "ok", "paths": [], "values": [], "metrics": {}})


def gen_merge_numeric_id(src, work, case):
    return shard(work, case, {"point": 0, "sweep_id": 7, "kind": "training", "status": "ok", "paths": [],
                              "values": [], "metrics": {}})


def nccl_log(work, case):
    (work / (case["name"] + ".log")).write_text(
        "#  Rank  0 Group  0 Pid 1 on host0 device  0\n#  Rank  1 Group  0 Pid 2 on host0 device  1\n"
        "#       size         count      type   redop    root     time   algbw   busbw #wrong  time algbw busbw #wrong\n"
        "     1048576        262144     float     sum      -1    20.00   52.43   52.43      0  20.00 52.43 52.43  0\n"
        "     2097152        524288     float     sum      -1    38.00   55.19   55.19      0  38.00 55.19 55.19  0\n"
        "     4194304       1048576     float     sum      -1    74.00   56.68   56.68      0  74.00 56.68 56.68  0\n")


def gen_calibration_scopes_array(src, work, case):
    nccl_log(work, case)
    return json.dumps({"schema": 1, "kind": "network_calibration", "scopes": []})


def gen_calibration_kind_number(src, work, case):
    nccl_log(work, case)
    return json.dumps({"schema": 1, "kind": 3, "scopes": {}})


def gen_dev_zero_profile(src, work, case):
    os.symlink("/dev/zero", work / (case["name"] + ".json"))
    return None


def gen_output_onto_file(src, work, case):
    (work / (case["name"] + ".blocker")).write_text("a file where the output folder should be\n")
    return (src / "scenarios/ring_allreduce_16gpu.json").read_text()


GENERATORS = {name[4:]: fn for name, fn in globals().items() if name.startswith("gen_")}


def prepare(case, src, work):
    path = work / (case["name"] + ".json")
    text = None
    if "scenario" in case:
        base = json.loads((src / case["scenario"]).read_text())
        text = json.dumps(merge_patch(base, case.get("patch", {})), indent=1)
        if "text_replace" in case:  # what a merge patch cannot say: a duplicate key, a raw number
            old, new = case["text_replace"]
            assert old in text, case["name"]
            text = text.replace(old, new, 1)
    elif "text" in case:
        text = case["text"]
    elif "generate" in case:
        text = GENERATORS[case["generate"]](src, work, case)
    if text is not None:
        path.write_text(text)
    return path


def run_case(case, ddlsim, src, work):
    path = prepare(case, src, work)
    subst = {"file": str(path), "work": str(work), "src": str(src), "name": case["name"]}
    args = [a.format(**subst) for a in case.get("args", ["run", "{file}", "--quiet", "--output", "{work}/{name}.o"])]
    try:
        done = subprocess.run([ddlsim, *args], capture_output=True, timeout=60, cwd=work)
    except subprocess.TimeoutExpired:
        return "no answer in 60 s"
    err = done.stderr.decode(errors="replace")
    if done.returncode != case["exit"]:
        return f"exit {done.returncode}, expected {case['exit']}: {err.strip()[-400:]}"
    if case["message"] not in err:
        return f"message lacks '{case['message']}': {err.strip()[-400:]}"
    if "ddlsim:" not in err or "terminate called" in err or "[json.exception" in err:
        return f"not a clean message: {err.strip()[-400:]}"
    return None


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    ddlsim = str(pathlib.Path(sys.argv[1]).resolve())
    src, work = pathlib.Path(sys.argv[2]).resolve(), pathlib.Path(sys.argv[3]).resolve()
    only = sys.argv[4] if len(sys.argv) > 4 else ""
    cases = json.loads((pathlib.Path(__file__).parent / "cases.json").read_text())["cases"]
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    names = [c["name"] for c in cases]
    if len(set(names)) != len(names):
        print("cases.json: duplicate case names")
        return 1
    failures = 0
    for case in cases:
        if only not in case["name"]:
            continue
        problem = run_case(case, ddlsim, src, work)
        print(f"{'ok  ' if problem is None else 'FAIL'} {case['name']}" + ("" if problem is None else f": {problem}"))
        failures += problem is not None
    print(f"{len(cases) - failures} of {len(cases)} bad-input cases answered as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
