#!/usr/bin/env python3
"""Writes the inputs of the bad-input catalogue (tests/bad_inputs/README.md) into OUTDIR.

usage: make_bad_inputs.py OUTDIR

Every data file holds the same values where it can: two (c=0, t=0..1) volumes of
16x24x24 positive integers below 2^16, so that each dtype converts to float32
exactly and a converted run must give the float32 run's bits.
"""
import os
import shutil
import sys

import h5py
import numpy as np
import tifffile

SHAPE = (1, 2, 16, 24, 24)


def volumes():
    rng = np.random.default_rng(11)
    z, y, x = np.mgrid[0:16, 0:24, 0:24]
    out = np.empty(SHAPE, np.float64)
    for t in range(SHAPE[1]):
        v = np.full((16, 24, 24), 10.0)
        for _ in range(6):
            c = rng.uniform([0, 0, 0], [16, 24, 24])
            v += 200.0 * np.exp(-((z - c[0]) ** 2 / 8 + (y - c[1]) ** 2 / 4 + (x - c[2]) ** 2 / 4))
        out[0, t] = rng.poisson(v)
    return out


def gaussian_psf(shape, centre=None):
    grids = np.mgrid[tuple(slice(0, n) for n in shape)]
    centre = centre or [n // 2 for n in shape]
    r2 = sum(((g - c) / s) ** 2 for g, c, s in zip(grids, centre, (1.5, 1.0, 1.0)))
    p = np.exp(-0.5 * r2).astype(np.float32)
    return p / p.sum()


def write(path, array, name="data", **kwargs):
    with h5py.File(path, "w") as f:
        f.create_dataset(name, data=array, **kwargs)


def write_dtypes(out, data):
    write(out("f32.h5"), data.astype(np.float32))
    write(out("u16.h5"), data.astype(np.uint16))
    write(out("f64.h5"), data.astype(np.float64))
    write(out("i16.h5"), data.astype(np.int16))
    write(out("be_u16.h5"), data.astype(">u2"))
    write(out("be_f32.h5"), data.astype(">f4"))
    write(out("i32.h5"), data.astype(np.int32))
    compound = np.zeros(SHAPE, dtype=[("value", "<f4"), ("flag", "<u1")])
    compound["value"] = data
    write(out("compound.h5"), compound)


def write_values(out, data):
    for name, value, t in (("nan", np.nan, 1), ("inf", np.inf, 1)):
        bad = data.astype(np.float32)
        bad[0, t, 3, 4, 5] = value
        write(out(f"data_{name}.h5"), bad)
    negative = data.astype(np.float32) - 15.0  # the background dips below 0
    write(out("data_negative.h5"), negative)
    write(out("data_negative_clamped.h5"), np.maximum(negative, 0.0))
    zero = data.astype(np.float32)
    zero[0, 0, :12] = 0.0  # block z 0..7 (halo 2) sees zeros only
    zero[0, 1] = 0.0       # a whole zero volume
    write(out("zero_block.h5"), zero)


def write_shapes(out, data):
    write(out("rank3.h5"), data[0, 0].astype(np.uint16))
    write(out("axis0.h5"), np.zeros((1, 0, 16, 24, 24), np.uint16))
    write(out("thin.h5"), data[..., :3].astype(np.uint16))
    with h5py.File(out("group.h5"), "w") as f:
        f.create_group("data").create_dataset("inner", data=data.astype(np.uint16))


def write_psfs(out):
    psf = gaussian_psf((5, 5, 5))
    write(out("psf.h5"), psf, "psf")
    for name, value in (("nan", np.nan), ("inf", np.inf)):
        bad = psf.copy()
        bad[2, 2, 2] = value
        write(out(f"psf_{name}.h5"), bad, "psf")
    write(out("psf_zero_sum.h5"), np.zeros_like(psf), "psf")
    write(out("psf_negative_sum.h5"), -psf, "psf")
    negative = psf.copy()
    negative[0, 0, 0] = -1e-4
    write(out("psf_negative_values.h5"), negative, "psf")
    write(out("psf_off_centre.h5"), gaussian_psf((5, 5, 5), centre=[0, 0, 0]), "psf")
    write(out("psf_even.h5"), gaussian_psf((4, 6, 6)), "psf")
    write(out("psf_big.h5"), gaussian_psf((33, 5, 5)), "psf")


def write_voxel_sizes(out, data):
    """Data and PSFs that record their voxel size (z, y, x) in micrometres."""
    write(out("voxel.h5"), data.astype(np.uint16))
    with h5py.File(out("voxel.h5"), "r+") as f:
        f["data"].attrs["element_size_um"] = np.array([0.4, 0.1, 0.1])
    psf = gaussian_psf((5, 5, 5))
    write(out("psf_voxel_other.h5"), psf, "psf")
    with h5py.File(out("psf_voxel_other.h5"), "r+") as f:
        f["psf"].attrs["element_size_um"] = np.array([0.2, 0.1, 0.1])
    # ImageJ's calibration: 1/XResolution, 1/YResolution and spacing, in unit=um.
    tifffile.imwrite(out("psf_voxel_other.tif"), psf, imagej=True, resolution=(10.0, 10.0),
                     metadata={"spacing": 0.2, "unit": "um", "axes": "ZYX"})
    tifffile.imwrite(out("psf_rgb.tif"), np.zeros((5, 5, 3), np.uint8), photometric="rgb")
    with open(out("psf_garbage.tif"), "w") as f:
        f.write("this is a text file, not a TIFF\n")


def flip(path, offsets):
    with open(path, "r+b") as f:
        for offset in offsets:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 0xFF]))


