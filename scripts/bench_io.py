#!/usr/bin/env python3
"""I/O benchmark of the block runtime: how close rank 0's serving comes to the
file system, in one run on one file.

usage: scripts/bench_io.py [--h5decon BIN] [--gib G] [--ranks 1,2,3] [--repeats N] [--bind none|core]
                           [--work DIR] [--keep] [-- extra run options]
(--work DIR --keep: the file stays, and a later call with the same --work reuses it,
so that options compare on one file: e.g. -- --read direct; --h5decon A,B alternates
the runs of two builds in one call, one row each, against the same floor)

Writes a (1, C, Z, 1024, 1024) uint16 file of about G GiB (chunks 32x256x256,
PSF 33x17x17), then prints:
  - the floor: h5py reading the whole dataset chunk by chunk (one chunk per read:
    HDF5 1.10 reads a slab of many chunks into one array up to 40x slower, row by
    row) and writing the same shape as float32 in z-slabs of whole chunks, in GB/s;
  - per rank count, `run --no-compute` (or with --compute N, N iterations; blocks read, sent, converted, written;
    no deconvolution), median of N: end-to-end seconds and GB/s of input plus
    output bytes, as a share of the floor (read + write time); rank 0's region
    reads (GB/s while reading, as a share of the raw read rate); the halo
    amplification (region bytes / volume bytes); the bytes rank 0 read from the
    file per volume byte (whole chunks); each rank's share of the run spent
    waiting for blocks; the CPU seconds (user + system) of all ranks and how many
    CPUs that kept busy over the whole process's time (the floor's CPU seconds
    beside it: on a machine with few cores this is the limit).
The page cache is not dropped: floors and runs both read a file the machine has
just written or read, as a re-run on a workstation does.
"""
import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

CHUNK = (32, 256, 256)


