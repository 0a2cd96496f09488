#!/usr/bin/env python3
"""Resume and job-array tests of `h5decon run` on the stack preset (after block_runs.py prepare).

usage: resume_runs.py H5DECON MPIEXEC WORKDIR STEP [N]
  resume N    run on 3 ranks, SIGKILL rank 1 once the journal holds >= 2 blocks; a partial
              output and journal remain, no output; --resume with a changed option and a
              fresh run without --overwrite are refused; --resume on N ranks recomputes only
              the blocks not recorded done and gives ref.h5's bits
  measure     the same with the measure planner and no --wisdom: the resumed output equals
              an uninterrupted run that uses the interrupted run's plans (its auto wisdom)
  refusals    --resume with nothing to resume; --shard out of range
  shards      3 shards (one run each, 1 or 2 ranks, one from SLURM_ARRAY_*), merged as a
              virtual dataset and as a copy: ref.h5's bits; merge refuses a missing shard
              and a shard of another input
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

from block_runs import BLOCK, ITERATIONS, Test, same_bits

# The journal reader and the rank finder of the kill-and-resume loop (scripts/).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from kill_resume_loop import journal_records, rank_pids  # noqa: E402


def base_args(test, output, planner="estimate"):
    return [test.binary, "run", "--input", test.synth, "--psf", test.synth,
            "--output", test.path(output), "--iterations", str(ITERATIONS), "--threads", "1",
            "--block", BLOCK, "--fft-planner", planner, "--progress-interval", "0.5"]


def mpi(test, ranks):
    return [test.mpiexec, "-n", str(ranks), "--oversubscribe"]


def env():
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def interrupted_run(test, output, planner="estimate", want=2):
    """Runs on 3 ranks and SIGKILLs rank 1 once the journal holds `want` blocks."""
    out = test.path(output)
    for suffix in ("", ".partial", ".partial.journal", ".partial.wisdom"):
        if os.path.exists(out + suffix):
            os.remove(out + suffix)
    cmd = mpi(test, 3) + base_args(test, output, planner)
    print("$", " ".join(cmd), flush=True)
    job = subprocess.Popen(cmd, env=env(), start_new_session=True)
    journal = out + ".partial.journal"
    deadline = time.monotonic() + 300
    while journal_records(journal) < want:
        if job.poll() is not None:
            raise SystemExit(f"FAIL: the run ended (code {job.returncode}) before {want} blocks "
                             "were recorded")
        if time.monotonic() > deadline:
            os.killpg(job.pid, signal.SIGKILL)
            raise SystemExit("FAIL: no journal records within 300 s")
        time.sleep(0.02)
    pids = rank_pids(test.binary, out)
    victim = pids.get(1) or max(pids.values())
    print(f"resume: journal holds {journal_records(journal)} blocks; kill -9 rank 1 (pid {victim})",
          flush=True)
    os.kill(victim, signal.SIGKILL)
    try:
        job.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
        print("resume: mpiexec did not end the job within 60 s; killed it", flush=True)
    print(f"resume: mpiexec ended with code {job.returncode}", flush=True)
    failures = []
    if os.path.exists(out):
        failures.append(f"{out} exists after the kill")
    for suffix in (".partial", ".partial.journal"):
        if not os.path.exists(out + suffix):
            failures.append(f"{out + suffix} is missing after the kill")
    return journal_records(journal), failures


def expect_failure(cmd, pattern, code):
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, env=env(), capture_output=True, text=True)
    text = result.stdout + result.stderr
    if result.returncode != code or not re.search(pattern, text):
        print(text)
        return [f"expected exit {code} and /{pattern}/, got exit {result.returncode}"]
    errors = [line for line in text.splitlines() if "h5decon: error" in line]
    print(f"refused as expected: {errors[0] if errors else text.strip()}")
    return []


def resumed_run(test, output, ranks, done_before, *extra):
    cmd = mpi(test, ranks) + base_args(test, output, *extra) + ["--resume"]
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, env=env(), capture_output=True, text=True)
    print(result.stdout, result.stderr, flush=True)
    if result.returncode != 0:
        return [f"--resume failed with exit {result.returncode}"]
    match = re.search(r"resuming: (\d+) of (\d+) blocks already done, computing (\d+)",
                      result.stdout)
    total = re.search(r"total: (\d+) blocks", result.stdout)
    if not match or not total:
        return ["no 'resuming:' or 'total:' line in the log"]
    done, all_blocks, computing = map(int, match.groups())
    failures = []
    if done != done_before:
        failures.append(f"resumed with {done} blocks done, the journal held {done_before}")
    if computing != all_blocks - done or int(total.group(1)) != computing:
        failures.append(f"computed {total.group(1)} blocks (announced {computing}), expected "
                        f"{all_blocks} - {done}")
    out = test.path(output)
    for suffix in (".partial", ".partial.journal", ".partial.wisdom"):
        if os.path.exists(out + suffix):
            failures.append(f"{out + suffix} left after the resumed run finished")
    print(f"resume: {done} of {all_blocks} blocks were done; {computing} recomputed")
    return failures


def resume(test, ranks):
    output = f"killed{ranks}.h5"
    done, failures = interrupted_run(test, output)
    changed = mpi(test, 2) + base_args(test, output) + ["--resume"]
    changed[changed.index("--iterations") + 1] = "7"
    failures += expect_failure(changed, r"iterations: 6 \(now 7\)", 2)
    fresh = mpi(test, 1) + base_args(test, output)
    failures += expect_failure(fresh, "partial output from an interrupted run exists.*--resume", 2)
    failures += resumed_run(test, output, ranks, done)
    failures += [] if same_bits(test, output) == 0 else [f"{output} differs from ref.h5"]
    return report(failures)


def measure(test):
    # Without a wisdom cache location (H5DECON_WISDOM empty), the measured plans are
    # kept beside the partial output for the resume.
    os.environ["H5DECON_WISDOM"] = ""
    output = "killed_measure.h5"
    done, failures = interrupted_run(test, output, "measure")
    wisdom = test.path(output) + ".partial.wisdom"
    if not os.path.exists(wisdom):
        return report(failures + [f"{wisdom} was not written"])
    shutil.copy(wisdom, test.path("measure_plans.wisdom"))
    failures += resumed_run(test, output, 2, done, "measure")
    test.run(1, "measure_reference.h5", "--block", BLOCK, "--fft-planner", "measure",
             "--wisdom", test.path("measure_plans.wisdom"))
    if same_bits(test, output, "measure_reference.h5"):
        failures.append("the resumed measure-planner run differs from a run with its plans")
    return report(failures)


def refusals(test):
    failures = expect_failure(mpi(test, 2) + base_args(test, "never_started.h5") + ["--resume"],
                              "nothing to resume", 2)
    failures += expect_failure(base_args(test, "bad_shard.h5") + ["--shard", "3/3"],
                               "shard 3 of 3 is out of range", 1)
    failures += expect_failure(base_args(test, "bad_shard.h5") + ["--shard", "two"],
                               "'two' is not K/N", 1)
    return report(failures)


def shards(test):
    names = [test.path(f"sharded.shard{k}-of-3.h5") for k in range(3)]
    for name in names:
        if os.path.exists(name):
            os.remove(name)
    for k, ranks in ((0, 1), (2, 2)):
        cmd = mpi(test, ranks) + base_args(test, "sharded.h5") + ["--shard", f"{k}/3"]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, env=env(), check=True)
    # Shard 1 from a job array's environment (tasks 10, 11, 12) with --shard auto.
    slurm = {"SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_MIN": "10",
             "SLURM_ARRAY_TASK_MAX": "12", "SLURM_ARRAY_TASK_STEP": "1"}
    cmd = mpi(test, 2) + [a for k, v in slurm.items() for a in ("-x", f"{k}={v}")] + \
        base_args(test, "sharded.h5") + ["--shard", "auto"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, env={**env(), **slurm}, check=True)
    failures = []
    with h5py.File(names[1], "r") as f:
        attrs = f["data"].attrs
        if attrs["shard"] != "1/3" or attrs["shard_volumes"].tolist() != [[0, 1], [1, 1]]:
            failures.append(f"shard 1 attributes: {attrs['shard']}, {attrs['shard_volumes']}")
    for mode in ([], ["--copy"]):
        merged = "merged" + ("_copy" if mode else "_vds") + ".h5"
        cmd = [test.binary, "merge", "--output", test.path(merged), "--overwrite", *mode, *names]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, env=env(), check=True)
        failures += [] if same_bits(test, merged) == 0 else [f"{merged} differs from ref.h5"]
    failures += expect_failure([test.binary, "merge", "--output", test.path("m2.h5"), *names[:2]],
                               r"shard 2/3 is missing", 2)
    other = test.path("other.h5")
    subprocess.run([test.binary, "synth", "--preset", "stack", "--output", other, "--seed", "6",
                    "--overwrite"], check=True, env=env())
    cmd = base_args(test, "other_sharded.h5") + ["--shard", "2/3", "--overwrite"]
    cmd[cmd.index("--input") + 1] = other
    subprocess.run(cmd, env=env(), check=True)
    failures += expect_failure([test.binary, "merge", "--output", test.path("m3.h5"), *names[:2],
                                test.path("other_sharded.shard2-of-3.h5")],
                               "belongs to another run", 2)
    return report(failures)


def report(failures):
    for message in failures:
        print("FAIL:", message)
    return 1 if failures else 0


def main():
    binary, mpiexec, workdir, step = sys.argv[1:5]
    test = Test(binary, mpiexec, workdir)
    if step == "resume":
        return resume(test, int(sys.argv[5]))
    steps = {"measure": measure, "refusals": refusals, "shards": shards}
    if step in steps:
        return steps[step](test)
    print("unknown step", step)
    return 2


if __name__ == "__main__":
    sys.exit(main())
