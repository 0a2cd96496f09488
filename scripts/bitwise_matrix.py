#!/usr/bin/env python3
"""Records or compares the bits of `h5decon run` over a matrix of options.

A change that must not alter results (a refactoring, a new code path that the
defaults do not take) is checked by recording the matrix with the binary before
it and comparing with the binary after:

    scripts/bitwise_matrix.py --binary OLD/h5decon --record before.json
    scripts/bitwise_matrix.py --binary build/src/h5decon --compare before.json

Each case runs on the `small` or `stack` phantom with a fixed planner
(estimate) and thread count, so that the bits depend only on the code. The
exit status is 1 when any case's output differs (each is named), 2 on a run
that failed.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import h5py

# (name, preset, ranks, options)
CASES = []
for boundary in ("bertero", "reflect", "zero", "periodic"):
    for accel in ("none", "biggs", "biggs-log"):
        CASES.append((f"blocks-{boundary}-{accel}", "small", 1,
                      ["--boundary", boundary, "--accel", accel]))
for boundary in ("bertero", "reflect"):
    for accel in ("none", "biggs-log"):
        CASES.append((f"blocks-tv-{boundary}-{accel}", "small", 1,
                      ["--boundary", boundary, "--accel", accel, "--tv", "0.002"]))
CASES += [
    ("blocks-init-constant", "small", 1, ["--init", "constant"]),
    ("blocks-init-mean", "small", 1, ["--init", "mean", "--boundary", "reflect"]),
    ("blocks-background-3", "small", 1, ["--background", "3"]),
    ("blocks-background-auto", "small", 1, ["--background", "auto", "--accel", "biggs"]),
    ("blocks-stop", "small", 1, ["--stop-rel-change", "0.05", "--iterations", "30"]),
    ("blocks-eps", "small", 1, ["--eps", "1", "--boundary", "zero", "--init", "constant"]),
    ("blocks-split-np1", "small", 1,
     ["--block", "32,64,64", "--accel", "biggs-log", "--tv", "0.002"]),
    ("blocks-split-np2", "small", 2,
     ["--block", "32,64,64", "--accel", "biggs-log", "--tv", "0.002"]),
    ("stack-default", "stack", 1, []),
    ("stack-biggs-log-tv", "stack", 2, ["--accel", "biggs-log", "--tv", "0.001"]),
    ("stack-bertero-auto", "stack", 1, ["--background", "auto", "--init", "mean"]),
]
for ranks in (1, 2):
    for boundary in ("bertero", "reflect"):
        for accel in ("none", "biggs-log"):
            CASES.append((f"exact-np{ranks}-{boundary}-{accel}", "small", ranks,
                          ["--mode", "exact", "--boundary", boundary, "--accel", accel]))
# Exact mode gives blocks mode's bits (one block) with RL-TV and --background auto too.
for ranks in (1, 3):
    CASES.append((f"exact-np{ranks}-tv-bertero-biggs-log", "small", ranks,
                  ["--mode", "exact", "--boundary", "bertero", "--accel", "biggs-log",
                   "--tv", "0.002"]))
    CASES.append((f"exact-np{ranks}-tv-reflect-none", "small", ranks,
                  ["--mode", "exact", "--boundary", "reflect", "--tv", "0.002"]))
CASES.append(("exact-np2-background-auto", "small", 2,
              ["--mode", "exact", "--background", "auto", "--accel", "biggs"]))
# The Wiener-Butterworth back projector: blocks split over ranks, and exact mode.
for boundary in ("bertero", "reflect"):
    CASES.append((f"blocks-wb-{boundary}", "small", 1,
                  ["--boundary", boundary, "--backprojector", "wb", "--iterations", "3"]))
CASES.append(("blocks-wb-split-np2", "small", 2,
              ["--backprojector", "wb", "--iterations", "3", "--block", "32,64,64"]))
for ranks in (1, 3):
    CASES.append((f"exact-np{ranks}-wb-bertero", "small", ranks,
                  ["--mode", "exact", "--backprojector", "wb", "--iterations", "3"]))
CASES.append(("exact-np2-mean-biggs", "small", 2,
              ["--mode", "exact", "--init", "mean", "--accel", "biggs", "--background", "2"]))


def digest(path):
    with h5py.File(path, "r") as f:
        data = f["data"][...]
    return hashlib.sha256(data.tobytes()).hexdigest()


def run_case(binary, work, preset, ranks, options, out):
    cmd = [binary, "run", "--input", os.path.join(work, preset + ".h5"),
           "--psf", os.path.join(work, preset + ".h5") + ":/psf", "--output", out,
           "--threads", "2", "--fft-planner", "estimate", "--overwrite"] + options
    if "--iterations" not in options:
        cmd += ["--iterations", "6"]
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks), "--oversubscribe"] + cmd
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
        return None
    return digest(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", required=True)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--record", metavar="JSON")
    g.add_argument("--compare", metavar="JSON")
    p.add_argument("--only", help="run the cases whose name contains this")
    a = p.parse_args()
    binary = os.path.abspath(a.binary)
    cases = [c for c in CASES if not a.only or a.only in c[0]]
    expected = {}
    if a.compare:
        with open(a.compare) as f:
            expected = json.load(f)
    got, failed, differ = {}, [], []
    with tempfile.TemporaryDirectory(prefix="h5decon-bits-") as work:
        for preset in ("small", "stack"):
            subprocess.run([binary, "synth", "--preset", preset, "--output",
                            os.path.join(work, preset + ".h5")], check=True,
                           capture_output=True)
        for name, preset, ranks, options in cases:
            h = run_case(binary, work, preset, ranks, options, os.path.join(work, "out.h5"))
            if h is None:
                failed.append(name)
                print(f"{name:32s} FAILED")
                continue
            got[name] = h
            status = ""
            if a.compare:
                status = "same" if expected.get(name) == h else (
                    "DIFFERS" if name in expected else "new")
                if status == "DIFFERS":
                    differ.append(name)
            print(f"{name:32s} {h[:16]} {status}")
    if a.record:
        with open(a.record, "w") as f:
            json.dump(got, f, indent=1, sort_keys=True)
    print(f"{len(got)} cases, {len(differ)} differ, {len(failed)} failed")
    if failed:
        return 2
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
