#!/usr/bin/env python3
"""Memory planning from the truth (docs/design.md §4): measured on whole runs.

usage: memory_runs.py H5DECON WORKDIR STEP
  budget     medium phantom, --memory-budget 150M, every combination of boundary,
             acceleration and RL-TV: the planned block (its engine for these options
             and its buffers) fits the budget, and the run's peak resident memory is
             at most the budget plus the fixed overhead FIXED_MIB (the process with its
             libraries, FFTW plans, HDF5 caches: ~33 MiB for `h5decon --version`)
  psf_crop   the two-channel stack with --psf-crop 0.999: blocks are planned from the
             largest cropped PSF of all channels, so every channel runs
"""
import itertools
import os
import re
import resource
import subprocess
import sys

H5DECON, WORK, STEP = sys.argv[1:4]
BUDGET_MIB = 150
FIXED_MIB = 64


def run(args):
    p = subprocess.run([H5DECON] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: h5decon {' '.join(args)} exited {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def synth(preset):
    path = os.path.join(WORK, preset + ".h5")
    if not os.path.exists(path):
        run(["synth", "--preset", preset, "--output", path])
    return path


def peak_of(args):
    """Peak resident MiB of one h5decon process (run alone: ru_maxrss of children)."""
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.path.join(WORK, "log.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.execv(H5DECON, [H5DECON] + args)
    _, status, usage = os.wait4(pid, 0)
    with open(os.path.join(WORK, "log.txt")) as f:
        log = f.read()
    if status != 0:
        sys.exit(f"FAIL: h5decon {' '.join(args)} exited {status}\n{log}")
    return usage.ru_maxrss / 1024.0, log


def budget():
    data = synth("medium")
    budget_bytes = BUDGET_MIB * 1024 * 1024
    failures = []
    print(f"budget {BUDGET_MIB} MiB, fixed overhead allowed {FIXED_MIB} MiB")
    for boundary, accel, tv in itertools.product(("bertero", "reflect"), ("none", "biggs-log"),
                                                 ("0", "0.002")):
        args = ["run", "--input", data, "--psf", data + ":/psf", "--output",
                os.path.join(WORK, "out.h5"), "--overwrite", "--memory-budget", f"{BUDGET_MIB}M",
                "--boundary", boundary, "--accel", accel, "--tv", tv, "--iterations", "2",
                "--threads", "2", "--fft-planner", "estimate"]
        peak, log = peak_of(args)
        m = re.search(r"memory per block: (\d+) bytes", log)
        planned = int(m.group(1)) if m else -1
        blocks = re.search(r"decomposition: (\d+) blocks", log)
        line = (f"{boundary:8s} {accel:9s} tv {tv:5s}: {blocks.group(1) if blocks else '?'} blocks, "
                f"planned {planned / 2**20:6.1f} MiB, peak {peak:6.1f} MiB")
        print(line)
        if not 0 < planned <= budget_bytes:
            failures.append(line + ": the planned block exceeds the budget")
        if peak > BUDGET_MIB + FIXED_MIB:
            failures.append(line + f": peak above {BUDGET_MIB} + {FIXED_MIB} MiB")
    if failures:
        sys.exit("FAIL:\n" + "\n".join(failures))


def psf_crop():
    data = synth("stack")
    log = run(["run", "--input", data, "--psf", data + ":/psf", "--output",
               os.path.join(WORK, "crop.h5"), "--overwrite", "--psf-crop", "0.999",
               "--iterations", "2", "--threads", "2", "--fft-planner", "estimate",
               "--memory-budget", "16M"])
    print("\n".join(l for l in log.splitlines() if "PSF" in l or "decomposition" in l))


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    {"budget": budget, "psf_crop": psf_crop}[STEP]()
    print("OK")
