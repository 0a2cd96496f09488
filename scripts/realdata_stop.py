#!/usr/bin/env python3
"""The back projectors and --stop-divergence on the real stacks (no ground truth).

    scripts/realdata_stop.py --h5decon build/src/h5decon --realdata ../shared/realdata \\
        [--previews DIR] [--check]

For each real stack (the low-count confocal grid, the widefield DAPI nucleus, the
widefield bead) runs `h5decon run` with each variant and prints one Markdown row:
iterations run and why they stopped, wall time, the I-divergence of the result's
model from the data relative to the data's own (the first start, u_0 = d: < 1 fits
the data better), and the sharpness S = mean |grad u|^2 / mean u^2 relative to the
data's (larger is sharper, noise included). With --previews, one PNG per run
(`h5decon preview`: input left, result right; xy above, xz below).

With --check it runs only the variants that stop on the I-divergence and exits 1
unless each ends with a finite result that fits the data at least as well as the
data itself ("no divergence"); it prints "skipped: no realdata" and exits 0 without
the folder.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

STACKS = [  # file, PSF dataset, options, what
    ("bian_grid.h5", "/psf_resampled_z21", [], "confocal grid, 1-8 counts"),
    ("dw_dapi.h5", "/psf", ["--background", "auto"], "widefield DAPI nucleus"),
    ("flowdec_bead.h5", "/psf", [], "widefield bead"),
]

VARIANTS = [  # name, options, stops on the I-divergence
    ("rl, 40 iterations", ["--iterations", "40"], False),
    ("biggs-log, 40 iterations", ["--accel", "biggs-log", "--iterations", "40"], False),
    ("wb, 10 iterations", ["--backprojector", "wb", "--iterations", "10"], False),
    ("rl, --stop-divergence 0.001", ["--iterations", "100", "--stop-divergence", "0.001"], True),
    ("biggs-log, --stop-divergence 0.001 (the presets)",
     ["--accel", "biggs-log", "--iterations", "100", "--stop-divergence", "0.001"], True),
    ("wb, --stop-divergence 0.01",
     ["--backprojector", "wb", "--iterations", "50", "--stop-divergence", "0.01"], True),
    ("wb alpha 1, --stop-divergence 0.01",
     ["--backprojector", "wb", "--wb-alpha", "1", "--iterations", "50",
      "--stop-divergence", "0.01"], True),
]

LINE = re.compile(r"iteration (\d+)/\d+: relative change (\S+?),.*I-divergence of its start (\S+)")


def sharpness(u):
    g = np.gradient(u.astype(np.float64))
    return float(sum((d * d).mean() for d in g) / (u.astype(np.float64) ** 2).mean())


def run_variant(binary, data, psf, extra, options, out):
    cmd = [binary, "run", "--input", data, "--psf", psf, "--output", out, "--overwrite",
           "--fft-planner", "estimate", "--log-iterations", "1"] + extra + options
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if p.returncode != 0:
        return None, seconds, (p.stdout + p.stderr).strip().splitlines()[-1]
    fits = {int(m.group(1)): float(m.group(3)) for m in LINE.finditer(p.stdout)}
    block = [l for l in p.stdout.splitlines() if re.search(r"\d+ iterations?, last", l)]
    return fits, seconds, block[-1].split(": ", 1)[1] if block else ""


def result_fit(fits, why):
    """The I-divergence of the result's model: the best start when the rule stopped the
    run, else the last start's (the result itself, one update later, is not measured)."""
    return min(fits.values()) if "the best fit" in why else fits[max(fits)]


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("--h5decon", required=True)
    a.add_argument("--realdata", required=True)
    a.add_argument("--previews", help="write a preview PNG per run into this folder")
    a.add_argument("--check", action="store_true", help="exit 1 when a stopped run diverged")
    args = a.parse_args()
    if not os.path.isdir(args.realdata):
        print("skipped: no realdata")
        return 0
    failures = []
    with tempfile.TemporaryDirectory() as work:
        for name, psf, extra, what in STACKS:
            data = os.path.join(args.realdata, name)
            if not os.path.exists(data):
                print(f"skipped: {name} not in {args.realdata}")
                continue
            with h5py.File(data, "r") as f:
                observed = f["/data"][0, 0].astype(np.float64)
            print(f"\n{name} ({what}), PSF {psf}\n")
            print("| variant | iterations, stop | s | I-divergence / data's | sharpness / data's |")
            print("|---|---|---|---|---|")
            for label, options, stops in VARIANTS:
                if args.check and not stops:
                    continue
                out = os.path.join(work, "out.h5")
                fits, seconds, why = run_variant(args.h5decon, data, data + ":" + psf, extra,
                                                 options, out)
                if fits is None:
                    print(f"| {label} | failed: {why} | {seconds:.1f} | - | - |")
                    failures.append(f"{name} {label}: {why}")
                    continue
                with h5py.File(out, "r") as f:
                    u = f["/data"][0, 0].astype(np.float64)
                fit = result_fit(fits, why)
                rel = f"{fit / fits[1]:.3f}" + ("" if "the best fit" in why else " (last start)")
                stop = "" if "the best fit" not in why else \
                    (", an earlier start kept" if "an earlier start" in why else ", its start kept")
                print(f"| {label} | {max(fits)}{stop} | "
                      f"{seconds:.1f} | {rel} | {sharpness(u) / sharpness(observed):.2f} |")
                if stops and (not np.isfinite(u).all() or fit > fits[1]):
                    failures.append(f"{name} {label}: the result fits the data worse than the "
                                    f"data ({fit} > {fits[1]})")
                if args.previews:
                    os.makedirs(args.previews, exist_ok=True)
                    png = os.path.join(args.previews, name.replace(".h5", "") + "_" +
                                       re.sub(r"[^a-z0-9]+", "_", label).strip("_") + ".png")
                    subprocess.run([args.h5decon, "preview", "--input", data, "--result", out,
                                    "--output", png], check=True, capture_output=True)
    for f in failures:
        print("FAIL: " + f)
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
