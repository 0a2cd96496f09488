#!/usr/bin/env python3
"""A PSF deeper than the stack against the same PSF cropped to the stack's depth.

    scripts/psf_depth_check.py --h5decon build/src/h5decon --realdata ../shared/realdata

Runs `h5decon run` on the real stacks whose PSFs are deeper than the stack
(dw_dapi.h5: 40 planes, PSF 79; bian_grid.h5: 21 planes, PSF 33), once with the
full PSF and once with its crop to the stack's depth (/psf_z39, /psf_z21), and
prints for each result the sharpness S = mean |grad u|^2 / mean u^2 (scale-free;
larger is sharper) and its ratio full / cropped. Exit 1 when a full-PSF result is
less sharp than the cropped one. With --beads it also measures the PSF of the
confocal bead image (Bead_Image1_crop.tif) and checks that its 4 beads are used.
Prints "skipped: no realdata" and exits 0 when the folder is missing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

CASES = [  # file, full PSF, cropped PSF, extra options
    ("dw_dapi.h5", "/psf", "/psf_z39", []),
    ("bian_grid.h5", "/psf", "/psf_z21", ["--ignore-voxel-size"]),
]


def sharpness(u):
    g = np.gradient(u.astype(np.float64))
    return float(sum((d * d).mean() for d in g) / (u.astype(np.float64) ** 2).mean())


def run(binary, data, psf, out, extra, iterations):
    cmd = [binary, "run", "--input", data, "--psf", psf, "--output", out, "--overwrite",
           "--iterations", str(iterations), "--fft-planner", "estimate"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout}{p.stderr}")
    notes = [l for l in p.stdout.splitlines() if l.startswith("PSF c=0")]
    with h5py.File(out, "r") as f:
        return f["data"][0, 0], notes


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--h5decon", required=True)
    a.add_argument("--realdata", required=True)
    a.add_argument("--iterations", type=int, default=40)
    a.add_argument("--beads", action="store_true", help="also check psf --from-beads")
    o = a.parse_args()
    if not all(os.path.exists(os.path.join(o.realdata, c[0])) for c in CASES):
        print(f"skipped: no realdata in {o.realdata}")
        return
    worse = []
    with tempfile.TemporaryDirectory(prefix="h5decon-psfdepth-") as work:
        for name, full, cropped, extra in CASES:
            data = os.path.join(o.realdata, name)
            with h5py.File(data, "r") as f:
                depth, pf, pc = f["data"].shape[2], f[full].shape, f[cropped].shape
                whole = f[full][...]
                z0 = pf[0] // 2 - pc[0] // 2  # the crop is centred on the centre plane
                flux = float(whole[z0:z0 + pc[0]].sum() / whole.sum())
            observed = h5py.File(data, "r")["data"][0, 0].astype(np.float32)
            u_full, notes = run(o.h5decon, data, data + ":" + full,
                                os.path.join(work, "full.h5"), extra, o.iterations)
            u_crop, _ = run(o.h5decon, data, data + ":" + cropped,
                            os.path.join(work, "crop.h5"), extra, o.iterations)
            s_obs, s_full, s_crop = sharpness(observed), sharpness(u_full), sharpness(u_crop)
            print(f"{name}: {depth} planes; PSF {'x'.join(map(str, pf))} (full) vs "
                  f"{'x'.join(map(str, pc))} (cropped to the stack, {100 * flux:.0f}% of the flux)")
            for n in notes:
                print("  log:", n)
            print(f"  sharpness S: observed {s_obs:.4g}, full PSF {s_full:.4g}, cropped PSF "
                  f"{s_crop:.4g}; full / cropped = {s_full / s_crop:.3f} ({o.iterations} iterations)")
            if s_full < s_crop:
                worse.append(name)
        if o.beads:
            image = os.path.join(o.realdata, "Bead_Image1_crop.tif")
            p = subprocess.run([o.h5decon, "psf", "--from-beads", image, "--output",
                                os.path.join(work, "beads.tif"), "--overwrite"],
                               capture_output=True, text=True)
            print(p.stdout.strip())
            if p.returncode != 0 or "4 isolated beads used" not in p.stdout:
                worse.append("Bead_Image1_crop.tif (expected its 4 beads used)\n" + p.stderr)
    if worse:
        sys.exit("FAIL: " + ", ".join(worse))


if __name__ == "__main__":
    main()
