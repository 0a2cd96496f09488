#!/usr/bin/env python3
"""A full disk: refused before the start, and ENOSPC in the middle of a run; then
--resume completes with the bits of an uninterrupted run.

usage: disk_full.py H5DECON MPIEXEC WORKDIR

Needs root to mount a size-limited tmpfs; prints "skipped: cannot mount ..." and
exits 0 when mounting is not permitted (ctest reports the test as skipped).
1. Output on a 2 MiB tmpfs (the output needs 10.6 MB): rank 0 refuses before any
   file is created, naming the folder and the bytes needed and free (exit 3).
2. Output on a 16 MiB tmpfs: once the journal holds a block, a filler file takes
   the rest of the space; the run ends on every rank naming the partial output and
   the full file system, no output appears, the partial output still opens
   (h5dump -H). The filler removed, --resume finishes: the reference's bits.
The input's checksum is the same at the end.
"""
import hashlib
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np

ITERATIONS = "20"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class DiskFull:
    def __init__(self, binary, mpiexec, workdir):
        self.binary, self.mpiexec = binary, mpiexec
        self.work = os.path.abspath(workdir)
        self.synth = os.path.join(self.work, "stack.h5")
        self.mount = os.path.join(self.work, "small")
        self.out = os.path.join(self.mount, "out.h5")
        self.env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.failures = []

    def command(self, output, *extra):
        return [self.mpiexec, "-n", "3", "--oversubscribe", self.binary, "run", "--input",
                self.synth, "--psf", self.synth, "--output", output, "--iterations", ITERATIONS,
                "--threads", "1", "--block", "48,32,32", "--fft-planner", "estimate", *extra]

    def expect(self, condition, message):
        if not condition:
            print("FAIL:", message, flush=True)
            self.failures.append(message)

    def mount_tmpfs(self, size):
        subprocess.run(["umount", self.mount], capture_output=True)
        os.makedirs(self.mount, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", self.mount],
                                capture_output=True, text=True)
        return result.returncode == 0, result.stderr.strip()

    def refused_up_front(self):
        result = subprocess.run(self.command(self.out), env=self.env, capture_output=True, text=True)
        text = result.stdout + result.stderr
        print(text[-1500:], flush=True)
        self.expect(result.returncode == 3, f"2 MiB: exit {result.returncode}, expected 3")
        pattern = (rf"h5decon: error: output '{re.escape(self.out)}': not enough free space in "
                   rf"'{re.escape(self.mount)}': the output needs \d+ bytes .*, \d+ bytes .* free")
        self.expect(re.search(pattern, text), "2 MiB: no message naming the folder and the bytes")
        self.expect(not os.listdir(self.mount), f"2 MiB: files were created: {os.listdir(self.mount)}")

    def fill(self):
        with open(os.path.join(self.mount, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass

    def enospc_mid_run(self):
        journal = self.out + ".partial.journal"
        job = subprocess.Popen(self.command(self.out), env=self.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while not (os.path.exists(journal) and os.path.getsize(journal) > 0 and
                   b"end-of-header" in open(journal, "rb").read()) and job.poll() is None:
            self.expect(time.monotonic() < deadline, "no journal within 120 s")
            time.sleep(0.01)
        self.fill()
        text, _ = job.communicate(timeout=120)
        print(text[-2500:], flush=True)
        self.expect(job.returncode != 0, "ENOSPC: the run exited 0")
        self.expect(re.search(r"h5decon: error: .*(no space left|No space left)", text),
                    "ENOSPC: no error naming the full file system")
        self.expect(re.search(re.escape(self.mount), text.split("h5decon: error:")[-1]),
                    "ENOSPC: the error does not name the output's path")
        self.expect(not os.path.exists(self.out), "ENOSPC: an output file exists")
        dump = subprocess.run(["h5dump", "-H", self.out + ".partial"], capture_output=True)
        self.expect(dump.returncode == 0, "ENOSPC: h5dump -H cannot read the partial output")

    def resumed(self):
        os.remove(os.path.join(self.mount, "filler"))
        result = subprocess.run(self.command(self.out, "--resume"), env=self.env,
                                capture_output=True, text=True)
        print(result.stdout[-800:], result.stderr[-800:], flush=True)
        self.expect(result.returncode == 0, f"--resume after freeing space: exit {result.returncode}")
        if result.returncode != 0:
            return
        with h5py.File(self.out, "r") as f, h5py.File(os.path.join(self.work, "ref.h5"), "r") as r:
            same = np.array_equal(f["data"][...].view(np.uint32), r["data"][...].view(np.uint32))
        self.expect(same, "the resumed output differs from the uninterrupted run")
        if same:
            print("disk_full: the resumed output is bit-identical to the uninterrupted run")

    def run(self):
        os.makedirs(self.work, exist_ok=True)
        subprocess.run([self.binary, "synth", "--preset", "stack", "--output", self.synth, "--seed",
                        "5", "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        before = sha256(self.synth)
        ok, why = self.mount_tmpfs("2m")
        if not ok:
            print(f"skipped: cannot mount a tmpfs at {self.mount} ({why})")
            return 0
        try:
            subprocess.run(self.command(os.path.join(self.work, "ref.h5"), "--overwrite"), check=True,
                           env=self.env, stdout=subprocess.DEVNULL)
            self.refused_up_front()
            self.mount_tmpfs("16m")
            self.enospc_mid_run()
            self.resumed()
        finally:
            subprocess.run(["umount", self.mount], capture_output=True)
        self.expect(sha256(self.synth) == before, "the input changed")
        print("PASS" if not self.failures else f"{len(self.failures)} failure(s)")
        return 1 if self.failures else 0


if __name__ == "__main__":
    sys.exit(DiskFull(*sys.argv[1:4]).run())
