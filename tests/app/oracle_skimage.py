#!/usr/bin/env python3
"""Oracle test: h5decon run (--boundary zero --init constant) against
scikit-image's restoration.richardson_lucy(clip=False) on a small volume.

usage: oracle_skimage.py H5DECON WORKDIR [MPIEXEC NP]
Passes when max|ours - skimage| <= 1e-4 * max(skimage).
"""
import os
import subprocess
import sys

import h5py
import numpy as np
from scipy import ndimage
from skimage import restoration

ITERATIONS = 10
TOLERANCE = 1e-4


def make_image(rng):
    """Blurred random blobs plus a background, with Poisson noise; positive float32."""
    truth = np.zeros((24, 40, 40))
    idx = tuple(rng.integers(0, n, 40) for n in truth.shape)
    truth[idx] = rng.uniform(200, 1000, 40)
    blobs = ndimage.gaussian_filter(truth, sigma=(1.5, 1.0, 1.0)) + 5.0
    return rng.poisson(blobs).astype(np.float32) + 1.0


def make_psf():
    """An odd 7x9x9 anisotropic Gaussian centred at n//2, normalised to sum 1."""
    z, y, x = np.mgrid[0:7, 0:9, 0:9]
    p = np.exp(-0.5 * (((z - 3) / 1.6) ** 2 + ((y - 4) / 1.2) ** 2 + ((x - 4) / 1.1) ** 2))
    p[3, 4, 5] *= 1.3  # break the mirror symmetry along x, so a flipped PSF would show
    return (p / p.sum()).astype(np.float32)


def main():
    binary, workdir = sys.argv[1], sys.argv[2]
    launcher = sys.argv[3:5] if len(sys.argv) >= 5 else []
    os.makedirs(workdir, exist_ok=True)
    rng = np.random.default_rng(2024)
    image, psf = make_image(rng), make_psf()
    src, out = os.path.join(workdir, "oracle_in.h5"), os.path.join(workdir, "oracle_out.h5")
    with h5py.File(src, "w") as f:
        f.create_dataset("data", data=image[None, None])
        f.create_dataset("psf", data=psf)
    mpi = [launcher[0], "-n", launcher[1], "--oversubscribe"] if launcher else []
    cmd = mpi + [binary, "run", "--input", src, "--psf", src, "--output", out, "--overwrite",
                 "--boundary", "zero", "--init", "constant", "--iterations", str(ITERATIONS),
                 "--fft-planner", "estimate"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    with h5py.File(out, "r") as f:
        ours = f["data"][0, 0]

    ref = restoration.richardson_lucy(image.astype(np.float64), psf.astype(np.float64),
                                      num_iter=ITERATIONS, clip=False)
    err = float(np.max(np.abs(ours.astype(np.float64) - ref)))
    scale = float(np.max(ref))
    print(f"oracle: max|h5decon - skimage| = {err:.4g} = {err / scale:.3g} x max(skimage) "
          f"({scale:.4g}); tolerance {TOLERANCE:g} x max")
    if not err <= TOLERANCE * scale:
        print("oracle: FAIL")
        return 1
    print("oracle: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
