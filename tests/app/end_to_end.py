#!/usr/bin/env python3
"""End-to-end test: h5decon synth -> h5decon run on 1 and 2 MPI ranks.

usage: end_to_end.py H5DECON MPIEXEC WORKDIR [PRESET]
Passes when both runs give identical data, the result is closer to /truth than
/data is (PSNR), and the output carries its provenance attributes.
"""
import os
import subprocess
import sys

import h5py
import numpy as np

ITERATIONS = 10


def psnr(image, truth):
    mse = np.mean((image.astype(np.float64) - truth) ** 2)
    return 10.0 * np.log10(float(truth.max()) ** 2 / mse)


def run(cmd):
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main():
    binary, mpiexec, workdir = sys.argv[1:4]
    preset = sys.argv[4] if len(sys.argv) > 4 else "small"
    os.makedirs(workdir, exist_ok=True)
    synth = os.path.join(workdir, f"e2e_{preset}.h5")
    run([binary, "synth", "--preset", preset, "--output", synth, "--seed", "3", "--overwrite"])
    outputs = {}
    for np_ in (1, 2):
        outputs[np_] = os.path.join(workdir, f"e2e_{preset}_np{np_}.h5")
        # One thread and estimate plans: the same FFT algorithm on every rank count.
        run([mpiexec, "-n", str(np_), "--oversubscribe", binary, "run", "--input", synth,
             "--psf", synth, "--output", outputs[np_] + ":/result", "--overwrite",
             "--iterations", str(ITERATIONS), "--threads", "1", "--fft-planner", "estimate"])
    with h5py.File(synth, "r") as f:
        truth, data = f["truth"][...], f["data"][...]
    with h5py.File(outputs[1], "r") as f1, h5py.File(outputs[2], "r") as f2:
        one, two = f1["result"][...], f2["result"][...]
        attrs = dict(f2["result"].attrs)
    failures = []
    if one.shape != data.shape or one.dtype != np.float32:
        failures.append(f"output {one.shape} {one.dtype}, expected {data.shape} float32")
    if not np.array_equal(one, two):
        failures.append(f"1 and 2 ranks differ: max |diff| {np.max(np.abs(one - two)):.3g}")
    p_data, p_result = psnr(data, truth), psnr(one, truth)
    print(f"e2e: PSNR vs /truth: data {p_data:.2f} dB, result {p_result:.2f} dB")
    if not p_result > p_data:
        failures.append("deconvolution did not improve the PSNR")
    for key in ("command_line", "opt_iterations", "opt_boundary", "halo", "decomposition"):
        if key not in attrs:
            failures.append(f"provenance attribute {key} missing")
    if "2 ranks" not in str(attrs.get("decomposition", "")):
        failures.append(f"decomposition attribute: {attrs.get('decomposition')!r}")
    for message in failures:
        print("e2e: FAIL:", message)
    print("e2e:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
