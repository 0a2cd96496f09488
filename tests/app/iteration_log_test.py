#!/usr/bin/env python3
"""`run --log-iterations K`: a line for every K-th RL iteration of each block (and of
each volume in exact mode), one per block when it ends, one for the run; plausible
values (plain RL's relative change falls; the stopping criterion is reported where
it was met).

Usage: iteration_log_test.py H5DECON MPIEXEC WORKDIR
"""
import os
import re
import subprocess
import sys

ITERATION = re.compile(r"(block (\d+)|volume) \(c (\d+), t (\d+)\) iteration (\d+)/(\d+): "
                       r"relative change ([0-9.e+-]+)(, alpha ([0-9.]+))?"
                       r"(, I-divergence of its start ([0-9.e+-]+))?$")
BLOCK_END = re.compile(r"(block (\d+)|volume) \(c (\d+), t (\d+)\): (\d+) iterations?, "
                       r"last relative change ([0-9.e+-]+)(, below --stop-rel-change (\S+))?$")
SUMMARY = re.compile(r"^iterations: (\d+) (?:blocks?|volumes?), .*last relative change ([0-9.e+-]+)")


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    print(result.stdout, result.stderr, sep="\n")
    assert result.returncode == 0, f"exit {result.returncode}"
    return result.stdout.splitlines()


def parse(lines):
    """(iteration lines, block-end lines, summary lines) as tuples of their fields."""
    # A progress bar (mpiexec gives ranks a terminal) may precede a line.
    its = [m.groups() for m in map(ITERATION.search, lines) if m]
    ends = [m.groups() for m in map(BLOCK_END.search, lines) if m]
    summaries = [m.groups() for m in map(SUMMARY.match, lines) if m]
    return its, ends, summaries


def one_block_every_iteration(h5decon, launcher, data, out):
    """One block, every iteration: 12 lines, iterations 1..12, change falling."""
    lines = run(launcher + [h5decon, "run", "--input", data, "--psf", data + ":/psf",
                            "--output", out, "--overwrite", "--iterations", "12",
                            "--log-iterations", "1", "--fft-planner", "estimate"])
    its, ends, summaries = parse(lines)
    assert [int(i[4]) for i in its] == list(range(1, 13)), its
    assert all(i[5] == "12" and i[8] is None for i in its), "no alpha without --accel"
    changes = [float(i[6]) for i in its]
    assert all(c > 0 for c in changes), changes
    assert all(b < a for a, b in zip(changes, changes[1:])), f"not falling: {changes}"
    assert changes[-1] < 0.5 * changes[0], changes
    fits = [float(i[10]) for i in its]  # measured while iterations are logged
    assert all(b <= a for a, b in zip(fits, fits[1:])), f"RL's I-divergence rose: {fits}"
    assert len(ends) == 1 and ends[0][4] == "12" and ends[0][7] is None, ends
    assert float(ends[0][5]) == changes[-1], (ends, changes)
    assert len(summaries) == 1 and summaries[0][0] == "1", summaries


def blocks_stopping(h5decon, launcher, data, out):
    """Several blocks on 2 ranks with Biggs and stopping: every 4th iteration, one
    line per block, each stopped below the criterion, alpha in [0, 1)."""
    stop, most = 1.5e-2, 100
    lines = run(launcher + [h5decon, "run", "--input", data, "--psf", data + ":/psf",
                            "--output", out, "--overwrite", "--block", "32,64,64",
                            "--max-iterations", str(most), "--stop-rel-change", str(stop),
                            "--accel", "biggs-log", "--log-iterations", "4",
                            "--fft-planner", "estimate"])
    its, ends, summaries = parse(lines)
    blocks = sorted(int(e[1]) for e in ends)
    assert len(blocks) >= 4 and blocks == list(range(len(blocks))), f"block lines: {blocks}"
    ran = {int(e[1]): int(e[4]) for e in ends}
    for e in ends:
        assert e[7] is not None and float(e[5]) < stop, f"block {e[1]} did not stop: {e}"
        assert 1 < int(e[4]) < most, e
    for i in its:
        assert int(i[4]) % 4 == 0 and int(i[4]) <= ran[int(i[1])], i
        assert i[8] is not None and 0.0 <= float(i[8]) < 1.0, i
    for b, n in ran.items():
        logged = sorted(int(i[4]) for i in its if int(i[1]) == b)
        assert logged == list(range(4, n + 1, 4)), (b, n, logged)
    assert len(summaries) == 1 and int(summaries[0][0]) == len(blocks), summaries
    summary = next(line for line in lines if line.startswith("iterations: "))
    assert f"{len(blocks)} stopped by --stop-rel-change" in summary, summary


def exact_mode(h5decon, launcher, data, out):
    """Exact mode on 2 ranks: each volume's lines once (rank 0), every 3rd iteration."""
    lines = run(launcher + [h5decon, "run", "--mode", "exact", "--input", data, "--psf",
                            data + ":/psf", "--output", out, "--overwrite", "--iterations", "9",
                            "--log-iterations", "3", "--fft-planner", "estimate"])
    its, ends, summaries = parse(lines)
    assert [(i[0], int(i[4])) for i in its] == [("volume", 3), ("volume", 6), ("volume", 9)], its
    assert len(ends) == 1 and ends[0][4] == "9", ends
    assert len(summaries) == 1 and summaries[0][0] == "1", summaries


def main():
    h5decon, mpiexec, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "small.h5")
    run([h5decon, "synth", "--preset", "small", "--output", data, "--overwrite"])
    out = os.path.join(work, "out.h5")
    one_block_every_iteration(h5decon, [], data, out)
    two_ranks = [mpiexec, "-n", "2"]
    blocks_stopping(h5decon, two_ranks, data, out)
    exact_mode(h5decon, two_ranks, data, out)
    print("iteration log: ok")


if __name__ == "__main__":
    main()