def write_damaged(out, data):
    """Truncated, byte-flipped and filtered files."""
    write(out("truncated_src.h5"), data.astype(np.uint16))
    with open(out("truncated_src.h5"), "rb") as f:
        whole = f.read()
    with open(out("truncated.h5"), "wb") as f:
        f.write(whole[: len(whole) * 6 // 10])  # the superblock is intact, the data is cut
    with open(out("truncated_header.h5"), "wb") as f:
        f.write(whole[:700])  # the superblock only: the object headers are gone
    os.remove(out("truncated_src.h5"))
    # Object header of /data damaged: the superblock still says HDF5.
    write(out("flipped_header.h5"), data.astype(np.uint16))
    with h5py.File(out("flipped_header.h5"), "r") as f:
        header = h5py.h5o.get_info(f["data"].id).addr
    flip(out("flipped_header.h5"), range(header, header + 16))
    # A chunk protected by a Fletcher-32 checksum, one data byte flipped.
    write(out("flipped_checksummed.h5"), data.astype(np.uint16), chunks=(1, 1, 16, 24, 24),
          fletcher32=True)
    with h5py.File(out("flipped_checksummed.h5"), "r") as f:
        first_chunk = f["data"].id.get_chunk_info(1).byte_offset
    flip(out("flipped_checksummed.h5"), [first_chunk + 100])
    write(out("filter_lzf.h5"), data.astype(np.uint16), chunks=(1, 1, 8, 24, 24),
          compression="lzf")
    with h5py.File(out("filter_unknown.h5"), "w") as f:
        d = f.create_dataset("data", shape=SHAPE, dtype=np.uint16, chunks=SHAPE,
                             compression=32123, allow_unknown_filter=True)
        d.id.write_direct_chunk((0,) * 5, data.astype(np.uint16).tobytes(), filter_mask=0)


def write_unusual(out):
    """A header declaring an absurd shape, PSFs in other types, config files, and
    paths that are not regular files."""
    with h5py.File(out("huge.h5"), "w") as f:  # 4.29e9 planes, no chunk allocated
        f.create_dataset("data", shape=(1, 1, 2 ** 32 - 1, 1024, 1024), dtype=np.uint16,
                         chunks=(1, 1, 1, 256, 256))
    psf = gaussian_psf((5, 5, 5))
    write(out("psf_be_f64.h5"), psf.astype(">f8"), "psf")
    write(out("psf_i16.h5"), np.round(psf / psf.max() * 30000).astype(np.int16), "psf")
    with open(out("bom.ini"), "wb") as f:
        f.write("\ufeffiterations = 3\n".encode("utf-8"))
    with open(out("nested.ini"), "w") as f:
        f.write("iterations = 3\nconfig = bom.ini\n")
    for folder in ("configdir", "outdir"):
        os.makedirs(out(folder), exist_ok=True)
    if not os.path.exists(out("fifo.h5")):
        os.mkfifo(out("fifo.h5"))


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    out = lambda name: os.path.join(outdir, name)
    data = volumes()
    write_dtypes(out, data)
    write_values(out, data)
    write_shapes(out, data)
    write_psfs(out)
    write_damaged(out, data)
    write_voxel_sizes(out, data)
    write_unusual(out)
    with open(out("not_hdf5.h5"), "w") as f:
        f.write("this is a text file, not HDF5\n")
    shutil.copyfile(out("u16.h5"), out("hardlinked_src.h5"))
    for name in ("hardlink.h5", "symlink.h5"):
        if os.path.lexists(out(name)):
            os.remove(out(name))
    os.link(out("hardlinked_src.h5"), out("hardlink.h5"))
    os.symlink("u16.h5", out("symlink.h5"))
    print("make_bad_inputs: wrote the catalogue's inputs into", outdir)


if __name__ == "__main__":
    main(sys.argv[1])
