#!/usr/bin/env python3
"""Block runtime tests: `h5decon run` on the stack preset in several blocks per volume.

usage: block_runs.py H5DECON MPIEXEC WORKDIR STEP [N]
  prepare      synth the stack preset; the 1-rank blocked reference; the whole-volume run
  ranks N      N ranks give the reference's bits
  seam         blocked vs whole volume: max |diff| <= 1e-3 of each volume's max (prints it)
  split N      N ranks, blocks sent in messages of at most 4000 bytes: the reference's bits
  wisdom       FFTW measure planner with a wisdom file: 1 and 3 ranks give the same bits
  defaults     no planner, thread or block option (the defaults: measured plans, kept
               in the wisdom cache $H5DECON_WISDOM, fresh here): 1, 2, 3 and 4 ranks and
               a second 1-rank run give the same bits
  direct N     N ranks each reading their own regions (--read direct): the reference's bits
  chunks N     N ranks, rank 0 assembling regions from whole chunks it holds (--read
               chunks) of a chunked copy of the input: the reference's bits, and the
               served line says each chunk was read once while held
  native N     N ranks serve the uint16 input as uint16 (half the bytes of the same
               input stored as float32) and both give the reference's bits
One thread per rank everywhere but in `defaults`: the same FFT algorithms on every rank count.
"""
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np

ITERATIONS = 6
BLOCK = "48,32,32"  # 1x3x3 blocks per 48x96x96 volume (z is not split: the auto halo exceeds it)
SEAM_TOLERANCE = 1e-3


class Test:
    def __init__(self, binary, mpiexec, workdir):
        self.binary, self.mpiexec, self.workdir = binary, mpiexec, workdir
        self.synth = self.path("stack.h5")

    def path(self, name):
        return os.path.join(self.workdir, name)

    def run(self, ranks, output, *extra, env=None, data=None):
        """Runs h5decon; returns its standard output (also printed)."""
        data = data or self.synth
        cmd = [self.mpiexec, "-n", str(ranks), "--oversubscribe", self.binary, "run",
               "--input", data, "--psf", self.synth, "--output", self.path(output),
               "--overwrite", "--iterations", str(ITERATIONS), "--threads", "1", *extra]
        print("$", " ".join(cmd), flush=True)
        start = time.monotonic()
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}).stdout
        print(out, end="", flush=True)
        print(f"blocks: {ranks} rank(s) took {time.monotonic() - start:.2f} s", flush=True)
        return out

    def blocked(self, ranks, output, *extra, env=None, data=None):
        return self.run(ranks, output, "--block", BLOCK, "--fft-planner", "estimate", *extra,
                        env=env, data=data)

    def data(self, name):
        with h5py.File(self.path(name), "r") as f:
            return f["data"][...], dict(f["data"].attrs)


def same_bits(test, name, reference="ref.h5"):
    a, _ = test.data(reference)
    b, attrs = test.data(name)
    if not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
        print(f"FAIL: {name} differs from {reference}: max |diff| {np.max(np.abs(a - b)):.3g}")
        return 1
    print(f"blocks: {name} is bit-identical to {reference}")
    return 0


def prepare(test):
    os.makedirs(test.workdir, exist_ok=True)
    subprocess.run([test.binary, "synth", "--preset", "stack", "--output", test.synth,
                    "--seed", "5", "--overwrite"], check=True)
    test.blocked(1, "ref.h5")
    test.run(2, "whole.h5", "--memory-budget", "0", "--fft-planner", "estimate")
    _, attrs = test.data("ref.h5")
    expected = {"block_grid": "1,3,3", "block_count": "54", "halo": "0,33,33"}  # ceil(2.5 x 13)
    failures = [f"attribute {k} = {attrs.get(k)!r}, expected {v!r}"
                for k, v in expected.items() if attrs.get(k) != v]
    _, whole = test.data("whole.h5")
    if whole.get("block_count") != "6":
        failures.append(f"whole-volume run has {whole.get('block_count')} blocks, expected 6")
    for message in failures:
        print("FAIL:", message)
    return 1 if failures else 0


def chunks(test, ranks):
    chunked = test.path("stack_chunked.h5")
    with h5py.File(test.synth, "r") as src, h5py.File(chunked, "w") as dst:
        dst.create_dataset("data", data=src["data"][...], chunks=(1, 1, 16, 32, 32))
    log = test.blocked(ranks, "chunks.h5", "--read", "chunks", data=chunked)
    held = re.search(r"([0-9.]+)x read from the file \(chunks, or bands of whole rows, each "
                     r"once while held", log)
    if not held:
        print("FAIL: the served line does not say the chunks were held")
        return 1
    # 16x32x32 chunks of 48x96x96 volumes in 1x3x3 blocks: the 27 chunks of a volume
    # fit the cache, so the file is read once (5.54x with each region reading its own).
    if abs(float(held.group(1)) - 1.0) > 1e-6:
        print(f"FAIL: {held.group(1)}x the volumes' bytes read from the file, expected 1.00x")
        return 1
    return same_bits(test, "chunks.h5")


