#!/usr/bin/env python3
"""Nothing mixed, nothing lost: resume, merge, concurrent runs, a changed input,
per-volume background, virtual datasets and output paths, on a given rank count.

usage: integrity_runs.py H5DECON MPIEXEC WORKDIR STEP NP
  signature   an interrupted run (SIGTERM after >= 2 blocks), then --resume with each
              result-changing option changed: every one refused naming it; the journal's
              option keys are exactly the options this test changes (a new option fails
              here until it has a case); the unchanged --resume gives the uninterrupted
              run's bits. Then shard 1/2 made with each option changed: merge refuses it.
  input       the input rewritten between an interrupted run and --resume (same size,
              other contents; also with its modification time put back): refused; the
              input rewritten while a run reads it: exit 2, no output, nothing resumable
  concurrent  a second run on the output of a running one (other options, --overwrite;
              and --resume) is refused naming the running one; the first finishes intact
  background  --background auto on 8 blocks equals one block within the seam bound, with
              one estimate per (c, t) volume, the same in both outputs' provenance
  virtual     a merged (virtual) dataset: run reads it as a plain copy; with one shard
              deleted, run, export and preview refuse naming the missing file
  outputs     merge onto one of its shards or the run's input, and every command's output
              onto /dev/null, a FIFO or a directory (with --overwrite): refused, nothing
              replaced; an input held open by a writer is called locked, not damaged
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

BASE = ["--iterations", "3", "--threads", "1", "--fft-planner", "estimate"]
SLOW = ["--block", "8,16,16", "--halo", "6,6,6"]  # 216 blocks per run: time to interrupt
# Every option that can change an output voxel, with another value. The journal's
# "opt.*" keys must be exactly these (see check_enumeration).
CHANGED = {
    "boundary": "reflect", "init": "mean", "eps": "1e-05", "psf-crop": "0.999",
    "accel": "biggs", "tv": "0.01", "background": "auto", "stop-rel-change": "0.01",
    "backend": "auto", "fft-planner": "measure", "no-compute": None,
    "backprojector": "wb", "stop-divergence": "0.01",
}
# Options in the signature that this test cannot change on the same input and run.
UNCHANGEABLE = {
    "axes": "fixed by the input's rank (5 here)",
    "mode": "--mode exact refuses --resume and --shard before any signature",
    "psf-resample": "needs voxel sizes, which synthetic data does not record "
                    "(tests/app/cli_test.cpp shows it changes the signature)",
}
for _wb in ("wb-alpha", "wb-beta", "wb-order", "wb-resolution"):
    UNCHANGEABLE[_wb] = ("applies only with --backprojector wb, which changes the signature "
                         "itself (tests/app/cli_test.cpp shows each changes it)")
PLAN_CHANGES = {"iterations": ["--iterations", "4"], "halo": ["--halo", "5,6,6"]}


class Test:
    def __init__(self, binary, mpiexec, workdir, ranks):
        self.binary, self.mpiexec, self.work, self.np = binary, mpiexec, workdir, ranks
        self.failures = []
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        self.synth = self.path("stack.h5")
        subprocess.run([binary, "synth", "--preset", "stack", "--output", self.synth],
                       check=True, stdout=subprocess.DEVNULL)

    def path(self, name):
        return os.path.join(self.work, name)

    def cmd(self, *args, ranks=None):
        return [self.mpiexec, "-n", str(ranks or self.np), "--oversubscribe", self.binary, *args]

    def run_args(self, output, *extra, data=None):
        return ["run", "--input", data or self.synth, "--psf", self.synth + ":/psf",
                "--output", self.path(output), *merged(BASE, *extra)]

    def call(self, args, ranks=None, timeout=240):
        full = self.cmd(*args, ranks=ranks)
        print("$", " ".join(full), flush=True)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        r = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, timeout=timeout)
        return r.returncode, r.stdout

    def expect(self, args, code, regex, ranks=None):
        rc, text = self.call(args, ranks)
        errors = "\n".join(l for l in text.splitlines() if "h5decon: error" in l)
        if rc != code or not re.search(regex, errors):
            self.fail(f"expected exit {code} and /{regex}/; got exit {rc}:\n{text[-1500:]}")
        else:
            print(f"ok: exit {code}, {errors.splitlines()[0][:200] if errors else ''}")
        return text

    def ok(self, args, ranks=None):
        rc, text = self.call(args, ranks)
        if rc != 0:
            self.fail(f"expected exit 0, got {rc}:\n{text[-1500:]}")
        return text

    def fail(self, message):
        print("FAIL:", message, flush=True)
        self.failures.append(message)

    def start(self, args):
        full = self.cmd(*args)
        print("$ (background)", " ".join(full), flush=True)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        return subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env, start_new_session=True)

    def journal_blocks(self, output):
        path = self.path(output) + ".partial.journal"
        try:
            data = open(path, "rb").read()
        except OSError:
            return 0
        end = data.find(b"end-of-header\n")
        return 0 if end < 0 else (len(data) - end - 14) // 16

    def wait_blocks(self, job, output, want):
        deadline = time.monotonic() + 180
        while self.journal_blocks(output) < want:
            if job.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def interrupted(self, output, *extra, data=None):
        """A run stopped by SIGTERM once its journal holds 2 blocks: partial + journal."""
        for suffix in ("", ".partial", ".partial.journal", ".lock"):
            if os.path.exists(self.path(output) + suffix):
                os.remove(self.path(output) + suffix)
        job = self.start(self.run_args(output, *SLOW, *extra, data=data))
        if not self.wait_blocks(job, output, 2):
            job.kill()
            self.fail(f"the run of {output} ended before 2 blocks were recorded")
            return False
        os.killpg(job.pid, signal.SIGTERM)
        job.communicate(timeout=120)
        if os.path.exists(self.path(output)) or not os.path.exists(self.path(output) +
                                                                    ".partial.journal"):
            self.fail(f"{output}: expected a partial output with its journal after SIGTERM")
            return False
        print(f"interrupted {output} with {self.journal_blocks(output)} blocks recorded")
        return True

    def same_bits(self, a, b):
        with h5py.File(self.path(a), "r") as fa, h5py.File(self.path(b), "r") as fb:
            x, y = fa["data"][()], fb["data"][()]
        return x.shape == y.shape and np.array_equal(x.view(np.uint32), y.view(np.uint32))


def merged(*groups):
    """Option lists joined; a later value of an option replaces an earlier one."""
    out = []
    for group in groups:
        words = [group] if isinstance(group, str) else list(group)
        out += words
    result, i = [], 0
    while i < len(out):
        word = out[i]
        takes = i + 1 < len(out) and not out[i + 1].startswith("--")
        pair = out[i:i + 2] if takes else [word]
        if word.startswith("--") and word in result:
            j = result.index(word)
            old = 2 if j + 1 < len(result) and not result[j + 1].startswith("--") else 1
            del result[j:j + old]
        result += pair
        i += len(pair)
    return result


def option_args(name, value):
    return [f"--{name}"] if value is None else [f"--{name}", value]


def check_enumeration(t, output):
    header = open(t.path(output) + ".partial.journal", "rb").read().split(b"end-of-header")[0]
    keys = {line.split("=")[0][4:] for line in header.decode().splitlines()
            if line.startswith("opt.")}
    expected = set(CHANGED) | set(UNCHANGEABLE)
    if keys != expected:
        t.fail(f"the signature's options {sorted(keys)} are not the ones this test knows "
               f"{sorted(expected)}: add a case for {sorted(keys - expected)}")
    else:
        print(f"ok: the signature holds the {len(keys)} options this test enumerates")


def signature(t):
    if not t.interrupted("sig.h5"):
        return
    check_enumeration(t, "sig.h5")
    # The refusal is rank 0's, before any block: on several ranks a few options show it.
    options = CHANGED if t.np == 1 else {k: CHANGED[k] for k in ("tv", "accel", "background")}
    for name, value in options.items():
        t.expect(t.run_args("sig.h5", *SLOW, *option_args(name, value), "--resume"), 2,
                 rf"made with other settings: .*--{name}: ")
    for name, args in PLAN_CHANGES.items():
        t.expect(t.run_args("sig.h5", *SLOW, *args, "--resume"), 2,
                 rf"made with other settings: .*{name}: ")
    t.ok(t.run_args("sig.h5", *SLOW, "--resume"))
    t.ok(t.run_args("ref.h5", *SLOW))
    if not t.same_bits("sig.h5", "ref.h5"):
        t.fail("the resumed output differs from the uninterrupted run")
    if t.np > 1:
        return  # merge runs on one process: its shards are made on 1 rank above
    # Shards: merge refuses a shard made with any other value.
    for k in (0, 1):
        t.ok(t.run_args("part.h5", "--shard", f"{k}/2"))
    names = [t.path(f"part.shard{k}-of-2.h5") for k in (0, 1)]
    t.ok(["merge", "--output", t.path("merged.h5"), *names], ranks=1)
    for name, value in list(CHANGED.items()) + [("iterations", "4")]:
        alt = f"alt_{name}.h5"
        t.ok(t.run_args(alt, "--shard", "1/2", *option_args(name, value)))
        t.expect(["merge", "--output", t.path("bad.h5"), names[0],
                  t.path(f"alt_{name}.shard1-of-2.h5")], 2,
                 rf"belongs to another run .*{name}", ranks=1)


def rewrite_input(path, keep_mtime):
    """Same shape and size, other contents (every voxel + 1), in place."""
    st = os.stat(path)
    with h5py.File(path, "r+") as f:
        f["data"][...] = f["data"][()] + 1
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    if os.path.getsize(path) != st.st_size:
        raise SystemExit("the rewritten input changed size; the test needs the same size")


def input_changed(t):
    for keep_mtime in (False, True):
        data = t.path(f"input_{int(keep_mtime)}.h5")
        shutil.copyfile(t.synth, data)
        if not t.interrupted("changed.h5", data=data):
            return
        rewrite_input(data, keep_mtime)
        t.expect(t.run_args("changed.h5", *SLOW, "--resume", data=data), 2,
                 r"--resume: the input changed since the interrupted run")
    data = t.path("input_during.h5")
    shutil.copyfile(t.synth, data)
    job = t.start(t.run_args("during.h5", *SLOW, "--overwrite", data=data))
    if not t.wait_blocks(job, "during.h5", 1):
        job.kill()
        return t.fail("the run ended before its first block")
    rewrite_input(data, False)
    text, _ = job.communicate(timeout=300)
    print(text[-800:])
    if job.returncode != 2 or not re.search(r"changed while this run read it", text):
        t.fail(f"an input rewritten during the run: exit {job.returncode}, expected 2 and "
               "'changed while this run read it'")
    for suffix in ("", ".partial.journal"):
        if os.path.exists(t.path("during.h5") + suffix):
            t.fail(f"during.h5{suffix} exists after the input changed during the run")
    t.expect(t.run_args("during.h5", *SLOW, "--resume", data=data), 2, r"nothing to resume")


def concurrent(t):
    job = t.start(t.run_args("busy.h5", *SLOW))
    if not t.wait_blocks(job, "busy.h5", 1):
        job.kill()
        return t.fail("the first run ended before its first block")
    t.expect(t.run_args("busy.h5", "--tv", "0.01", "--overwrite"), 2,
             r"output '.*busy\.h5' is being written by another h5decon run \(host .*, process "
             r"\d+, started")
    t.expect(t.run_args("busy.h5", *SLOW, "--resume"), 2, r"is being written by another h5decon")
    text, _ = job.communicate(timeout=600)
    if job.returncode != 0:
        return t.fail(f"the first run failed after the refused ones: {text[-800:]}")
    t.ok(t.run_args("alone.h5", *SLOW))
    if not t.same_bits("busy.h5", "alone.h5"):
        t.fail("the first run's output differs from the same run alone")
    if os.path.exists(t.path("busy.h5.lock")):
        t.fail("the lock file remains after the run")


def background(t):
    t.ok(t.run_args("bg_whole.h5", "--background", "auto"))
    t.ok(t.run_args("bg_blocks.h5", "--background", "auto", "--block", "24,48,48"))
    with h5py.File(t.path("bg_whole.h5"), "r") as a, h5py.File(t.path("bg_blocks.h5"), "r") as b:
        x, y = a["data"][()], b["data"][()]
        ea, eb = a["data"].attrs["background_estimates"], b["data"].attrs["background_estimates"]
    err = float(np.abs(x - y).max() / x.max())
    print(f"background auto: 8 blocks vs 1: max |diff| / max = {err:.3g}; estimates {eb}")
    if err > 1e-4:
        t.fail(f"8 blocks differ from the whole volume by {err:.3g} of max (> 1e-4)")
    if ea != eb or len(str(eb).split(";")) != 6:
        t.fail(f"estimates differ or are not one per volume: {ea!r} vs {eb!r}")


def virtual(t):
    for k in (0, 1):
        t.ok(t.run_args("v.h5", "--shard", f"{k}/2"))
    names = [t.path(f"v.shard{k}-of-2.h5") for k in (0, 1)]
    t.ok(["merge", "--output", t.path("vds.h5"), *names], ranks=1)
    t.ok(["merge", "--copy", "--output", t.path("copy.h5"), *names], ranks=1)
    t.ok(t.run_args("from_vds.h5", data=t.path("vds.h5")))
    t.ok(t.run_args("from_copy.h5", data=t.path("copy.h5")))
    if not t.same_bits("from_vds.h5", "from_copy.h5"):
        t.fail("run on the virtual dataset differs from run on its copy")
    os.remove(names[1])
    missing = r"vds\.h5:/data'?: it is a virtual dataset .*'v\.shard1-of-2\.h5'.* does not exist"
    t.expect(t.run_args("nope.h5", data=t.path("vds.h5")), 2, missing)
    t.expect(["export", "--input", t.path("vds.h5"), "--layout", "bdv", "--output",
              t.path("exp.h5")], 2, missing, ranks=1)
    t.expect(["preview", "--input", t.path("vds.h5"), "--result", t.path("vds.h5"), "--output",
              t.path("p.png")], 2, missing, ranks=1)
    for f in ("nope.h5", "exp.h5", "p.png"):
        if os.path.exists(t.path(f)):
            t.fail(f"{f} was written from a virtual dataset with a missing source")


def outputs(t):
    for k in (0, 1):
        t.ok(t.run_args("o.h5", "--shard", f"{k}/2"))
    names = [t.path(f"o.shard{k}-of-2.h5") for k in (0, 1)]
    before = [open(n, "rb").read() for n in names] + [open(t.synth, "rb").read()]
    t.expect(["merge", "--overwrite", "--output", names[0], *names], 2,
             r"merge output .* is one of the shards to merge", ranks=1)
    t.expect(["merge", "--overwrite", "--output", t.synth, *names], 2,
             r"merge output .* is the input the shards were computed from", ranks=1)
    after = [open(n, "rb").read() for n in names] + [open(t.synth, "rb").read()]
    if before != after:
        t.fail("a refused merge changed a shard or the input")
    fifo = t.path("fifo")
    os.mkfifo(fifo)
    folder = t.path("folder")
    os.makedirs(folder)
    for target, kind in (("/dev/null", "a character device"), (fifo, "a FIFO"),
                         (folder, "a directory")):
        pattern = re.escape(kind)
        args = t.run_args("x.h5", "--overwrite")
        args[args.index("--output") + 1] = target
        t.expect(args, 2, pattern)
        t.expect(["merge", "--overwrite", "--output", target, *names], 2, pattern, ranks=1)
        t.expect(["synth", "--preset", "small", "--overwrite", "--output", target], 2, pattern,
                 ranks=1)
        t.expect(["psf", "--na", "1.0", "--wavelength-nm", "500", "--immersion-index", "1.33",
                  "--voxel-um", "0.2,0.1,0.1", "--shape", "9,9,9", "--overwrite", "--output",
                  target], 2, pattern, ranks=1)
        t.expect(["preview", "--input", t.synth, "--result", names[0], "--output", target], 2,
                 pattern, ranks=1)
    if not os.path.exists("/dev/null") or not os.path.isdir(folder):
        t.fail("a refused output replaced /dev/null or the folder")
    # An input another program has open for writing: locked, not damaged.
    held = t.path("held.h5")
    shutil.copyfile(t.synth, held)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import h5py, sys, time\n"
                               f"f = h5py.File({held!r}, 'r+')\n"
                               "print('open', flush=True)\n"
                               "time.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    t.expect(t.run_args("from_held.h5", data=held), 2,
             r"held\.h5:/data': the file is locked by another program that has it open")
    holder.kill()
    holder.wait()


STEPS = {"signature": signature, "input": input_changed, "concurrent": concurrent,
         "background": background, "virtual": virtual, "outputs": outputs}


def main():
    binary, mpiexec, workdir, step, ranks = sys.argv[1:6]
    t = Test(binary, mpiexec, os.path.join(workdir, f"{step}_np{ranks}"), int(ranks))
    STEPS[step](t)
    if t.failures:
        print(f"{len(t.failures)} failure(s)")
        return 1
    print(f"PASS: {step} on {ranks} rank(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
