#!/usr/bin/env python3
"""Writes a large uint16 light-sheet-like test volume for timing runs, slab by
slab (memory stays at one slab), with numpy and h5py only.

usage: make_big_phantom.py OUT.h5 [--shape Z,Y,X] [--psf Z,Y,X] [--seed N] [--no-noise]
  /data  uint16 (1, 1, Z, Y, X), chunks (32, 256, 256): smooth structure plus
         sparse bright beads, Gaussian-approximated Poisson noise (default shape 950,2048,2048: the
         blog's headline size, 7.4 GiB)
  /psf   float32 (1, pz, py, px): an anisotropic Gaussian, sum 1 (default 33,17,17)
The contents only have to look like data; the point is the size.
"""
import argparse
import sys
import time

import h5py
import numpy as np


def shape3(text):
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not Z,Y,X")
    return parts


def gaussian_psf(shape):
    z, y, x = [np.arange(n) - (n - 1) / 2 for n in shape]
    sz, sy, sx = shape[0] / 6, shape[1] / 6, shape[2] / 6
    g = np.exp(-(z[:, None, None] / sz) ** 2 / 2 - (y[None, :, None] / sy) ** 2 / 2
               - (x[None, None, :] / sx) ** 2 / 2)
    return (g / g.sum()).astype(np.float32)


def noise_tile(nz, ny, nx, rng):
    """Standard normal noise and bead mask for one slab, drawn once and shifted
    per slab: drawing them for every slab would take most of the time."""
    noise = rng.standard_normal((nz, ny, nx), dtype=np.float32)
    beads = (rng.random((nz, ny, nx), dtype=np.float32) > 0.99995).astype(np.float32)
    return noise, beads


def slab(z0, nz, shape, tile, noise):
    _, ny, nx = shape
    z = np.sin(np.arange(z0, z0 + nz, dtype=np.float32) / 29)[:, None, None]
    y = np.sin(np.arange(ny, dtype=np.float32) / 41 + 0.5)[None, :, None]
    x = np.sin(np.arange(nx, dtype=np.float32) / 37 + 1.0)[None, None, :]
    shift = (z0 * 7919) % ny
    beads = np.roll(tile[1][:nz], shift, axis=1)
    lam = 100 + 300 * (z * y * x) ** 2 + 3000 * beads
    if noise:  # Gaussian approximation of Poisson noise
        lam += np.sqrt(lam) * np.roll(tile[0][:nz], shift, axis=1)
    return np.clip(lam + 0.5, 0, 65535).astype(np.uint16)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output")
    ap.add_argument("--shape", type=shape3, default=[950, 2048, 2048])
    ap.add_argument("--psf", type=shape3, default=[33, 17, 17])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-noise", action="store_true")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    start = time.monotonic()
    zc = min(32, a.shape[0])
    tile = noise_tile(zc, a.shape[1], a.shape[2], rng)
    with h5py.File(a.output, "w") as f:
        d = f.create_dataset("data", (1, 1, *a.shape), dtype=np.uint16,
                             chunks=(1, 1, zc, min(256, a.shape[1]), min(256, a.shape[2])))
        for z0 in range(0, a.shape[0], zc):
            nz = min(zc, a.shape[0] - z0)
            d[0, 0, z0:z0 + nz] = slab(z0, nz, a.shape, tile, not a.no_noise)
        f.create_dataset("psf", data=gaussian_psf(a.psf)[None])
    gib = np.prod(a.shape) * 2 / 2**30
    print(f"make_big_phantom: {a.output}: /data uint16 1x1x{'x'.join(map(str, a.shape))} "
          f"({gib:.1f} GiB), /psf {'x'.join(map(str, a.psf))}, {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
