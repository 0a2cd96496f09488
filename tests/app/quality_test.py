#!/usr/bin/env python3
"""`h5decon quality`, the program behind the README's quality table: its figures
hold what they claim on a small scene.

- Plain RL improves the input's PSNR, and its time to its own best has ratio 1.
- biggs-log reaches plain RL's best PSNR in fewer iterations than plain RL.
- The PSNR columns agree with a recomputation: the best PSNR is the maximum of
  the per-iteration column, and the shell/interior gap is their difference.
- With --crop every variant also runs on the uncropped field; reflect (whose
  mirror is wrong where the field of view cuts through the scene) loses more at
  the edge than bertero, and bertero's loss is within 1 dB.
- Without --crop there is no edge-loss column; a bad variant is refused as a usage error (exit 1).

Usage: quality_test.py H5DECON WORKDIR
"""
import os
import re
import subprocess
import sys

ROW = re.compile(r"^\| (\S+) \| ([0-9.]+) \| ([0-9.]+) \((\d+), [0-9.]+\) \| ([0-9.]+) \| "
                 r"([0-9.]+) / ([0-9.]+) \(gap (-?[0-9.]+)\) \| (never|it (\d+), [0-9.]+ s) \| "
                 r"(-|[0-9.]+) \|(?: ([0-9.]+) / ([0-9.]+) \(loss (-?[0-9.]+)\) \|)?$")
INPUT = re.compile(r"^input: PSNR ([0-9.]+) dB")


def run(cmd, expect=0):
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    print(result.stdout, result.stderr, sep="\n")
    assert result.returncode == expect, f"exit {result.returncode}, expected {expect}"
    return result


def summary(text):
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            g = m.groups()
            rows[g[0]] = dict(best=float(g[2]), best_it=int(g[3]), shell=float(g[5]),
                              interior=float(g[6]), gap=float(g[7]),
                              reach=None if g[8] == "never" else int(g[9]),
                              ratio=None if g[10] == "-" else float(g[10]),
                              edge=None if g[11] is None else float(g[11]),
                              inside=None if g[12] is None else float(g[12]),
                              loss=None if g[13] is None else float(g[13]))
    return rows


def per_iteration_psnr(text, column):
    """PSNR by iteration of one variant from the by-iteration table (checkpoints)."""
    lines = text.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("| iteration |"))
    names = [c.strip() for c in lines[head].strip("|").split("|")][1:]
    k = names.index(column)
    out = {}
    for line in lines[head + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[int(cells[0])] = float(cells[1 + k].split()[0])
    return out


def main():
    h5decon, work = sys.argv[1:3]
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "small.h5")
    run([h5decon, "synth", "--preset", "small", "--output", data, "--overwrite"])
    common = ["--threads", "2", "--fft-planner", "estimate"]

    text = run([h5decon, "quality", "--input", data, "--iterations", "40",
                "--variants", "plain,biggs-log"] + common).stdout
    rows = summary(text)
    assert set(rows) == {"plain", "biggs-log"}, rows
    plain, fast = rows["plain"], rows["biggs-log"]
    source = float(next(INPUT.match(l) for l in text.splitlines() if INPUT.match(l)).group(1))
    assert plain["best"] > source + 1.0, (plain, source)
    assert plain["ratio"] == 1.0 and plain["reach"] <= plain["best_it"], plain
    assert fast["reach"] is not None and fast["reach"] < plain["reach"], (fast, plain)
    assert fast["best"] >= plain["best"] - 0.01, (fast, plain)
    for name, row in rows.items():
        assert abs(row["interior"] - row["shell"] - row["gap"]) <= 0.011, row
        assert row["loss"] is None, "no edge loss without --crop"
        column = per_iteration_psnr(text, name)
        assert max(column.values()) <= row["best"] + 0.005, (name, column, row)

    text = run([h5decon, "quality", "--input", data, "--iterations", "25",
                "--variants", "plain,bertero", "--crop", "12", "12", "12"] + common).stdout
    rows = summary(text)
    assert set(rows) == {"plain", "bertero"}, rows
    for name, row in rows.items():
        assert row["loss"] is not None and row["edge"] == row["shell"], row
        assert abs(row["inside"] - row["edge"] - row["loss"]) <= 0.011, row
    assert rows["plain"]["loss"] > rows["bertero"]["loss"] + 0.5, rows
    assert abs(rows["bertero"]["loss"]) <= 1.0, rows

    bad = run([h5decon, "quality", "--input", data, "--variants", "plain,sharpen"], expect=1)
    assert "unknown feature 'sharpen'" in bad.stderr, bad.stderr
    print("PASS")


if __name__ == "__main__":
    main()
