#!/usr/bin/env python3
"""`h5decon synth` is deterministic: the same seed gives the same arrays (pinned
by hash, so another machine or compiler must reproduce them bit for bit), and
another seed gives other arrays.

usage: synth_determinism.py H5DECON WORKDIR
"""
import hashlib
import os
import subprocess
import sys

import h5py
import numpy as np

# sha256 of the little-endian bytes of each dataset, preset stack, seed 1 (the same
# with GCC 12 -O0, -O3 -march=native and Clang 14 -O2).
# Change them only with a deliberate change of the phantom (and say so).
PINNED = {
    "data": "9b699607f58d506be6cf96a6fd6f68a3b072beb8716ffe63b42476b6d294f3aa",
    "truth": "7e1d984e6532d14a7c53373182041cb9a1e14542b3deac66257dbce5e6f2b598",
    "psf": "def0b56366fe224c23d1bebb77ec75176b26164a364ba7813e9cfc11a7cc7c8c",
}


def synth(binary, path, seed):
    subprocess.run([binary, "synth", "--preset", "stack", "--output", path, "--seed", str(seed),
                    "--overwrite"], check=True, stdout=subprocess.DEVNULL)
    with h5py.File(path, "r") as f:
        return {k: f[k][...] for k in ("data", "truth", "psf")}


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"))
                          .tobytes()).hexdigest()


def main():
    binary, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    paths = [os.path.join(workdir, f"synth_{n}.h5") for n in ("a", "b", "c")]
    a, b, c = synth(binary, paths[0], 1), synth(binary, paths[1], 1), synth(binary, paths[2], 2)
    failures = []
    for name in ("data", "truth", "psf"):
        if a[name].tobytes() != b[name].tobytes():
            failures.append(f"/{name} differs between two runs with seed 1")
        got = digest(a[name])
        print(f"/{name} {a[name].dtype} {a[name].shape} sha256 {got}")
        if got != PINNED[name]:
            failures.append(f"/{name} hash {got} != pinned {PINNED[name]}")
    if np.array_equal(a["data"], c["data"]) or np.array_equal(a["truth"], c["truth"]):
        failures.append("seeds 1 and 2 give the same data")
    with open(paths[0], "rb") as fa, open(paths[1], "rb") as fb:
        same_file = fa.read() == fb.read()
    print("files byte-identical:", same_file, "(HDF5 object timestamps, if tracked, differ)")
    for f in failures:
        print("FAIL:", f)
    print("synth determinism:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
