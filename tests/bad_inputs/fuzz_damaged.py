#!/usr/bin/env python3
"""Damaged files on 1 and 3 ranks: no hang, no crash, a message naming the file.

usage: fuzz_damaged.py H5DECON MPIEXEC WORKDIR [--files N] [--seed S] [--ranks 1,3]

Writes a small valid input (1x2x16x32x32 uint16, chunked, with element_size_um)
and PSF (9x9x9 float32), then N damaged copies, alternately of the input and of
the PSF: seeded random byte flips (1 to 64 bytes) or a zeroed range (16 to 4096
bytes), anywhere in the file. Each damaged copy is given to `h5decon run` on every
rank count under a 60 s limit. A run passes when it
  - ends within the limit (else: a hang);
  - exits 0 (damage in raw data that no check can see: counted as "undetected"),
    or exits 2 with an "h5decon: error:" line naming the damaged file (an
    input problem, on every rank count alike);
  - never dies by a signal or with another exit code (a crash).
Prints the counts and exits 1 on any failure. CI runs 40 files; `--files 200`
gives the README's figures.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

LIMIT_S = 60


def write_originals(folder):
    rng = np.random.default_rng(3)
    data = rng.poisson(100.0, size=(1, 2, 16, 32, 32)).astype(np.uint16)
    with h5py.File(os.path.join(folder, "input.h5"), "w") as f:
        d = f.create_dataset("data", data=data, chunks=(1, 1, 8, 16, 16))
        d.attrs["element_size_um"] = np.array([0.4, 0.1, 0.1])
    z, y, x = np.mgrid[0:9, 0:9, 0:9] - 4
    psf = np.exp(-(z ** 2 / 4.0 + y ** 2 / 2.0 + x ** 2 / 2.0)).astype(np.float32)
    with h5py.File(os.path.join(folder, "psf.h5"), "w") as f:
        d = f.create_dataset("psf", data=psf / psf.sum())
        d.attrs["element_size_um"] = np.array([0.4, 0.1, 0.1])


def damage(source, target, rng):
    data = bytearray(open(source, "rb").read())
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 64)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        how = "flips"
    else:
        size = rng.randint(16, 4096)
        start = rng.randrange(max(1, len(data) - size))
        data[start:start + size] = bytes(len(data[start:start + size]))
        how = f"zeroed {size} bytes at {start}"
    open(target, "wb").write(bytes(data))
    return how


def run_once(args, work, name, damaged_input, ranks):
    inp = os.path.join(work, "input.h5") if not damaged_input else name
    psf = os.path.join(work, "psf.h5") if damaged_input else name
    out = os.path.join(work, "out", f"{os.path.basename(name)}.np{ranks}.h5")
    for suffix in ("", ".partial", ".partial.journal", ".lock"):
        if os.path.exists(out + suffix):
            os.remove(out + suffix)
    cmd = [args.mpiexec, "-n", str(ranks), "--oversubscribe", args.h5decon, "run",
           "--input", inp, "--psf", psf, "--output", out, "--iterations", "2",
           "--threads", "1", "--fft-planner", "estimate", "--block", "8,32,32", "--halo", "4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, start_new_session=True)
    try:
        text, _ = job.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, 9)
        job.communicate()
        return "hang", "", cmd
    return job.returncode, text, cmd


def main():
    p = argparse.ArgumentParser()
    p.add_argument("h5decon")
    p.add_argument("mpiexec")
    p.add_argument("workdir")
    p.add_argument("--files", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ranks", default="1,3")
    args = p.parse_args()
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "out"))
    write_originals(work)
    rng = random.Random(args.seed)
    counts = {"runs": 0, "refused": 0, "undetected": 0, "hangs": 0, "crashes": 0,
              "wrong_code": 0, "unnamed": 0}
    failures = []
    start = time.monotonic()
    for i in range(args.files):
        damaged_input = i % 2 == 0
        source = os.path.join(work, "input.h5" if damaged_input else "psf.h5")
        name = os.path.join(work, f"damaged{i:03d}_{'input' if damaged_input else 'psf'}.h5")
        how = damage(source, name, rng)
        for ranks in (int(r) for r in args.ranks.split(",")):
            counts["runs"] += 1
            code, text, cmd = run_once(args, work, name, damaged_input, ranks)
            errors = [l for l in text.splitlines() if l.startswith("h5decon: error:")]
            verdict = None
            if code == "hang":
                counts["hangs"] += 1
                verdict = "hang"
            elif code == 0:
                counts["undetected"] += 1
            elif code != 2:
                counts["crashes" if code < 0 or code > 5 or not errors else "wrong_code"] += 1
                verdict = f"exit {code}"
            elif not any(os.path.basename(name) in l for l in errors):
                counts["unnamed"] += 1
                verdict = "message does not name the file"
            else:
                counts["refused"] += 1
            if verdict:
                failures.append(f"{os.path.basename(name)} ({how}) on {ranks} ranks: {verdict}\n"
                                f"  $ {' '.join(cmd)}\n  " + "\n  ".join(text.splitlines()[-6:]))
    print(f"fuzz: {args.files} damaged files (seed {args.seed}), {counts['runs']} runs on ranks "
          f"{args.ranks} in {time.monotonic() - start:.0f} s: {counts['refused']} refused with "
          f"exit 2 naming the file, {counts['undetected']} undetected (exit 0: damage in raw "
          f"data), {counts['hangs']} hangs, {counts['crashes']} crashes, {counts['wrong_code']} "
          f"other exit codes, {counts['unnamed']} messages without the file name")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
