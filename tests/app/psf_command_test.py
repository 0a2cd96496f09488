#!/usr/bin/env python3
"""`h5decon psf`: the written PSF's dtype, shape, sum, centre, symmetry and attributes.

Usage: psf_command_test.py H5DECON WORKDIR
"""
import os
import subprocess
import sys

import h5py
import numpy as np


def main():
    h5decon, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "bw.h5")
    cmd = [h5decon, "psf", "--na", "1.0", "--wavelength-nm", "520", "--immersion-index", "1.33",
           "--voxel-um", "0.2,0.1,0.1", "--shape", "31,33,33", "--output", out + ":/psf",
           "--overwrite"]
    print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    with h5py.File(out, "r") as f:
        d = f["/psf"]
        psf = d[...]
        assert d.dtype == np.float32, d.dtype
        assert psf.shape == (31, 33, 33), psf.shape
        assert abs(psf.sum() - 1) < 1e-5, psf.sum()
        assert np.unravel_index(psf.argmax(), psf.shape) == (15, 16, 16)
        assert np.allclose(psf, psf[::-1, ::-1, ::-1], rtol=1e-6, atol=1e-12)
        assert np.allclose(d.attrs["element_size_um"], [0.2, 0.1, 0.1])
        assert d.attrs["na"] == 1.0 and d.attrs["wavelength_nm"] == 520
        assert d.attrs["immersion_index"] == 1.33
        model = d.attrs["model"]
        assert (model.decode() if isinstance(model, bytes) else model) == "born-wolf"
    # --crop keeps the centre voxel at n/2 and the parity of each axis.
    cropped = os.path.join(work, "bw_crop.h5")
    cmd[cmd.index("--output") + 1] = cropped
    print(subprocess.run(cmd + ["--crop", "0.99"], check=True, capture_output=True,
                         text=True).stdout)
    with h5py.File(cropped, "r") as f:
        small = f["/psf"][...]
        assert all(s % 2 == 1 for s in small.shape) and small.size < psf.size, small.shape
        assert np.unravel_index(small.argmax(), small.shape) == tuple(s // 2 for s in small.shape)
        assert f["/psf"].attrs["crop_energy_kept"] >= 0.99
    # An output ending in .tif is a TIFF stack with ImageJ's calibration, the same values.
    tif = os.path.join(work, "bw.tif")
    cmd[cmd.index("--output") + 1] = tif
    print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    import tifffile
    with tifffile.TiffFile(tif) as t:
        assert t.is_imagej, "not an ImageJ TIFF"
        stack = t.asarray()
        ij = t.imagej_metadata
        xres = t.pages[0].tags["XResolution"].value
    assert stack.dtype == np.float32 and stack.shape == (31, 33, 33), (stack.dtype, stack.shape)
    assert np.array_equal(stack, psf), "the TIFF's values differ from the HDF5's"
    assert ij["unit"] == "micron" and abs(float(ij["spacing"]) - 0.2) < 1e-9, ij
    assert abs(xres[1] / xres[0] - 0.1) < 1e-6, xres
    # ... which `run` takes as a PSF, with its voxel size checked against the data's.
    data = os.path.join(work, "data.h5")
    with h5py.File(data, "w") as f:
        d = f.create_dataset("data", data=np.full((1, 1, 40, 40, 40), 100, np.uint16))
        d.attrs["element_size_um"] = [0.2, 0.1, 0.1]
    r = subprocess.run([h5decon, "run", "--input", data, "--psf", tif, "--output",
                        os.path.join(work, "out.h5"), "--overwrite", "--iterations", "2",
                        "--fft-planner", "estimate"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # A PSF at half the data's voxel size: refused, or resampled with --psf-resample.
    fine = os.path.join(work, "fine.h5")
    subprocess.run([h5decon, "psf", "--na", "1.0", "--wavelength-nm", "520", "--immersion-index",
                    "1.33", "--voxel-um", "0.1,0.05,0.05", "--shape", "41,41,41", "--output",
                    fine, "--overwrite"], check=True, capture_output=True)
    base = [h5decon, "run", "--input", data, "--psf", fine, "--output",
            os.path.join(work, "out2.h5"), "--overwrite", "--iterations", "2",
            "--fft-planner", "estimate"]
    r = subprocess.run(base, capture_output=True, text=True)
    assert r.returncode == 2 and "voxel size" in r.stderr, r.stdout + r.stderr
    r = subprocess.run(base + ["--psf-resample"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PSF resampled from voxel 0.1,0.05,0.05 um to the input's 0.2,0.1,0.1 um: " \
           "41x41x41 -> 21x21x21" in r.stdout, r.stdout
    print("psf command: ok")


if __name__ == "__main__":
    main()
