#!/usr/bin/env python3
"""Writes the small inputs of the h5decon CLI tests into OUTDIR (h5py, numpy).

good.h5:/data      uint16 (1,1,16,24,24), positive blobs     psf.h5:/psf    float32 (5,5,5)
group.h5:/data     a group, not a dataset                    rank3.h5:/data a (16,24,24) dataset
int32.h5:/data     int32 (1,1,16,24,24)                      psf_nan.h5     a NaN in the PSF
psf_zero.h5        PSF with sum <= 0                         psf_big.h5     PSF (33,5,5) > volume
psf_2ch.h5         (2,5,5,5) PSF for 1-channel data          not_hdf5.h5    a text file
existing.h5        an output file that already exists        replace_me.h5  the same, to be replaced
multi.h5:/data     uint16 (2,3,8,16,16): six volumes        bad_key.ini    unknown config key
"""
import os
import shutil
import sys

import h5py
import numpy as np


def write(path, name, array):
    with h5py.File(path, "w") as f:
        f.create_dataset(name, data=array)


def good_volume():
    rng = np.random.default_rng(7)
    z, y, x = np.mgrid[0:16, 0:24, 0:24]
    v = np.full((16, 24, 24), 10.0)
    for _ in range(6):
        c = rng.uniform([0, 0, 0], [16, 24, 24])
        v += 200.0 * np.exp(-((z - c[0]) ** 2 / 8 + (y - c[1]) ** 2 / 4 + (x - c[2]) ** 2 / 4))
    return rng.poisson(v).astype(np.uint16)[None, None]


def gaussian_psf(shape):
    grids = np.mgrid[tuple(slice(0, n) for n in shape)]
    r2 = sum(((g - n // 2) / s) ** 2 for g, n, s in zip(grids, shape, (1.5, 1.0, 1.0)))
    p = np.exp(-0.5 * r2).astype(np.float32)
    return p / p.sum()


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    out = lambda name: os.path.join(outdir, name)
    data = good_volume()
    psf = gaussian_psf((5, 5, 5))
    write(out("good.h5"), "data", data)
    write(out("psf.h5"), "psf", psf)
    with h5py.File(out("group.h5"), "w") as f:
        f.create_group("data").create_dataset("inner", data=data)
    write(out("rank3.h5"), "data", data[0, 0])
    write(out("int32.h5"), "data", data.astype(np.int32))
    nan = psf.copy()
    nan[2, 2, 2] = np.nan
    write(out("psf_nan.h5"), "psf", nan)
    write(out("psf_zero.h5"), "psf", -psf)
    write(out("psf_big.h5"), "psf", gaussian_psf((33, 5, 5)))
    write(out("psf_2ch.h5"), "psf", np.stack([psf, psf]))
    # Two isolated beads (sigma 1.5 voxels) on an offset of 100, no noise: --from-beads.
    z, y, x = np.mgrid[:24, :48, :48]
    beads = 100.0 + sum(5000 * np.exp(-((z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2) / 4.5)
                        for bz, by, bx in ((11.3, 14.6, 15.2), (12.4, 33.7, 31.1)))
    write(out("beads.h5"), "data", beads.astype(np.float32))
    # A raw bead: the spot (1000 counts) on a camera offset of 100 per voxel.
    write(out("psf_offset.h5"), "psf", (gaussian_psf((9, 9, 9)) * 1000 + 100).astype(np.float32))
    with open(out("not_hdf5.h5"), "w") as f:
        f.write("this is a text file, not HDF5\n")
    for name in ("existing.h5", "replace_me.h5"):
        shutil.copyfile(out("psf.h5"), out(name))
    multi = np.concatenate([data[:, :, :8, :16, :16]] * 6).reshape(2, 3, 8, 16, 16)
    write(out("multi.h5"), "data", multi)
    with open(out("bad_key.ini"), "w") as f:
        f.write("iterations = 3\nbogus_key = 1\n")
    print("make_inputs: wrote the test inputs into", outdir)


if __name__ == "__main__":
    main(sys.argv[1])
