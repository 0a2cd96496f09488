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
    "data": "b1bf01347df39bc2f582c9291e3430d15f4a2cddc316565ba5d0c50377cca8f7",
    "truth": "8054c1b04573e1e294720cd347d521b5c648abd6c5bd5613a5152e5a605d286d",
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
    print("files byte-identical:", same_file)
    if not same_file:
        failures.append("two runs with the same seed wrote different file bytes")
    for f in failures:
        print("FAIL:", f)
    print("synth determinism:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
