#!/usr/bin/env python3
"""BigDataViewer and Imaris inputs: every volume read as stored, nothing zeroed.

usage: volume_layouts_test.py H5DECON MPIEXEC WORKDIR

1. BigDataViewer, from h5decon's own export: a uint16 input with values up to
   65000 is exported (int16 cells holding uint16 bits), then `run` on the XML
   (1 and 3 ranks, blocks and exact mode) and on the .h5 alone must equal `run` on
   the original bit for bit, with no voxel zeroed, the XML's voxel size in
   element_size_um and the channel names in the provenance.
2. BigDataViewer as mesoSPIM/BigStitcher write it by hand: two setups, time
   points as a pattern ("0,2"), a <BasePath>, voxel size in nm; and the same .h5
   with no XML beside it (setups and time points from the groups).
3. Imaris: datasets padded past the image (the padding filled with 60000, which
   must not leak in), attributes as arrays of characters, the voxel size from
   ExtMin/ExtMax, channel names from DataSetInfo.
4. Refusals that name the file: an N5 loader, setups of different sizes, a
   missing cells dataset; the exit code is 2 and no output is left.
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

H5DECON, MPIEXEC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
SHAPE = (2, 2, 12, 40, 36)
VOXEL = (0.4, 0.1, 0.1)
RUN = ["run", "--iterations", "4", "--fft-planner", "estimate", "--psf", "in.h5:/psf"]


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


def result(name):
    with h5py.File(os.path.join(WORK, name), "r") as f:
        d = f["data"]
        return d[...], dict(d.attrs)


def make_input():
    rng = np.random.default_rng(3)
    z, y, x = np.meshgrid(*[np.arange(n) for n in SHAPE[2:]], indexing="ij")
    data = np.empty(SHAPE, np.uint16)
    for c in range(SHAPE[0]):
        for t in range(SHAPE[1]):
            blob = np.exp(-((z - 6) ** 2 / 6 + (y - 14 - 8 * c) ** 2 / 12 + (x - 12 - 6 * t) ** 2 / 16))
            data[c, t] = 200 + 64000 * blob + rng.integers(0, 300, SHAPE[2:])
    check(data.max() > 60000, "the input has values above 32767")
    k = np.arange(5) - 2
    psf = np.exp(-(k[:, None, None] ** 2 / 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2))
    with h5py.File(os.path.join(WORK, "in.h5"), "w") as f:
        f["data"] = data
        f["data"].attrs["element_size_um"] = np.array(VOXEL)
        f["psf"] = (psf / psf.sum()).astype(np.float32)
    return data


def exported_bdv(data):
    h5decon(["export", "--layout", "bdv", "--input", "in.h5", "--output", "exp.h5", "--levels", "2"])
    with h5py.File(os.path.join(WORK, "exp.h5"), "r") as f:
        cells = f["t00001/s00/0/cells"]
        check(cells.dtype == np.int16, f"BigDataViewer cells are int16, got {cells.dtype}")
        check(np.array_equal(cells[...].view(np.uint16), data[0, 1]), "export holds the values")
    h5decon(RUN + ["--input", "in.h5", "--output", "ref.h5"])
    ref, _ = result("ref.h5")
    for name, args, np_ in [("bdv1.h5", ["--input", "exp.xml"], 1),
                            ("bdv3.h5", ["--input", "exp.xml"], 3),
                            ("bdvh5.h5", ["--input", "exp.h5"], 1),
                            ("bdvx.h5", ["--input", "exp.xml", "--mode", "exact"], 2)]:
        log = h5decon(RUN + args + ["--output", name], np_)
        check("BigDataViewer" in log, "the log names the layout")
        out, attrs = result(name)
        check(np.array_equal(out, ref), f"{name}: run on the BigDataViewer export differs from run "
              f"on the original (max |diff| {np.abs(out - ref).max()})")
        check(np.allclose(attrs["element_size_um"], VOXEL), f"{name}: voxel {attrs['element_size_um']}")
        check(attrs["input_channel_names"] == "channel 0; channel 1", f"names {attrs['input_channel_names']}")
    brightest = np.unravel_index(np.argmax(data), data.shape)
    check(ref[brightest] > 30000, f"the brightest voxel deconvolves to {ref[brightest]}, not 0")


XML = """<?xml version="1.0" encoding="UTF-8"?>
<SpimData version="0.2">
  <BasePath type="relative">{base}</BasePath>
  <SequenceDescription>
    <ImageLoader format="{loader}">
      <hdf5 type="relative">meso.h5</hdf5>
    </ImageLoader>
    <ViewSetups>
{setups}
    </ViewSetups>
    <Timepoints type="pattern">
      <integerpattern>0,2</integerpattern>
    </Timepoints>
  </SequenceDescription>
