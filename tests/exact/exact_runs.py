#!/usr/bin/env python3
"""End-to-end checks of `h5decon run --mode exact` through files.

usage: exact_runs.py H5DECON MPIEXEC WORKDIR STEP [ARGS]
  prepare          synth --preset small into WORKDIR/small.h5
  match NP MODE INIT [OPTIONS...]   exact on NP ranks == blocks with one block (the
                   whole volume); with OPTIONS (e.g. --tv, --background auto), bit for bit
  budget           a --memory-budget one rank cannot meet: refused on 1 rank with the
                   budget and the needed bytes named; on 3 ranks the same budget runs
"""
import os
import re
import subprocess
import sys

import h5py
import numpy as np

H5DECON, MPIEXEC, WORK = sys.argv[1:4]
SMALL = os.path.join(WORK, "small.h5")
# 64x128x128: one rank needs ~26.9 MB, each of 3 ranks ~11.5 MB (info/the run log print it).
BUDGET = "16000000"


def run(np_, args, check=True):
    cmd = [MPIEXEC, "-n", str(np_), "--oversubscribe", H5DECON, "run",
           "--input", SMALL + ":/data", "--psf", SMALL + ":/psf", "--iterations", "5",
           "--threads", "1", "--fft-planner", "estimate", "--overwrite"] + args
    p = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(p.stdout + p.stderr)
    if check and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}")
    return p


def read(path):
    with h5py.File(path, "r") as f:
        return f["/data"][...]


def compare(exact_file, blocks_file, what):
    e, b = read(exact_file), read(blocks_file)
    err = float(np.abs(e - b).max()) / float(b.max())
    print(f"{what}: max |exact - blocks| / max = {err:.3g}")
    if not err <= 1e-5:
        sys.exit(f"FAIL: {what}: relative error {err} > 1e-5")


def prepare():
    os.makedirs(WORK, exist_ok=True)
    if os.path.exists(SMALL):
        os.remove(SMALL)
    subprocess.run([H5DECON, "synth", "--preset", "small", "--output", SMALL], check=True,
                   stdout=subprocess.DEVNULL)


def match(np_, boundary, init, extra):
    modes = ["--boundary", boundary, "--init", init] + extra
    tag = f"{boundary}_{init}_{np_}_{len(extra)}"
    blocks = os.path.join(WORK, f"blocks_{tag}.h5")
    exact = os.path.join(WORK, f"exact_{tag}.h5")
    run(1, modes + ["--output", blocks, "--block", "64,128,128"])
    run(np_, modes + ["--output", exact, "--mode", "exact"])
    with h5py.File(exact, "r") as f:
        assert f["/data"].attrs["mode"] == "exact", "the output does not record exact mode"
    compare(exact, blocks, f"{boundary}/{init} on {np_} ranks")
    if extra:
        if not np.array_equal(read(exact), read(blocks)):
            sys.exit(f"FAIL: {' '.join(extra)}: exact mode's bits differ from blocks mode's")
        print(f"{' '.join(extra)}: exact == blocks bit for bit")
        with h5py.File(exact, "r") as f:
            if "--background" in extra and "background_estimates" not in f["/data"].attrs:
                sys.exit("FAIL: the output does not record the background estimates")


def budget():
    out1 = os.path.join(WORK, "budget1.h5")
    p = run(1, ["--output", out1, "--mode", "exact", "--memory-budget", BUDGET], check=False)
    text = p.stdout + p.stderr
    if p.returncode != 2 or f"--memory-budget {BUDGET} bytes" not in text or \
            not re.search(r"needs \d+ bytes", text):
        sys.exit(f"FAIL: 1 rank should refuse with exit 2 naming the budget and the need, got "
                 f"{p.returncode}")
    if os.path.exists(out1) or os.path.exists(out1 + ".partial"):
        sys.exit("FAIL: the refused run left an output behind")
    out3 = os.path.join(WORK, "budget3.h5")
    run(3, ["--output", out3, "--mode", "exact", "--memory-budget", BUDGET])
    blocks = os.path.join(WORK, "budget_blocks.h5")
    run(1, ["--output", blocks, "--block", "64,128,128"])
    compare(out3, blocks, "budget run on 3 ranks")


if __name__ == "__main__":
    step = sys.argv[4]
    if step == "prepare":
        prepare()
    elif step == "match":
        match(int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8:])
    elif step == "budget":
        budget()
    else:
        sys.exit(f"unknown step {step}")
    print("OK")
