#!/usr/bin/env python3
"""`run --psf PSF.tif`: a TIFF stack gives the same bits as the same PSF from HDF5.

Usage: tiff_psf_test.py H5DECON MPIEXEC WORKDIR

On a `synth --preset small` file: its PSF as float32 ImageJ TIFF (run on 2 ranks,
read on rank 0 and broadcast) and as deflate-compressed uint16 TIFF, each against
the HDF5 run on 1 rank. Then the voxel-size check: an ImageJ calibration unlike
the data's element_size_um is refused before any output exists (by `info` too),
and runs with --ignore-voxel-size. TIFFs are written by tifffile, a writer this project did not write.
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import tifffile

VOXEL_UM = (0.4, 0.1, 0.1)  # z, y, x


def run(h5decon, args, launcher=(), expect_rc=0):
    cmd = list(launcher) + [h5decon, "run", "--iterations", "3", "--fft-planner", "estimate",
                            "--threads", "1", "--overwrite"] + args
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != expect_rc:
        sys.exit(f"{' '.join(cmd)}: exit {result.returncode}, expected {expect_rc}\n"
                 f"{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def result_of(path):
    with h5py.File(path, "r") as f:
        return f["/data"][...]


def same_bits(a, b, what):
    if a.shape != b.shape or not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
        sys.exit(f"{what}: the TIFF run differs from the HDF5 run "
                 f"(max |diff| {np.abs(a - b).max() if a.shape == b.shape else 'shape'})")
    print(f"{what}: same bits as the HDF5 run")


def imagej_tiff(path, psf, voxel_um):
    tifffile.imwrite(path, psf, imagej=True, resolution=(1 / voxel_um[2], 1 / voxel_um[1]),
                     metadata={"spacing": voxel_um[0], "unit": "um", "axes": "ZYX"})


def prepare(h5decon, work):
    data = os.path.join(work, "synth.h5")
    subprocess.run([h5decon, "synth", "--preset", "small", "--output", data, "--overwrite"],
                   check=True, capture_output=True)
    with h5py.File(data, "r+") as f:
        f["/data"].attrs["element_size_um"] = np.array(VOXEL_UM)
        psf = f["/psf"][0].astype(np.float32)  # (z, y, x) of channel 0
    with h5py.File(os.path.join(work, "psf.h5"), "w") as f:
        f["/psf"] = psf
        f["/psf"].attrs["element_size_um"] = np.array(VOXEL_UM)
    imagej_tiff(os.path.join(work, "psf.tif"), psf, VOXEL_UM)
    counts = np.round(psf / psf.max() * 60000).astype(np.uint16)
    with h5py.File(os.path.join(work, "psf_u16.h5"), "w") as f:
        f["/psf"] = counts
    tifffile.imwrite(os.path.join(work, "psf_u16.tiff"), counts, compression="zlib")
    imagej_tiff(os.path.join(work, "psf_coarse_z.tif"), psf, (0.8, 0.1, 0.1))
    return data


def check_voxel_size(h5decon, work, data):
    out = os.path.join(work, "refused.h5")
    if os.path.exists(out):
        os.remove(out)
    text = run(h5decon, ["--input", data, "--psf", os.path.join(work, "psf_coarse_z.tif"),
                         "--output", out], expect_rc=2)
    for needle in ("voxel size differs from the data's on axis z", "0.4,0.1,0.1",
                   "psf_coarse_z.tif' was sampled at 0.8,0.1,0.1", "--ignore-voxel-size"):
        if needle not in text:
            sys.exit(f"voxel-size refusal lacks '{needle}':\n{text}")
    if os.path.exists(out) or os.path.exists(out + ".partial"):
        sys.exit("the refused run left an output behind")
    print("voxel size mismatch: refused before writing")
    info = subprocess.run([h5decon, "info", "--input", data, "--psf",
                           os.path.join(work, "psf_coarse_z.tif"), "--output", out],
                          capture_output=True, text=True, timeout=60)
    if info.returncode != 2 or "voxel size differs" not in info.stderr:
        sys.exit(f"info did not refuse the voxel-size mismatch (exit {info.returncode}):\n"
                 f"{info.stdout}\n{info.stderr}")
    print("voxel size mismatch: info refuses it as run does")
    text = run(h5decon, ["--input", data, "--psf", os.path.join(work, "psf_coarse_z.tif"),
                         "--output", out, "--ignore-voxel-size"])
    if "warning: the PSF's voxel size differs" not in text or not os.path.exists(out):
        sys.exit(f"--ignore-voxel-size did not run with a warning:\n{text}")
    print("voxel size mismatch with --ignore-voxel-size: ran with a warning")


def main():
    h5decon, mpiexec, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    data = prepare(h5decon, work)
    out = lambda name: os.path.join(work, name)
    run(h5decon, ["--input", data, "--psf", out("psf.h5"), "--output", out("h5.h5")])
    run(h5decon, ["--input", data, "--psf", out("psf.tif"), "--output", out("tif.h5")],
        launcher=(mpiexec, "-n", "2"))
    same_bits(result_of(out("tif.h5")), result_of(out("h5.h5")), "float32 ImageJ TIFF, 2 ranks")
    run(h5decon, ["--input", data, "--psf", out("psf_u16.h5"), "--output", out("h5_u16.h5")])
    run(h5decon, ["--input", data, "--psf", out("psf_u16.tiff"), "--output", out("tif_u16.h5")])
    same_bits(result_of(out("tif_u16.h5")), result_of(out("h5_u16.h5")), "uint16 deflate TIFF")
    check_voxel_size(h5decon, work, data)
    print("tiff psf: ok")


if __name__ == "__main__":
    main()
