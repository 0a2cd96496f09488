#!/usr/bin/env python3
"""`h5decon export --layout bdv`: the BigDataViewer layout of a small run output.

usage: bdv_export_test.py H5DECON MPIEXEC WORKDIR

Makes a 2-channel, 2-time-point uint16 input with an anisotropic voxel size
(element_size_um 0.4, 0.1, 0.1), deconvolves it (2 iterations), exports the
float32 result on 2 ranks with 4 levels, and checks with h5py and xml.etree:
the datasets, dtypes and shapes of every level, resolutions and subdivisions
(x y z), chunks, level 0 = the result scaled to uint16, every further level =
the 2x mean of the one before (partial windows at odd ends), the recorded scale,
and the XML (setups, sizes, voxel size, loader path, registrations). Then the
automatic level count, --max-value saturation, --deflate, 3 ranks, that nothing is left as
.partial, and the export of a merged shard set (an HDF5 virtual dataset).
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np

SHAPE = (2, 2, 11, 40, 36)  # c, t, z, y, x: odd z and a y/x not divisible by 8
VOXEL_ZYX = (0.4, 0.1, 0.1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    print(p.stdout + p.stderr, flush=True)
    check(p.returncode == 0, f"exit code {p.returncode}")
    return p.stdout


def make_input(path):
    rng = np.random.default_rng(7)
    z, y, x = np.meshgrid(*[np.arange(n) for n in SHAPE[2:]], indexing="ij")
    data = np.empty(SHAPE, np.uint16)
    for c in range(SHAPE[0]):
        for t in range(SHAPE[1]):
            blob = np.exp(-((z - 5) ** 2 / 8 + (y - 12 - 8 * c) ** 2 / 20 + (x - 10 - 6 * t) ** 2 / 30))
            data[c, t] = 100 + 3000 * blob + rng.integers(0, 50, SHAPE[2:])
    k = np.arange(5) - 2
    psf = np.exp(-(k[:, None, None] ** 2 / 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2))
    with h5py.File(path, "w") as f:
        f["data"] = data
        f["data"].attrs["element_size_um"] = np.array(VOXEL_ZYX)
        f["psf"] = (psf / psf.sum()).astype(np.float32)


def halve(a, axes):
    """2x mean along `axes` (0=z, 1=y, 2=x); an odd end averages what it has."""
    for ax in axes:
        n = a.shape[ax]
        sums = np.add.reduceat(a, np.arange(0, n, 2), axis=ax)
        counts = np.minimum(2, n - np.arange(0, n, 2)).astype(a.dtype)
        shape = [1, 1, 1]
        shape[ax] = len(counts)
        a = sums / counts.reshape(shape)
    return a


def stored(values, scale):
    return np.rint(np.clip(values * scale, 0, 65535))


def check_levels(f, result, scale, levels):
    """Every level of every (t, c) against the result, scaled."""
    c_count, t_count = result.shape[:2]
    for c in range(c_count):
        res = f[f"s{c:02d}/resolutions"]
        sub = f[f"s{c:02d}/subdivisions"]
        check(res.dtype == np.float64 and res.shape == (levels, 3), f"resolutions {res.dtype} {res.shape}")
        check(sub.dtype == np.int32 and sub.shape == (levels, 3), f"subdivisions {sub.dtype} {sub.shape}")
        factors = res[...][:, ::-1].astype(int)  # rows x y z -> z y x
        check((factors[0] == 1).all(), f"level 0 factors {factors[0]}")
        for t in range(t_count):
            expected = result[c, t].astype(np.float64)
            for level in range(levels):
                if level > 0:
                    axes = [a for a in range(3) if factors[level][a] == 2 * factors[level - 1][a]]
                    check(axes and all(factors[level][a] in (factors[level - 1][a], 2 * factors[level - 1][a])
                                       for a in range(3)), f"level {level} factors {factors[level]}")
                    expected = halve(expected, axes)
                cells = f[f"t{t:05d}/s{c:02d}/{level}/cells"]
                check(cells.dtype == np.int16, f"cells dtype {cells.dtype} (BigDataViewer reads int16)")
                check(cells.shape == expected.shape, f"level {level} shape {cells.shape} != {expected.shape}")
                check(cells.chunks == tuple(int(v) for v in sub[level][::-1]),
                      f"level {level} chunks {cells.chunks} != subdivisions {sub[level]}")
                got = cells[...].view(np.uint16).astype(np.float64)
                diff = np.abs(got - stored(expected, scale))
                check(diff.max() <= 1, f"t{t} s{c} level {level}: off by {diff.max()}")
                check(diff.mean() < 0.01, f"t{t} s{c} level {level}: mean error {diff.mean()}")
    return factors


def check_xml(path, h5_name, result):
    c_count, t_count, z, y, x = result.shape
    root = ET.parse(path).getroot()
    check(root.tag == "SpimData" and root.get("version") == "0.2", f"root {root.tag} {root.attrib}")
    check(root.findtext("BasePath") == "." and root.find("BasePath").get("type") == "relative", "BasePath")
    seq = root.find("SequenceDescription")
    loader = seq.find("ImageLoader")
    check(loader.get("format") == "bdv.hdf5", f"loader format {loader.get('format')}")
    check(loader.findtext("hdf5") == h5_name and loader.find("hdf5").get("type") == "relative",
          f"loader path {loader.findtext('hdf5')}")
    check(os.path.exists(os.path.join(os.path.dirname(path), loader.findtext("hdf5"))), "loader path resolves")
    setups = seq.find("ViewSetups").findall("ViewSetup")
    check(len(setups) == c_count, f"{len(setups)} setups")
    defined = {a.get("name"): {e.findtext("id") for e in a} for a in seq.find("ViewSetups").findall("Attributes")}
    for c, s in enumerate(setups):
        check(s.findtext("id") == str(c), f"setup id {s.findtext('id')}")
        check(s.findtext("size").split() == [str(x), str(y), str(z)], f"size {s.findtext('size')}")
        vs = s.find("voxelSize")
        check(vs.findtext("unit") == "micrometer", f"unit {vs.findtext('unit')}")
        check(np.allclose([float(v) for v in vs.findtext("size").split()], VOXEL_ZYX[::-1]),
              f"voxel size {vs.findtext('size')}")
        check(s.find("attributes").findtext("channel") == str(c), "channel attribute")
        for a in s.find("attributes"):  # every id a setup names is defined
            check(a.text in defined.get(a.tag, set()), f"attribute {a.tag} {a.text} not defined")
    tp = seq.find("Timepoints")
    check(tp.get("type") == "range" and tp.findtext("first") == "0" and tp.findtext("last") == str(t_count - 1),
          "Timepoints")
    regs = root.find("ViewRegistrations").findall("ViewRegistration")
    check(len(regs) == c_count * t_count, f"{len(regs)} registrations")
    affine = np.array([float(v) for v in regs[0].find("ViewTransform").findtext("affine").split()]).reshape(3, 4)
    check(np.allclose(affine[:, :3], np.diag(VOXEL_ZYX[::-1])) and np.allclose(affine[:, 3], 0),
          f"affine {affine}")
    check("round(clamp(value" in open(path).read(), "the XML records the scaling")


def no_partials(folder):
    left = [n for n in os.listdir(folder) if n.endswith(".partial")]
    check(not left, f"left behind: {left}")


def main(h5decon, mpiexec, work):
    os.makedirs(os.path.join(work, "bdv"), exist_ok=True)
    src, out = os.path.join(work, "in.h5"), os.path.join(work, "out.h5")
    make_input(src)
    run([h5decon, "run", "--input", src, "--psf", src + ":/psf", "--output", out, "--overwrite",
         "--iterations", "2", "--threads", "1", "--fft-planner", "estimate"])
    with h5py.File(out, "r") as f:
        result = f["data"][...]
        check(np.allclose(f["data"].attrs["element_size_um"], VOXEL_ZYX), "run carries element_size_um")
    view = os.path.join(work, "bdv", "view.h5")
    log = run([mpiexec, "-n", "2", h5decon, "export", "--input", out, "--layout", "bdv",
               "--output", view, "--levels", "4", "--overwrite"])
    check("4 levels" in log, "the log names the levels")
    max_value = float(result.max())
    with h5py.File(view, "r") as f:
        check(np.isclose(f.attrs["max_value"], max_value), f"max_value {f.attrs['max_value']} != {max_value}")
        scale = float(f.attrs["value_scale"])
        check(np.isclose(scale, 65535 / max_value), f"value_scale {scale}")
        check(np.allclose(f.attrs["element_size_um"], VOXEL_ZYX), "element_size_um recorded")
        check(f[f"t00000/s00/0/cells"][...].view(np.uint16).max() >= 65534, "the maximum maps to 65535")
        factors = check_levels(f, result, scale, 4)
        # Anisotropic voxels: y and x are halved twice before z is.
        check(factors.tolist() == [[1, 1, 1], [1, 2, 2], [1, 4, 4], [2, 8, 8]], f"factors {factors.tolist()}")
    check_xml(os.path.join(work, "bdv", "view.xml"), "view.h5", result)
    no_partials(os.path.join(work, "bdv"))

    # Automatic levels: the largest axis (40) is already small, so one level; a
    # --max-value below the maximum saturates; 3 ranks, rank 0 writes.
    auto = os.path.join(work, "bdv", "auto.h5")
    run([mpiexec, "-n", "3", h5decon, "export", "--input", out, "--output", auto,
         "--max-value", str(max_value / 2), "--deflate", "4", "--overwrite"])
    with h5py.File(auto, "r") as f:
        check(f["s00/resolutions"].shape == (1, 3), f"auto levels {f['s00/resolutions'].shape}")
        check(f["t00000/s00/0/cells"].compression == "gzip", "--deflate compresses the cells")
        check_levels(f, result, 65535 / (max_value / 2), 1)
        check((f["t00001/s01/0/cells"][...].view(np.uint16) == 65535).any(), "saturation at --max-value")
    check_xml(os.path.join(work, "bdv", "auto.xml"), "auto.h5", result)
    no_partials(os.path.join(work, "bdv"))

    # A merged shard set (a virtual dataset, which HDF5's MPI-IO driver cannot read).
    shards = []
    for k in range(2):
        run([h5decon, "run", "--input", src, "--psf", src + ":/psf", "--output",
             os.path.join(work, "part.h5"), "--shard", f"{k}/2", "--overwrite", "--iterations", "2",
             "--threads", "1", "--fft-planner", "estimate"])
        shards.append(os.path.join(work, f"part.shard{k}-of-2.h5"))
    merged = os.path.join(work, "merged.h5")
    run([h5decon, "merge", "--output", merged, "--overwrite"] + shards)
    merged_view = os.path.join(work, "bdv", "merged.h5")
    run([mpiexec, "-n", "2", h5decon, "export", "--input", merged, "--output", merged_view,
         "--levels", "2", "--overwrite"])
    with h5py.File(merged, "r") as f:
        merged_result = f["data"][...]
    with h5py.File(merged_view, "r") as f:
        check_levels(f, merged_result, float(f.attrs["value_scale"]), 2)
    check_xml(os.path.join(work, "bdv", "merged.xml"), "merged.h5", merged_result)
    print("bdv export: layout, levels, scale and XML ok")


if __name__ == "__main__":
    main(*sys.argv[1:4])
