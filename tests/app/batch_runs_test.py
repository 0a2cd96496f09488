#!/usr/bin/env python3
"""`run --inputs`: many inputs in one job, each its own output.

usage: batch_runs_test.py H5DECON MPIEXEC WORKDIR

Three small phantoms (cell1, cell2, cell10: natural order) are run as a quoted
glob on 2 ranks; every output must equal a single run of its input bit for bit.
Inputs 2 and 3 reuse the first input's runtime (its engines). Then: an input
interrupted by a failing block, finished by --resume with the bits of a run alone; a
list file (comments, a :/path, names relative to the list); a second
batch refused because outputs exist (nothing run), then --resume skipping the
complete outputs and running the one deleted; a SLURM array task (--shard auto)
running its share of the list whole (no shard files); and refusals: --input
with --inputs, an --output without {name}, a glob with no match, a missing
input in the list (named; the outputs before it stay complete).
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

H5DECON, MPIEXEC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
RUN = ["run", "--iterations", "3", "--fft-planner", "estimate", "--psf", "raw/cell1.h5:/psf"]
NAMES = ["cell1", "cell2", "cell10"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def h5decon(args, np_=1, code=0, env=None):
    cmd = ([MPIEXEC, "-np", str(np_), "--oversubscribe"] if np_ > 1 else []) + [H5DECON] + args
    print("+", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=WORK, env={**os.environ, **(env or {})})
    print(p.stdout + p.stderr, flush=True)
    check(p.returncode == code, f"exit code {p.returncode}, expected {code}")
    return p.stdout + p.stderr


def data(name):
    with h5py.File(os.path.join(WORK, name), "r") as f:
        return f["data"][...]


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, "raw"))
    os.makedirs(os.path.join(WORK, "out"))
    for seed, name in enumerate(NAMES):
        h5decon(["synth", "--preset", "small", "--seed", str(seed + 1), "--output", f"raw/{name}.h5"])
    for name in NAMES:
        h5decon(RUN + ["--input", f"raw/{name}.h5", "--output", f"{name}_single.h5"])
    # A glob, natural order, 2 ranks: FFT plans made once are reused by the next inputs.
    log = h5decon(RUN + ["--inputs", "raw/*.h5", "--output", "out/{name}_decon.h5"], 2)
    order = [log.index(f"raw/{n}.h5:/data -> out/{n}_decon.h5") for n in NAMES]
    check(order == sorted(order), "inputs run in natural order (cell1, cell2, cell10)")
    check("batch: 3 run, 0 complete before" in log, "all three run")
    check(log.count("the previous input's runtime is reused") == 2,
          "inputs 2 and 3 reuse the first input's runtime (engines and plans)")
    for name in NAMES:
        check(np.array_equal(data(f"out/{name}_decon.h5"), data(f"{name}_single.h5")),
              f"{name}: the batch's output equals a single run's")
    # Outputs exist: refused before anything runs; --resume skips them, runs a missing one.
    log = h5decon(RUN + ["--inputs", "raw/*.h5", "--output", "out/{name}_decon.h5"], 2, code=2)
    check("exists; pass --resume" in log and "batch: input" not in log, "existing outputs refused up front")
    os.remove(os.path.join(WORK, "out/cell2_decon.h5"))
    log = h5decon(RUN + ["--inputs", "raw/*.h5", "--output", "out/{name}_decon.h5", "--resume"], 2)
    check(log.count("is complete; skipped") == 2 and "batch: 1 run, 2 complete before" in log, "resume")
    check(np.array_equal(data("out/cell2_decon.h5"), data("cell2_single.h5")), "the rerun output")
    # An input interrupted by a failing block: --resume finishes its partial output.
    blocked = ["--block", "32,64,64"]
    h5decon(RUN + blocked + ["--input", "raw/cell1.h5", "--output", "cell1_blocked.h5"])
    h5decon(RUN + blocked + ["--inputs", "raw/*.h5", "--output", "out/{name}_int.h5"], 2, code=3,
            env={"H5DECON_TEST_FAIL_BLOCK": "3"})
    check(os.path.exists(os.path.join(WORK, "out/cell1_int.h5.partial.journal")), "a journal is left")
    log = h5decon(RUN + blocked + ["--inputs", "raw/*.h5", "--output", "out/{name}_int.h5", "--resume"], 2)
    check("out/cell1_int.h5:/data (resumed)" in log and "batch: 3 run, 0 complete before" in log,
          "the interrupted output is resumed, the others started")
    check(np.array_equal(data("out/cell1_int.h5"), data("cell1_blocked.h5")), "the resumed output's bits")
    # A list file: comments, blank lines, a dataset path, names relative to the list.
    with open(os.path.join(WORK, "raw", "list.txt"), "w") as f:
        f.write("# the cells of day 1\n\ncell10.h5:/data\n  cell1.h5  \n")
    log = h5decon(RUN + ["--inputs", "raw/list.txt", "--output", "out/{name}_list.h5"])
    check(log.index("cell10_list") < log.index("cell1_list"), "list order is kept")
    check(np.array_equal(data("out/cell10_list.h5"), data("cell10_single.h5")), "list output")
    # A SLURM array task: the list is split, each input run whole (no shard files).
    array = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "1",
             "SLURM_ARRAY_TASK_STEP": "1", "SLURM_ARRAY_JOB_ID": "7"}
    log = h5decon(RUN + ["--inputs", "raw/*.h5", "--output", "out/{name}_task.h5", "--shard", "auto"], env=array)
    check("runs 1 of them whole" in log, "task 1 of 2 runs one of the three inputs")
    made = sorted(f for f in os.listdir(os.path.join(WORK, "out")) if f.endswith("_task.h5"))
    check(made == ["cell2_task.h5"], f"task 1 ran the input with index 1: {made}")
    check(np.array_equal(data("out/cell2_task.h5"), data("cell2_single.h5")), "whole, not a shard")
    # Refusals.
    h5decon(RUN + ["--inputs", "raw/*.h5", "--input", "raw/cell1.h5", "--output", "o{name}.h5"], code=1)
    log = h5decon(RUN + ["--inputs", "raw/*.h5", "--output", "fixed.h5"], code=1)
    check("must contain {name}" in log, "an output without {name}")
    log = h5decon(RUN + ["--inputs", "raw/nothing*.h5", "--output", "out/{name}_x.h5"], 2, code=2)
    check("no file matches" in log, "an empty glob")
    with open(os.path.join(WORK, "raw", "bad.txt"), "w") as f:
        f.write("cell1.h5\nmissing.h5\ncell2.h5\n")
    log = h5decon(RUN + ["--inputs", "raw/bad.txt", "--output", "out/{name}_bad.h5"], 2, code=2)
    check("input 'raw/missing.h5:/data'" in log and "not found" in log, "the failing input is named")
    check(os.path.exists(os.path.join(WORK, "out/cell1_bad.h5")), "the output before it is complete")
    check(not os.path.exists(os.path.join(WORK, "out/cell2_bad.h5")), "nothing after it ran")
    print("batch runs: outputs equal single runs; resume, lists, arrays and refusals as documented")


if __name__ == "__main__":
    main()