</SpimData>
"""
SETUP = """      <ViewSetup>
        <id>{id}</id>
        <name>{name}</name>
        <size>{x} {y} {z}</size>
        <voxelSize><unit>nm</unit><size>100 100 400</size></voxelSize>
        <attributes><illumination>{id}</illumination><channel>0</channel><angle>0</angle></attributes>
      </ViewSetup>"""


def hand_written_bdv(data):
    os.makedirs(os.path.join(WORK, "meso"), exist_ok=True)
    with h5py.File(os.path.join(WORK, "meso", "meso.h5"), "w") as f:
        for s in range(2):
            f[f"s{s:02d}/resolutions"] = np.ones((1, 3))
            f[f"s{s:02d}/subdivisions"] = np.array([[16, 16, 8]], np.int32)
            for i, t in enumerate((0, 2)):
                f.create_dataset(f"t{t:05d}/s{s:02d}/0/cells", data=data[s, i].view(np.int16), chunks=(8, 16, 16))
    z, y, x = SHAPE[2:]
    setups = "\n".join(SETUP.format(id=s, name=f"left {s}" if s == 0 else "right", x=x, y=y, z=z) for s in range(2))
    with open(os.path.join(WORK, "meso.xml"), "w") as f:
        f.write(XML.format(base="meso", loader="bdv.hdf5", setups=setups))
    h5decon(RUN + ["--input", "meso.xml", "--output", "meso_out.h5"], 2)
    out, attrs = result("meso_out.h5")
    ref, _ = result("ref.h5")
    check(np.array_equal(out, ref), "hand-written BigDataViewer: setups as c, time points 0 and 2 as t")
    check(np.allclose(attrs["element_size_um"], VOXEL), f"nm voxel size: {attrs['element_size_um']}")
    check(attrs["input_channel_names"] == "left 0; right", attrs["input_channel_names"])
    # The .h5 alone, no XML beside it: the groups say what there is.
    h5decon(RUN + ["--input", "meso/meso.h5", "--output", "meso_alone.h5"])
    alone, attrs = result("meso_alone.h5")
    check(np.array_equal(alone, ref), "BigDataViewer .h5 without its XML")
    check("element_size_um" not in attrs, "no voxel size is claimed without the XML")
    # Refusals, each naming the XML.
    bad = [("n5.xml", XML.format(base="meso", loader="bdv.n5", setups=setups), "format 'bdv.n5' is not supported"),
           ("sizes.xml", XML.format(base="meso", loader="bdv.hdf5", setups=SETUP.format(id=0, name="a", x=x, y=y, z=z)
                                    + "\n" + SETUP.format(id=1, name="b", x=x, y=y, z=z + 1)), "must share a size"),
           ("missing.xml", XML.format(base=".", loader="bdv.hdf5", setups=setups), "meso.h5")]
    for name, text, message in bad:
        with open(os.path.join(WORK, name), "w") as f:
            f.write(text)
        log = h5decon(RUN + ["--input", name, "--output", "bad.h5"], 2, code=2)
        check(message in log and name in log, f"{name}: the message names the file and '{message}'")
        check(not os.path.exists(os.path.join(WORK, "bad.h5")), "no output after a refusal")


def chars(text):
    return np.frombuffer(str(text).encode(), dtype="S1")


def imaris(data):
    z, y, x = SHAPE[2:]
    with h5py.File(os.path.join(WORK, "cells.ims"), "w") as f:
        image = f.create_group("DataSetInfo/Image")
        for key, value in [("X", x), ("Y", y), ("Z", z), ("Unit", "um"), ("ExtMin0", 0), ("ExtMin1", 0),
                           ("ExtMin2", -1.2), ("ExtMax0", x * 0.1), ("ExtMax1", y * 0.1), ("ExtMax2", z * 0.4 - 1.2)]:
            image.attrs[key] = chars(value)
        for c in range(2):
            f.create_group(f"DataSetInfo/Channel {c}").attrs["Name"] = chars(["DAPI", "GFP"][c])
            for t in range(2):
                padded = np.full((16, 48, 48), 60000, np.uint16)
                padded[:z, :y, :x] = data[c, t]
                g = f.create_group(f"DataSet/ResolutionLevel 0/TimePoint {t}/Channel {c}")
                g.create_dataset("Data", data=padded, chunks=(16, 48, 48))
                g.attrs["ImageSizeX"] = chars(x)
    h5decon(RUN + ["--input", "cells.ims", "--output", "ims_out.h5"], 3)
    out, attrs = result("ims_out.h5")
    ref, _ = result("ref.h5")
    check(np.array_equal(out, ref), f"Imaris: cropped to the image (max |diff| {np.abs(out - ref).max()})")
    check(np.allclose(attrs["element_size_um"], VOXEL), f"Imaris voxel size {attrs['element_size_um']}")
    check(attrs["input_channel_names"] == "DAPI; GFP", attrs["input_channel_names"])


def main():
    shutil.rmtree(WORK, ignore_errors=True)  # a fresh folder: outputs are never overwritten
    os.makedirs(WORK)
    data = make_input()
    exported_bdv(data)
    hand_written_bdv(data)
    imaris(data)
    print("volume layouts: BigDataViewer (export, hand-written, .h5 alone) and Imaris read as stored")


if __name__ == "__main__":
    main()
