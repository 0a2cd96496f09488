#!/usr/bin/env python3
"""Thousands of tiny blocks on many oversubscribed ranks: no deadlock, every block
written, and the scheduler's cost per block.

usage: load_tiny_blocks.py H5DECON MPIEXEC WORKDIR [RANKS]

The stack preset (6 volumes of 48x96x96) in 8x8x8 blocks with a halo of 2 is 5184
blocks. With --no-compute every block's interior is the input itself, so the output
must equal the input as float32 exactly: a block lost, written twice in the wrong
place or misplaced shows. Then one RL iteration per block: finite output. Prints
the wall time per block of both runs (the first is rank 0's serving, the messages
and the parallel writes: the scheduler's overhead).
"""
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np


def run(binary, mpiexec, ranks, synth, output, *extra):
    cmd = [mpiexec, "-n", str(ranks), "--oversubscribe", binary, "run", "--input", synth, "--psf",
           synth, "--output", output, "--overwrite", "--threads", "1", "--block", "8,8,8",
           "--halo", "2", "--fft-planner", "estimate", "--iterations", "1",
           "--progress-interval", "5", *extra]
    print("$", " ".join(cmd), flush=True)
    start = time.monotonic()
    result = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True,
                            text=True)
    wall = time.monotonic() - start
    print(result.stdout[-1200:], result.stderr[-1200:], flush=True)
    if result.returncode != 0:
        raise SystemExit(f"FAIL: exit {result.returncode}")
    blocks = int(re.search(r"total: (\d+) blocks", result.stdout).group(1))
    return blocks, wall


def main():
    binary, mpiexec, workdir = sys.argv[1:4]
    ranks = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    os.makedirs(workdir, exist_ok=True)
    synth = os.path.join(workdir, "stack.h5")
    subprocess.run([binary, "synth", "--preset", "stack", "--output", synth, "--seed", "5",
                    "--overwrite"], check=True, stdout=subprocess.DEVNULL)
    failures = []
    copy = os.path.join(workdir, "tiny_no_compute.h5")
    blocks, wall = run(binary, mpiexec, ranks, synth, copy, "--no-compute")
    with h5py.File(synth, "r") as f, h5py.File(copy, "r") as g:
        if not np.array_equal(f["data"][...].astype(np.float32), g["data"][...]):
            failures.append("--no-compute output differs from the input: a block is missing")
    print(f"load: {blocks} blocks on {ranks} ranks, --no-compute: {wall:.2f} s wall, "
          f"{1000 * wall / blocks:.2f} ms per block (scheduler, messages, writes, start-up)")
    if blocks < 5000:
        failures.append(f"only {blocks} blocks")
    rl = os.path.join(workdir, "tiny_rl.h5")
    blocks, wall = run(binary, mpiexec, ranks, synth, rl)
    with h5py.File(rl, "r") as g:
        if not np.all(np.isfinite(g["data"][...])):
            failures.append("non-finite values in the 1-iteration output")
    print(f"load: {blocks} blocks on {ranks} ranks, 1 RL iteration: {wall:.2f} s wall, "
          f"{1000 * wall / blocks:.2f} ms per block")
    for message in failures:
        print("FAIL:", message)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
