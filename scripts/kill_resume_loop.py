#!/usr/bin/env python3
"""Kill-and-resume loop: kills a random rank of a multi-block run at a random moment,
resumes, and repeats; the result must be the bits of an uninterrupted run.

usage: kill_resume_loop.py [--kills R] [--ranks N] [--seed S] [--h5decon BIN]
                           [--mpiexec MPIEXEC] [--workdir DIR] [--iterations I]

Setup: `h5decon synth --preset stack` (6 volumes of 48x96x96, 54 blocks with
--block 48,32,32) and one uninterrupted run on N ranks (the reference).
Each round starts the run (with --resume when a journal exists), waits until the
journal has grown by 0 to 2 blocks plus 0 to 0.3 s, and sends SIGKILL or SIGTERM
(alternately) to a random rank. After every kill: no file at the output path, the
partial output opens cleanly (h5dump -H), the journal only grows. When a run
finishes before its kill, its output is checked and a new campaign starts. At the
end a last --resume completes the run. Checks: the output equals the reference
bit for bit, h5dump -H reads it, the journal listed every block when the output
appeared (a watcher polls for the rename), no block was lost. Prints the kills
survived and the blocks computed again (H5DECON_BLOCK_LOG: every written block).
Exit status 0 when every check held.
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

import h5py
import numpy as np

RECORD = 16
END_OF_HEADER = b"\nend-of-header\n"
BLOCK = "48,32,32"


def journal_records(path):
    """Blocks recorded done (valid records), or -1 when there is no complete header."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return -1
    end = data.find(END_OF_HEADER)
    if end < 0:
        return -1
    body, ids = data[end + len(END_OF_HEADER):], set()
    for i in range(0, len(body) - RECORD + 1, RECORD):
        block = int.from_bytes(body[i:i + 8], "little", signed=True)
        check = int.from_bytes(body[i + 8:i + 16], "little")
        if block < 0 or (block ^ 0x6835646563306e21) != check:
            break
        ids.add(block)
    return len(ids)


def rank_pids(binary, output):
    """PID of each rank running `binary` for `output`, by OMPI_COMM_WORLD_RANK."""
    pids = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if not cmd or os.path.basename(cmd[0].decode(errors="replace")) != os.path.basename(binary):
            continue
        if output.encode() not in cmd:
            continue
        for item in environ:
            if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                pids[int(item.split(b"=")[1])] = int(pid)
    return pids


