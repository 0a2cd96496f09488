#!/usr/bin/env python3
"""Runs one case of the bad-input catalogue (cases.py) and checks what must hold.

usage: run_case.py H5DECON MPIEXEC INPUTS WORKDIR CASE NP
       run_case.py --markdown          (the README table)
       run_case.py --list              (case names and rank counts, for CMake)

The command runs in INPUTS under `mpiexec -n NP`, each rank through rank_exit.sh,
with a 60 s limit (a hang fails). Always: every file in INPUTS keeps its SHA-256.
refuse: every rank exits with the case's code, rank 0's output names the problem
        ("h5decon: error: ..." matching the case's regex), no output file exists
        (a .partial may).
works:  every rank exits 0, the output exists and passes the case's check:
        finite (all values finite), equal (the bits of the same run on the
        reference input) or zero_block (finite; zeros where the input is 0).
"""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np

from cases import CASES, RUN, by_name

LIMIT_S = 60
HERE = os.path.dirname(os.path.abspath(__file__))


def checksums(folder):
    sums = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                sums[name] = hashlib.sha256(f.read()).hexdigest()
    return sums


def command(ctx, args, out, results):
    run = [a.format(out=out) for a in RUN]
    for option in [a for a in args if a.startswith("--") and a in run]:  # the case's value wins
        i = run.index(option)
        del run[i:i + 2]
    launcher = [ctx["mpiexec"], "-n", str(ctx["np"]), "--oversubscribe"]
    for key in ctx["env"]:
        launcher += ["-x", key]
    return launcher + [os.path.join(HERE, "rank_exit.sh"), results, ctx["binary"]] + run + args