def make_file(path, gib):
    y = x = 1024
    z = 128
    c = max(1, round(gib * 2**30 / (z * y * x * 2)))
    shape = (1, c, z, y, x)
    rng = np.random.default_rng(0)
    slab = rng.integers(100, 4000, (CHUNK[0], y, x), dtype=np.uint16)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("data", shape, np.uint16, chunks=(1, 1) + CHUNK)
        for t in range(c):
            for z0 in range(0, z, CHUNK[0]):
                d[0, t, z0:z0 + CHUNK[0]] = np.roll(slab, t + z0, axis=2)
        d.attrs["element_size_um"] = np.array([0.4, 0.1, 0.1])
        k = [np.arange(n) - n // 2 for n in (33, 17, 17)]
        psf = np.exp(-(k[0][:, None, None] ** 2 / 40 + k[1][None, :, None] ** 2 / 8 + k[2][None, None, :] ** 2 / 8))
        f["psf"] = (psf / psf.sum()).astype(np.float32)
    return shape


def cpu_seconds(who):
    u = resource.getrusage(who)
    return u.ru_utime + u.ru_stime


def floors(path, work, shape):
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with h5py.File(path, "r") as f:
        d = f["data"]
        for t in range(shape[1]):
            for z0 in range(0, shape[2], CHUNK[0]):
                for y0 in range(0, shape[3], CHUNK[1]):
                    for x0 in range(0, shape[4], CHUNK[2]):
                        d[0, t, z0:z0 + CHUNK[0], y0:y0 + CHUNK[1], x0:x0 + CHUNK[2]]
    read_s = time.perf_counter() - start
    out = os.path.join(work, "floor_write.h5")
    block = np.ones((CHUNK[0],) + shape[3:], np.float32)
    start = time.perf_counter()
    with h5py.File(out, "w") as f:
        d = f.create_dataset("data", shape, np.float32, chunks=(1, 1) + CHUNK)
        for t in range(shape[1]):
            for z0 in range(0, shape[2], CHUNK[0]):
                d[0, t, z0:z0 + CHUNK[0]] = block
    write_s = time.perf_counter() - start
    cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu
    os.remove(out)
    return read_s, write_s, cpu


def one_run(args, binary, path, work, ranks, extra):
    out = os.path.join(work, "out.h5")
    if os.path.exists(out):  # as the floor's file: written fresh, not over a previous one
        os.remove(out)
    # More ranks than cores bound to cores needs overload-allowed (2-core machines).
    bind = args.bind + (":overload-allowed" if args.bind == "core" else "")
    start = time.perf_counter()
    cmd = (["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", bind]
           if ranks > 1 else []) + [
        binary, "run", "--input", path, "--psf", path + ":/psf", "--output",
        out, "--block", "64,256,256",
        *(["--iterations", str(args.compute)] if args.compute else ["--no-compute"]),
        "--fft-planner", "estimate"] + extra
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True)
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu  # every rank's user + system time
    wall = time.perf_counter() - start  # the whole process, as the CPU time
    if p.returncode != 0:
        sys.exit(f"bench_io: {' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    log = p.stdout
    total = re.search(r"^total: .* in ([0-9.]+) s", log, re.M)
    served = re.search(r"^served: ([0-9.]+) MB ", log, re.M)  # absent with --read direct
    reading = re.search(r"read in ([0-9.]+) s \(([0-9.]+) GB/s while reading[,)]", log)
    amplification = re.search(r"amplification:\s+([0-9.]+)x", log)  # from the plan
    from_file = re.search(r"([0-9.]+)x read from the file", log)  # served runs
    waits = [float(w) for w in re.findall(r"^rank \d+: .* waiting for blocks ([0-9.]+) s", log, re.M)]
    halo = re.search(r"halo per side:\s+(\S+)", log)
    return {"seconds": float(total.group(1)),
            "served_mb": float(served.group(1)) if served else float("nan"),
            "read_gbs": float(reading.group(2)) if reading else float("nan"),
            "amplification": float(amplification.group(1)) if amplification else float("nan"),
            "from_file": float(from_file.group(1)) if from_file else float("nan"),
            "waits": waits, "halo": halo.group(1), "cpu": cpu, "wall": wall}


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h5decon", default=os.path.join(here, "build", "src", "h5decon"),
                    help="the binary, or several separated by commas: their runs alternate, "
                         "one row each, against the same floor")
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--ranks", default="1,2,3")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bind", default="none", choices=["none", "core", "socket"],
                    help="mpirun --bind-to for 2+ ranks (1 rank runs without mpirun, unbound): "
                         "bound to one core, rank 0's reader, serving and compute threads share it")
    ap.add_argument("--work", default="")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--compute", type=int, default=0, metavar="N",
                    help="deconvolve with N iterations instead of --no-compute (waiting shares "
                         "with compute on)")
    ap.add_argument("extra", nargs="*", help="further run options (after --)")
    args = ap.parse_args()
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    work = args.work or tempfile.mkdtemp(prefix="h5decon_bench_io_")
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "input.h5")
    try:
        if args.work and os.path.exists(path):  # a kept file from an earlier call
            with h5py.File(path, "r") as f:
                shape = f["data"].shape
        else:
            shape = make_file(path, args.gib)
        in_bytes = int(np.prod(shape)) * 2
        out_bytes = in_bytes * 2
        measured = [floors(path, work, shape) for _ in range(args.repeats)]
        read_s = statistics.median(m[0] for m in measured)
        write_s = statistics.median(m[1] for m in measured)
        floor_cpu = statistics.median(m[2] for m in measured)
        print(f"file: {path} {shape} uint16 = {in_bytes / 2**30:.2f} GiB, chunks {CHUNK}")
        print(f"floor (h5py, one process, median of {args.repeats}): read {in_bytes / read_s / 1e9:.2f} GB/s ({read_s:.2f} s), "
              f"write float32 {out_bytes / write_s / 1e9:.2f} GB/s ({write_s:.2f} s); "
              f"read + write {read_s + write_s:.2f} s, {floor_cpu:.2f} CPU s; this machine has "
              f"{os.cpu_count()} CPUs")
        print(f"mpirun --bind-to {args.bind} for 2+ ranks; 1 rank without mpirun")
        print("ranks | end-to-end s | GB/s in+out | vs floor | rank-0 reads GB/s | vs raw read "
              "| amplification | read from file | waiting per rank (share of run) | halo "
              "| CPU s (user + system, all ranks) | CPUs busy")
        for ranks in [int(r) for r in args.ranks.split(",")]:
            binaries = args.h5decon.split(",")
            runs = {b: [] for b in binaries}
            for _ in range(args.repeats):
                for b in binaries:
                    runs[b].append(one_run(args, b, path, work, ranks, args.extra))
            for b in binaries:
                row(ranks, runs[b], b if len(binaries) > 1 else "", in_bytes, out_bytes,
                    read_s, write_s)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def number(value, form):
    return "-" if value != value else format(value, form)  # NaN: not in this mode's log


def row(ranks, runs, label, in_bytes, out_bytes, read_s, write_s):
    med = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    e2e = (in_bytes + out_bytes) / med["seconds"] / 1e9
    floor_share = (read_s + write_s) / med["seconds"]
    raw_share = med["read_gbs"] / (in_bytes / read_s / 1e9)
    waits = ", ".join(f"{w / med['seconds']:.0%}" for w in med["waits"])
    every = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(f"{ranks}{' ' + label if label else ''} | {med['seconds']:.2f} (of {every}) "
          f"| {e2e:.2f} | {floor_share:.0%} | {number(med['read_gbs'], '.2f')} "
          f"| {number(raw_share, '.0%')} | {med['amplification']:.2f}x "
          f"| {number(med['from_file'], '.2f')}x | {waits} | {med['halo']} "
          f"| {med['cpu']:.1f} | {med['cpu'] / med['wall']:.2f}",
          flush=True)


if __name__ == "__main__":
    main()