class Loop:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.work = os.path.abspath(args.workdir)
        self.synth = os.path.join(self.work, "stack.h5")
        self.out = os.path.join(self.work, "looped.h5")
        self.journal = self.out + ".partial.journal"
        self.block_log = os.path.join(self.work, "blocks_written.log")
        self.failures, self.kills, self.graceful, self.campaigns = [], 0, 0, 1
        self.recomputed = 0
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "H5DECON_BLOCK_LOG": self.block_log}

    def command(self, output, *extra):
        return [self.a.mpiexec, "-n", str(self.a.ranks), "--oversubscribe", self.a.h5decon, "run",
                "--input", self.synth, "--psf", self.synth, "--output", output,
                "--iterations", str(self.a.iterations), "--threads", "1", "--block", BLOCK,
                "--fft-planner", "estimate", "--progress-interval", "0.5", *extra]

    def fail(self, message):
        print("FAIL:", message, flush=True)
        self.failures.append(message)

    def setup(self):
        os.makedirs(self.work, exist_ok=True)
        subprocess.run([self.a.h5decon, "synth", "--preset", "stack", "--output", self.synth,
                        "--seed", "5", "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        ref = os.path.join(self.work, "reference.h5")
        subprocess.run(self.command(ref, "--overwrite"), check=True, env=self.env,
                       stdout=subprocess.DEVNULL)
        with h5py.File(ref, "r") as f:
            self.reference = f["data"][...]
            self.total = int(f["data"].attrs["block_count"])
        self.clean_start()

    def clean_start(self):
        for suffix in ("", ".partial", ".partial.journal", ".partial.wisdom"):
            if os.path.exists(self.out + suffix):
                os.remove(self.out + suffix)
        if os.path.exists(self.block_log):
            os.remove(self.block_log)

    def start(self):
        resume = journal_records(self.journal) >= 0 and os.path.exists(self.out + ".partial")
        cmd = self.command(self.out, *(["--resume"] if resume else []))
        job = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
        watcher = Watcher(self.out, self.journal, self.total)
        watcher.start()
        return job, watcher

    def wait_for_moment(self, job, done_before):
        target = max(done_before, 0) + self.rng.randint(0, 2)
        deadline = time.monotonic() + 120
        while journal_records(self.journal) < target and job.poll() is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        time.sleep(self.rng.uniform(0.0, 0.3))
        return True

    def wait_for_ranks(self, job):
        """The ranks' PIDs, once mpiexec has started all of them (a moment drawn
        before that would otherwise find nobody to kill)."""
        deadline = time.monotonic() + 30
        while True:
            pids = rank_pids(self.a.h5decon, self.out)
            if len(pids) == self.a.ranks or job.poll() is not None or time.monotonic() > deadline:
                return pids
            time.sleep(0.01)

    def finish(self, job, watcher, limit=120):
        try:
            text, _ = job.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)
            text, _ = job.communicate()
            self.fail(f"the run did not end within {limit} s (a hang)")
        watcher.stop()
        if watcher.incomplete_at_rename is not None:
            self.fail(f"the output appeared with {watcher.incomplete_at_rename} of {self.total} "
                      "blocks in the journal")
        return text

    def kill_round(self):
        done_before = journal_records(self.journal)
        job, watcher = self.start()
        sig = signal.SIGKILL if self.kills % 2 == 0 else signal.SIGTERM
        if not self.wait_for_moment(job, done_before):
            self.fail("no progress within 120 s")
        pids = self.wait_for_ranks(job)
        victim = self.rng.randrange(self.a.ranks)
        if job.poll() is None and victim in pids:
            try:
                os.kill(pids[victim], sig)
            except ProcessLookupError:
                pass
        text = self.finish(job, watcher)
        if job.returncode == 0:
            return self.completed(text, "before its kill")
        self.kills += 1
        self.graceful += sig == signal.SIGTERM and "stopped by SIGTERM" in text
        self.check_after_kill(done_before, sig, victim, job.returncode)

    def check_after_kill(self, done_before, sig, victim, code):
        done = journal_records(self.journal)
        print(f"kill {self.kills}: {signal.Signals(sig).name} to rank {victim}, mpiexec exit "
              f"{code}; journal {max(done_before, 0)} -> {max(done, 0)} of {self.total} blocks",
              flush=True)
        if os.path.exists(self.out):
            self.fail(f"{self.out} exists after a kill")
        if done < done_before:
            self.fail(f"the journal shrank from {done_before} to {done}")
        partial = self.out + ".partial"
        if os.path.exists(partial):
            h5dump = subprocess.run(["h5dump", "-H", partial], capture_output=True, text=True)
            if h5dump.returncode != 0:
                self.fail(f"h5dump -H {partial} failed after kill {self.kills}: {h5dump.stderr}")

    def completed(self, text, when):
        """A run ended by itself: check its output; count the blocks written twice."""
        print(f"run completed {when}", flush=True)
        with h5py.File(self.out, "r") as f:
            data = f["data"][...]
        if not np.array_equal(data.view(np.uint32), self.reference.view(np.uint32)):
            self.fail(f"campaign {self.campaigns}: the output differs from the reference")
        if subprocess.run(["h5dump", "-H", self.out], capture_output=True).returncode != 0:
            self.fail(f"h5dump -H {self.out} failed")
        if os.path.exists(self.journal):
            self.fail("the journal is left after the run finished")
        match = re.search(r"resuming: (\d+) of (\d+) blocks already done, computing (\d+)", text)
        if match and int(match.group(1)) + int(match.group(3)) != self.total:
            self.fail(f"resumed run: {match.group(0)} does not add up to {self.total}")
        with open(self.block_log) as f:
            written = [line.split()[1] for line in f if line.strip()]
        if set(written) != {str(i) for i in range(self.total)}:
            self.fail("the written-block log does not cover every block")
        self.recomputed += len(written) - self.total
        print(f"campaign {self.campaigns}: {len(written)} block writes for {self.total} blocks",
              flush=True)
        self.campaigns += 1
        self.clean_start()

    def run(self):
        self.setup()
        start = time.monotonic()
        while self.kills < self.a.kills and len(self.failures) < 5:
            self.kill_round()
        job, watcher = self.start()
        text = self.finish(job, watcher)
        if job.returncode != 0:
            self.fail(f"the final --resume failed (exit {job.returncode}):\n{text}")
        else:
            self.completed(text, "after the last kill (final --resume)")
        self.report(time.monotonic() - start)
        return 1 if self.failures else 0

    def report(self, seconds):
        print(f"kill_resume_loop: {self.kills} kills survived ({(self.kills + 1) // 2} SIGKILL, "
              f"{self.kills // 2} SIGTERM, {self.graceful} of them stopped gracefully), "
              f"{self.campaigns - 1} complete run(s) of {self.total} blocks on {self.a.ranks} ranks, "
              f"{self.recomputed} blocks computed again (work lost to kills), "
              f"output bit-identical to the uninterrupted run: "
              f"{'yes' if not self.failures else 'NO'}; bytes lost: 0 unless a FAIL above; "
              f"{seconds:.0f} s", flush=True)
        for message in self.failures:
            print("FAIL:", message)


class Watcher(threading.Thread):
    """Polls for the output's appearance and reads the journal at that moment."""

    def __init__(self, out, journal, total):
        super().__init__(daemon=True)
        self.out, self.journal, self.total = out, journal, total
        self.incomplete_at_rename = None
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            if os.path.exists(self.out):
                n = journal_records(self.journal)
                if 0 <= n < self.total:  # the journal is removed just after the rename
                    self.incomplete_at_rename = n
                return
            time.sleep(0.001)

    def stop(self):
        self.done.set()
        self.join()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--ranks", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--h5decon", default=os.path.join(here, "..", "build", "src", "h5decon"))
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--workdir", default=os.path.join(here, "..", "out", "kill_resume"))
    args = p.parse_args()
    args.h5decon = os.path.abspath(args.h5decon)
    return Loop(args).run()


if __name__ == "__main__":
    sys.exit(main())