def launch(ctx, args, out, results):
    os.makedirs(results, exist_ok=True)
    cmd = command(ctx, args, out, results)
    print("$", " ".join(cmd), flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", **ctx["env"]}
    job = subprocess.Popen(cmd, cwd=ctx["inputs"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        text, _ = job.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        text, _ = job.communicate()
        print(text)
        return None
    print(text, flush=True)
    codes = []
    for r in range(ctx["np"]):
        path = os.path.join(results, f"rc.{r}")
        codes.append(int(open(path).read()) if os.path.exists(path) else None)
    rank0 = open(os.path.join(results, "out.0")).read() if os.path.exists(
        os.path.join(results, "out.0")) else ""
    print(f"mpiexec exit code {job.returncode}; rank exit codes {codes}", flush=True)
    return {"mpiexec": job.returncode, "codes": codes, "rank0": rank0, "all": text}


# Open MPI terminates the other ranks once one exits non-zero (as a launch by a
# user would): a rank may be ended by its SIGTERM (143) or SIGKILL (137), or be
# killed before its wrapper records a code (None), rather than exit by itself.
TERMINATED = (143, 137, None)


def check_refusal(c, result, out):
    expect, failures, codes = c["expect"], [], result["codes"]
    if expect["code"] not in codes or any(code not in (expect["code"],) + TERMINATED
                                          for code in codes):
        failures.append(f"rank exit codes {codes}, expected {expect['code']} on each rank (or its "
                        "termination by mpiexec once another had exited)")
    if result["mpiexec"] != expect["code"]:
        failures.append(f"mpiexec exited {result['mpiexec']}, expected {expect['code']}")
    if not re.search(r"h5decon: error: .*" + expect["regex"], result["rank0"]):
        failures.append(f"rank 0 did not print 'h5decon: error: ...{expect['regex']}'")
    if not c["output_may_exist"] and os.path.exists(out):
        failures.append(f"{out} exists: an output presented as complete")
    return failures


def read(path):
    with h5py.File(path, "r") as f:
        return f["data"][...]


def check_output(ctx, c, out, work):
    expect, values = c["expect"], read(out)
    if not np.all(np.isfinite(values)):
        return [f"{np.count_nonzero(~np.isfinite(values))} non-finite values in the output"]
    if expect["check"] == "zero_block":
        if np.any(values[0, 0, :8] != 0) or np.any(values[0, 1] != 0):
            return ["the output is not 0 where the input block/volume is all zero"]
    if expect["check"] == "equal":
        args = list(c["args"])
        args[args.index("--input") + 1] = expect["reference"]
        ref = os.path.join(work, "reference.h5")
        result = launch(ctx, args, ref, os.path.join(work, "reference"))
        if result is None or result["codes"] != [0] * ctx["np"]:
            return [f"the reference run on {expect['reference']} failed"]
        other = read(ref)
        if other.shape != values.shape or not np.array_equal(other.view(np.uint32),
                                                             values.view(np.uint32)):
            return [f"the output differs from the run on {expect['reference']}"]
        print(f"same bits as the run on {expect['reference']}")
    return []


def check_success(ctx, c, result, out, work):
    failures = []
    if any(code != 0 for code in result["codes"]) or result["mpiexec"] != 0:
        return [f"rank exit codes {result['codes']} (mpiexec {result['mpiexec']}), expected 0"]
    regex = c["expect"]["regex"]
    if regex and not re.search(regex, result["rank0"]):
        failures.append(f"rank 0 did not print /{regex}/")
    if regex and c["expect"].get("once"):
        lines = [l for l in result["all"].splitlines() if re.search(regex, l)]
        if len(lines) != 1:
            failures.append(f"{len(lines)} lines of the ranks' output match /{regex}/, "
                            "expected exactly one")
    if not os.path.exists(out):
        return failures + [f"{out} was not written"]
    return failures + check_output(ctx, c, out, work)


def run_case(ctx, name):
    c = by_name(name)
    if ctx["np"] not in c["ranks"]:
        print(f"case {name} is not run on {ctx['np']} ranks")
        return 2
    ctx["env"] = c["env"]
    work = os.path.join(ctx["workdir"], f"{name}_np{ctx['np']}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = os.path.join(work, "out.h5")
    explicit = c["args"][c["args"].index("--output") + 1] if "--output" in c["args"] else None
    out = os.path.join(ctx["inputs"], explicit) if explicit else out
    before = checksums(ctx["inputs"])
    result = launch(ctx, c["args"], out, os.path.join(work, "ranks"))
    if result is None:
        failures = [f"no end within {LIMIT_S} s: killed (a hang)"]
    elif c["expect"]["kind"] == "refuse":
        failures = check_refusal(c, result, out)
    else:
        failures = check_success(ctx, c, result, out, work)
    after = checksums(ctx["inputs"])
    failures += [f"input {n} changed" for n in before if before[n] != after.get(n)]
    for message in failures:
        print("FAIL:", message)
    if not failures:
        print(f"PASS: {name} on {ctx['np']} rank(s): {c['decision']}; inputs unchanged")
    return 1 if failures else 0


def markdown():
    print("| case | arguments | expected on rank 0 (exit code) | ranks | decision |")
    print("|---|---|---|---|---|")
    for c in CASES:
        e = c["expect"]
        env = " ".join(f"{k}={v}" for k, v in c["env"].items())
        args = (env + " " if env else "") + " ".join(c["args"])
        expected = (f"error /{e['regex']}/ ({e['code']})" if e["kind"] == "refuse" else
                    f"ok, output {e['check']}" + (f" {e['reference']}" if e["reference"] else "") +
                    (f"; /{e['regex']}/" if e["regex"] else "") +
                    (" once in all ranks' output" if e.get("once") else ""))
        expected = expected.replace("|", "\\|")
        ranks = ", ".join(map(str, c["ranks"]))
        print(f"| `{c['name']}` | `{args}` | {expected} | {ranks} | {c['decision']} |")


def main():
    if sys.argv[1:] == ["--markdown"]:
        markdown()
        return 0
    if sys.argv[1:] == ["--list"]:  # for CMake: NAME:RANKS... per line
        for c in CASES:
            print(c["name"] + ":" + ":".join(str(r) for r in c["ranks"]))
        return 0
    binary, mpiexec, inputs, workdir, name, np_ = sys.argv[1:7]
    ctx = {"binary": os.path.abspath(binary), "mpiexec": mpiexec,
           "inputs": os.path.abspath(inputs), "workdir": os.path.abspath(workdir), "np": int(np_)}
    return run_case(ctx, name)


if __name__ == "__main__":
    sys.exit(main())
