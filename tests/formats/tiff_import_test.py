#!/usr/bin/env python3
"""TIFF in and out: import -> run -> export -> tifffile, on 1 and 3 ranks.

usage: tiff_import_test.py H5DECON MPIEXEC WORKDIR [REALDATA]

Files are written with tifffile in each layout a microscope or Fiji produces:
a folder of 2D planes named by (t, c, z), a folder of 3D stacks, an OME-TIFF
(channels named, PhysicalSize in nm), an ImageJ hyperstack (calibrated), a
tiled, deflate-compressed float32 BigTIFF. Each is imported; the HDF5 dataset
must hold the same values in (c, t, z, y, x) with the voxel size intact, the
same on 1 and 3 ranks. The folder goes on through run (3 ranks; equal bit for
bit to run on the original HDF5) and export --layout tiff / ome-tiff (float32,
uint16 with its scale, one file per volume), read back with tifffile: axes,
shape, voxel size, channel names and values. Refusals name the file: a missing
plane, a plane of another size. With REALDATA, the calibrated real TIFFs there
import with their ImageJ voxel size.
"""
import os
import resource
import shutil
import subprocess
import sys

import h5py
import numpy as np
import tifffile

H5DECON, MPIEXEC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
REALDATA = sys.argv[4] if len(sys.argv) > 4 else ""
SHAPE = (2, 3, 11, 40, 36)  # c, t, z, y, x
VOXEL = (0.4, 0.1, 0.1)
RUN = ["run", "--iterations", "4", "--fft-planner", "estimate", "--psf", "truth.h5:/psf"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def h5decon(args, np_=1, code=0):
    cmd = ([MPIEXEC, "-np", str(np_), "--oversubscribe"] if np_ > 1 else []) + [H5DECON] + args
    print("+", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=WORK)
    print(p.stdout + p.stderr, flush=True)
    check(p.returncode == code, f"exit code {p.returncode}, expected {code}")
    return p.stdout + p.stderr


def path(name):
    return os.path.join(WORK, name)


def dataset(name):
    with h5py.File(path(name), "r") as f:
        return f["data"][...], dict(f["data"].attrs)


def make_truth():
    rng = np.random.default_rng(11)
    z, y, x = np.meshgrid(*[np.arange(n) for n in SHAPE[2:]], indexing="ij")
    data = np.empty(SHAPE, np.uint16)
    for c in range(SHAPE[0]):
        for t in range(SHAPE[1]):
            blob = np.exp(-((z - 5) ** 2 / 6 + (y - 14 - 6 * c) ** 2 / 12 + (x - 10 - 5 * t) ** 2 / 16))
            data[c, t] = 150 + 50000 * blob + rng.integers(0, 200, SHAPE[2:])
    k = np.arange(5) - 2
    psf = np.exp(-(k[:, None, None] ** 2 / 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2))
    with h5py.File(path("truth.h5"), "w") as f:
        f["data"] = data
        f["data"].attrs["element_size_um"] = np.array(VOXEL)
        f["psf"] = (psf / psf.sum()).astype(np.float32)
    return data


def imported(name, data, voxel=VOXEL, names=None):
    got, attrs = dataset(name)
    check(got.dtype == data.dtype and got.shape == data.shape, f"{name}: {got.dtype} {got.shape}")
    check(np.array_equal(got, data), f"{name}: values differ from the files'")
    if voxel is None:
        check("element_size_um" not in attrs, f"{name}: no voxel size was recorded, none claimed")
    else:
        check(np.allclose(attrs["element_size_um"], voxel, rtol=1e-6),
              f"{name}: element_size_um {attrs.get('element_size_um')} != {voxel}")
    if names:
        check(attrs["channel_names"] == "; ".join(names), f"{name}: channel names {attrs.get('channel_names')}")
    check("import_source" in attrs and "import_command_line" in attrs, f"{name}: the source is recorded")
    return attrs


def folder_of_planes(data):
    folder = path("planes")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for c in range(SHAPE[0]):
        for t in range(SHAPE[1]):
            for z in range(SHAPE[2]):  # t numbered 5, 10, 15; z unpadded: natural order matters
                tifffile.imwrite(os.path.join(folder, f"img_t{5 * (t + 1)}_c{c}_z{z}.tif"), data[c, t, z])
    pattern = "img_t{t}_c{c}_z{z}.tif"
    for np_ in (1, 3):
        h5decon(["import", "--input", "planes", "--pattern", pattern, "--voxel-um", "0.4,0.1,0.1",
                 "--output", f"planes{np_}.h5", "--chunk", "4,16,16"], np_)
        imported(f"planes{np_}.h5", data)
    # A missing plane and a plane of another size: errors naming them, no output.
    os.rename(os.path.join(folder, "img_t10_c1_z7.tif"), path("aside.tif"))
    log = h5decon(["import", "--input", "planes", "--pattern", pattern, "--output", "bad.h5"], 3, code=2)
    check("no file for c=1, t=10, z=7" in log, "the missing plane is named")
    tifffile.imwrite(os.path.join(folder, "img_t10_c1_z7.tif"), data[1, 1, 7, :20])
    log = h5decon(["import", "--input", "planes", "--pattern", pattern, "--output", "bad.h5"], 3, code=2)
    check("img_t10_c1_z7.tif" in log and "36x20" in log, "the mis-sized plane is named with its size")
    check(not os.path.exists(path("bad.h5")) and not os.path.exists(path("bad.h5.partial")),
          "no output or partial file after a refusal")
    os.replace(path("aside.tif"), os.path.join(folder, "img_t10_c1_z7.tif"))


def folder_of_stacks(data):
    folder = path("stacks")
    os.makedirs(folder, exist_ok=True)
    for t in range(SHAPE[1]):  # one channel: ImageJ-calibrated z stacks, time in the names
        tifffile.imwrite(os.path.join(folder, f"vol_{t + 1}.tif"), data[0, t], imagej=True,
                         resolution=(1 / VOXEL[2], 1 / VOXEL[1]), metadata={"spacing": VOXEL[0], "unit": "um"})
    h5decon(["import", "--input", "stacks", "--output", "stacks.h5"], 2)
    imported("stacks.h5", data[:1])


def ome_tiff(data):
    tifffile.imwrite(path("cells.ome.tif"), np.moveaxis(data, 0, 1), ome=True,  # (t, c, z, y, x)
                     metadata={"axes": "TCZYX", "PhysicalSizeX": 100, "PhysicalSizeXUnit": "nm",
                               "PhysicalSizeY": 100, "PhysicalSizeYUnit": "nm", "PhysicalSizeZ": 0.4,
                               "Channel": {"Name": ["DAPI", "GFP"]}})
    for np_ in (1, 3):
        h5decon(["import", "--input", "cells.ome.tif", "--output", f"ome{np_}.h5"], np_)
        imported(f"ome{np_}.h5", data, names=["DAPI", "GFP"])


def imagej_hyperstack(data):
    tifffile.imwrite(path("hyper.tif"), np.moveaxis(data, 0, 2), imagej=True,  # (t, z, c, y, x)
                     resolution=(1 / VOXEL[2], 1 / VOXEL[1]),
                     metadata={"axes": "TZCYX", "spacing": VOXEL[0], "unit": "micron"})
    h5decon(["import", "--input", "hyper.tif", "--output", "hyper.h5"], 3)
    imported("hyper.h5", data)


def tiled_bigtiff(data):
    values = data[1, 2].astype(np.float32) / 7.0
    tifffile.imwrite(path("tiled.tif"), values, bigtiff=True, tile=(16, 16), compression="zlib")
    h5decon(["import", "--input", "tiled.tif", "--output", "tiled.h5"])
    imported("tiled.h5", values[None, None], voxel=None)


def pipeline(data):
    """import (3 ranks) -> run (3 ranks) -> export -> tifffile."""
    h5decon(RUN + ["--input", "truth.h5", "--output", "ref.h5"])
    h5decon(RUN + ["--input", "planes3.h5", "--output", "result.h5"], 3)
    result, attrs = dataset("result.h5")
    ref, _ = dataset("ref.h5")
    check(np.array_equal(result, ref), "run on the import equals run on the original HDF5")
    h5decon(RUN + ["--input", "planes1.h5", "--output", "result1.h5"])
    check(np.array_equal(dataset("result1.h5")[0], result), "1 and 3 ranks: the same result")
    check(np.allclose(attrs["element_size_um"], VOXEL), "the voxel size survives run")
    # ImageJ hyperstack, float32.
    h5decon(["export", "--layout", "tiff", "--input", "result.h5", "--output", "result.tif"])
    with tifffile.TiffFile(path("result.tif")) as tif:
        check(tif.is_imagej, "an ImageJ file")
        series = tif.series[0]
        check(series.axes == "TZCYX", f"ImageJ axes {series.axes}")
        back = series.asarray()
        check(back.dtype == np.float32 and np.array_equal(np.transpose(back, (2, 0, 1, 3, 4)), result),
              "ImageJ values: (t, z, c, y, x) read back equal the result")
        meta = tif.imagej_metadata
        check(abs(meta["spacing"] - VOXEL[0]) < 1e-9 and meta["unit"] == "micron", f"ImageJ calibration {meta}")
        xres = tif.pages[0].tags["XResolution"].value
        check(abs(xres[1] / xres[0] - VOXEL[2]) < 1e-6, f"pixel width {xres}")
    # OME-TIFF, uint16 with its scale, channel names from the import.
    h5decon(["run"] + RUN[1:] + ["--input", "ome3.h5", "--output", "ome_result.h5"], 3)
    ome_result, _ = dataset("ome_result.h5")
    h5decon(["export", "--layout", "ome-tiff", "--dtype", "uint16", "--input", "ome_result.h5",
             "--output", "result.ome.tif"])
    with tifffile.TiffFile(path("result.ome.tif")) as tif:
        check(tif.is_ome, "an OME-TIFF")
        series = tif.series[0]
        check(series.axes == "TCZYX" and series.shape == (SHAPE[1], SHAPE[0]) + SHAPE[2:],
              f"OME axes {series.axes} {series.shape}")
        back = np.moveaxis(series.asarray(), 1, 0)
        xml = tif.ome_metadata
        check('Name="DAPI"' in xml and 'Name="GFP"' in xml, "channel names in the OME-XML")
        check('PhysicalSizeX="0.1"' in xml and 'PhysicalSizeZ="0.4"' in xml, "physical sizes")
        scale = 65535.0 / ome_result.max()
        expected = np.rint(np.clip(ome_result.astype(np.float64), 0, None) * scale)
        check(back.dtype == np.uint16 and np.abs(back - expected).max() <= 1, "uint16 values at the stated scale")
        check(f'K="h5decon_value_scale">' in xml, "the scale is recorded")
    # One file per volume.
    h5decon(["export", "--layout", "tiff", "--per-volume", "--input", "result.h5", "--output", "vol.tif"])
    for c in range(SHAPE[0]):
        for t in range(SHAPE[1]):
            v = tifffile.imread(path(f"vol_c{c}_t{t}.tif"))
            check(np.array_equal(v, result[c, t]), f"vol_c{c}_t{t}.tif")


def bounded_memory():
    """A folder of 240 planes of 512 x 512 (120 MiB) imported with 8-plane slabs: the
    process's peak memory stays far below the data's size (one slab is 4 MiB)."""
    folder = path("many")
    os.makedirs(folder)
    plane = (np.arange(512 * 512, dtype=np.uint32).reshape(512, 512) % 4096).astype(np.uint16)
    for z in range(240):
        tifffile.imwrite(os.path.join(folder, f"p{z}.tif"), np.roll(plane, z, axis=1))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    h5decon(["import", "--input", "many", "--pattern", "p{z}.tif", "--chunk", "8,256,256",
             "--output", "many.h5"])
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    check(before / 1024 < 100, f"earlier processes peaked at {before / 1024:.0f} MiB")
    check(peak_mib < 100, f"import of 120 MiB of planes peaked at {peak_mib:.0f} MiB")
    with h5py.File(path("many.h5"), "r") as f:
        check(np.array_equal(f["data"][0, 0, 239], np.roll(plane, 239, axis=1)), "the last plane")
    print(f"bounded memory: 120 MiB of planes imported with a peak of {peak_mib:.0f} MiB")


def real_tiffs():
    if not REALDATA or not os.path.isdir(REALDATA):
        print("real TIFFs: skipped: no realdata folder")
        return
    for name in ("DeconvolutionSampleVerticalGrid1AU-crop.tif", "Bead_Image1_crop.tif"):
        h5decon(["import", "--input", os.path.join(REALDATA, name), "--output", "real.h5", "--overwrite"])
        with tifffile.TiffFile(os.path.join(REALDATA, name)) as tif:
            values = tif.asarray()
            xres = tif.pages[0].tags["XResolution"].value
            voxel = (tif.imagej_metadata["spacing"], xres[1] / xres[0], xres[1] / xres[0])
        imported("real.h5", values[None, None], voxel=voxel)


def main():
    shutil.rmtree(WORK, ignore_errors=True)  # a fresh folder: outputs are never overwritten
    os.makedirs(WORK)
    bounded_memory()  # first: the peak of every child process so far counts
    data = make_truth()
    folder_of_planes(data)
    folder_of_stacks(data)
    ome_tiff(data)
    imagej_hyperstack(data)
    tiled_bigtiff(data)
    pipeline(data)
    real_tiffs()
    print("TIFF import and export: every layout round-trips with its voxel size")


if __name__ == "__main__":
    main()