def seam(test):
    blocked, _ = test.data("ref.h5")
    whole, _ = test.data("whole.h5")
    worst = 0.0
    for c in range(whole.shape[0]):
        for t in range(whole.shape[1]):
            diff = np.max(np.abs(blocked[c, t].astype(np.float64) - whole[c, t]))
            relative = diff / float(whole[c, t].max())
            worst = max(worst, relative)
            print(f"seam: c={c} t={t}: max |blocked - whole| {diff:.3g} = {relative:.3g} of the max")
    print(f"seam: worst {worst:.3g} (tolerance {SEAM_TOLERANCE:g})")
    return 0 if worst <= SEAM_TOLERANCE else 1


def wisdom(test):
    wisdom_file = test.path("stack.wisdom")
    if os.path.exists(wisdom_file):
        os.remove(wisdom_file)
    extra = ["--block", BLOCK, "--fft-planner", "measure", "--wisdom", wisdom_file]
    test.run(1, "measure1.h5", *extra)
    test.run(3, "measure3.h5", *extra)
    return same_bits(test, "measure3.h5", "measure1.h5")


def defaults(test):
    cache = test.path("defaults_wisdom")
    if os.path.exists(cache):
        os.remove(cache)
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["H5DECON_WISDOM"] = cache
    outputs = []
    for i, ranks in enumerate([1, 2, 3, 4, 1]):
        out = test.path(f"defaults{i}.h5")
        cmd = [test.mpiexec, "-n", str(ranks), "--oversubscribe", test.binary, "run", "--input",
               test.synth, "--psf", test.synth, "--output", out, "--overwrite", "--iterations",
               str(ITERATIONS)]
        print("$", " ".join(cmd), flush=True)
        log = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, env=env).stdout
        print(log, end="", flush=True)
        if "planner measure" not in log:
            print("FAIL: the default planner is not measure")
            return 1
        outputs.append(os.path.basename(out))
    if not os.path.exists(cache):
        print("FAIL: no wisdom cache was written at", cache)
        return 1
    return sum(same_bits(test, name, outputs[0]) for name in outputs[1:])


def served(output):
    """(megabytes, sample type) from the run summary's 'served:' line."""
    match = re.search(r"served: ([0-9.]+) MB of (\w+) regions", output)
    if not match:
        raise SystemExit("FAIL: the run summary has no 'served: ... MB of TYPE regions' line")
    return float(match.group(1)), match.group(2)


def native(test, ranks):
    as_float = test.path("stack_float32.h5")
    with h5py.File(test.synth, "r") as src, h5py.File(as_float, "w") as dst:
        dst["data"] = src["data"][...].astype(np.float32)
    mb16, type16 = served(test.blocked(ranks, "native16.h5"))
    mb32, type32 = served(test.blocked(ranks, "native32.h5", data=as_float))
    failures = []
    if (type16, type32) != ("uint16", "float32"):
        failures.append(f"served {type16} and {type32}, expected uint16 and float32")
    if abs(mb32 / mb16 - 2.0) > 0.01:
        failures.append(f"served {mb16} MB of uint16 and {mb32} MB of float32: not half")
    for message in failures:
        print("FAIL:", message)
    print(f"native: {mb16} MB as uint16, {mb32} MB as float32")
    return len(failures) + same_bits(test, "native16.h5") + same_bits(test, "native32.h5")


def main():
    binary, mpiexec, workdir, step = sys.argv[1:5]
    test = Test(binary, mpiexec, workdir)
    if step == "prepare":
        return prepare(test)
    if step == "seam":
        return seam(test)
    if step == "wisdom":
        return wisdom(test)
    if step == "defaults":
        return defaults(test)
    ranks = int(sys.argv[5])
    if step == "ranks":
        test.blocked(ranks, f"ranks{ranks}.h5")
        return same_bits(test, f"ranks{ranks}.h5")
    if step == "native":
        return native(test, ranks)
    if step == "direct":
        log = test.blocked(ranks, "direct.h5", "--read", "direct")
        if "read by each rank itself" not in log:
            print("FAIL: the summary does not say the ranks read their own regions")
            return 1
        return same_bits(test, "direct.h5")
    if step == "chunks":
        return chunks(test, ranks)
    if step == "split":
        test.blocked(ranks, "split.h5", env={"H5DECON_MAX_MESSAGE_BYTES": "4000"})
        return same_bits(test, "split.h5")
    print("unknown step", step)
    return 2


if __name__ == "__main__":
    sys.exit(main())
