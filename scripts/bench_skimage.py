#!/usr/bin/env python3
"""Times scikit-image's Richardson-Lucy on one (c, t) volume of an h5decon file.

Usage: bench_skimage.py FILE.h5 DATASET PSF_DATASET ITERATIONS
Prints one line: "skimage_seconds_per_iteration S".
The volume is float32 (scikit-image then computes in float32, like h5decon).
"""
import sys
import time

import h5py
import numpy as np
from skimage import restoration


def main():
    path, data_path, psf_path, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with h5py.File(path, "r") as f:
        image = np.asarray(f[data_path][0, 0], dtype=np.float32)
        psf = np.asarray(f[psf_path], dtype=np.float32)
    psf = psf[0] if psf.ndim == 4 else psf
    psf = psf / psf.sum()
    restoration.richardson_lucy(image, psf, num_iter=1, clip=False)  # warm-up
    start = time.perf_counter()
    restoration.richardson_lucy(image, psf, num_iter=iterations, clip=False)
    elapsed = time.perf_counter() - start
    print(f"skimage_seconds_per_iteration {elapsed / iterations:.6f}")


if __name__ == "__main__":
    main()
