#!/usr/bin/env python3
"""`h5decon seams` with its exact-mode reference on 1 and on 2 MPI ranks.

usage: seams_exact_reference.py H5DECON MPIEXEC WORKDIR
Runs `seams` on the stack phantom (4 blocks, y and x seams) in one process and
under mpiexec with 2 ranks, saving the references. Passes when the header names
exact mode on the right rank count, the two references agree within 1e-5 of their
maximum, both runs print the same seam errors, a halo of 0 gives a seam error
above 1e-2 and the default halo one at or below 1e-4 (docs/design.md §3).
"""
import os
import re
import subprocess
import sys

import h5py
import numpy as np

ITERATIONS = 10
ROW = re.compile(r"^\| (\d+\.\d+) \| [\d,]+ \| \w+ \| (\d+) \| ([0-9.e+-]+) \|")


def seams(launcher, binary, stack, reference):
    if os.path.exists(reference):
        os.remove(reference)
    cmd = launcher + [binary, "seams", "--input", stack, "--block", "48,48,48",
                      "--halo-factors", "0,default", "--iterations", str(ITERATIONS),
                      "--threads", "1", "--save-reference", reference]
    print("$", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    print(out, flush=True)
    return out


def seam_errors(output):
    """{halo factor: seam error} from the printed table."""
    rows = {}
    for line in output.splitlines():
        m = ROW.match(line)
        if m and int(m.group(2)) == ITERATIONS:
            rows[float(m.group(1))] = float(m.group(3))
    return rows


def main():
    binary, mpiexec, workdir = sys.argv[1:4]
    os.makedirs(workdir, exist_ok=True)
    stack = os.path.join(workdir, "seams_stack.h5")
    subprocess.run([binary, "synth", "--preset", "stack", "--output", stack, "--overwrite"],
                   check=True, capture_output=True)
    runs = {1: [], 2: [mpiexec, "-n", "2", "--oversubscribe"]}
    outputs, references = {}, {}
    for ranks, launcher in runs.items():
        ref = os.path.join(workdir, f"seams_reference_np{ranks}.h5")
        outputs[ranks] = seams(launcher, binary, stack, ref)
        with h5py.File(ref, "r") as f:
            references[ranks] = f[f"iterations_{ITERATIONS}"][...]

    failures = []
    for ranks, out in outputs.items():
        plural = "rank" if ranks == 1 else "ranks"
        if not re.search(rf"Reference \(whole\): exact mode .* on {ranks} {plural}\b", out):
            failures.append(f"{ranks} rank(s): the header does not name exact mode on {ranks}")
    one, two = references[1], references[2]
    if one.shape != (48, 96, 96) or one.dtype != np.float32:
        failures.append(f"reference {one.shape} {one.dtype}, expected (48, 96, 96) float32")
    diff = float(np.max(np.abs(one.astype(np.float64) - two))) / float(one.max())
    print(f"references of 1 and 2 ranks: max |diff| / max = {diff:.3g}")
    if not diff <= 1e-5:
        failures.append(f"references of 1 and 2 ranks differ by {diff:.3g} of the maximum")

    errors = {ranks: seam_errors(out) for ranks, out in outputs.items()}
    if len(errors[1]) != 2 or errors[1].keys() != errors[2].keys():
        failures.append(f"table rows: {errors}")
    else:
        halo0, default = sorted(errors[1])
        for factor in (halo0, default):
            e1, e2 = errors[1][factor], errors[2][factor]
            if abs(e1 - e2) > 1e-2 * e1 + 1e-7:
                failures.append(f"halo {factor}: seam error {e1} on 1 rank, {e2} on 2")
        if not errors[2][halo0] > 1e-2:
            failures.append(f"halo 0: seam error {errors[2][halo0]}, expected > 1e-2")
        if not errors[2][default] <= 1e-4:
            failures.append(f"default halo {default}: seam error {errors[2][default]} > 1e-4")
    for message in failures:
        print("FAIL:", message)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
