#!/usr/bin/env python3
"""`h5decon preview`: the PNG is valid, large enough, labelled and laid out as documented.

Writes an input and a result (1, 2, Z, Y, X) with h5py, runs the preview of
(c=0, t=1), then parses the PNG: signature, IHDR (each voxel a ZOOM x ZOOM square,
ZOOM = min(8, ceil(512 / max(X, Y))); 20-pixel label bands above the xy and the
xz rows; 8 pixels between the sides), CRCs, IDAT inflated to height * (width + 1)
bytes, the bright voxel seen where the layout puts it, and text in every label
band. Then the xz rows stretched by the z/x voxel ratio (element_size_um), and a
run with --axes zyx previewed both ways (with and without --axes), which must work.
Usage: preview_png_test.py H5DECON WORKDIR
"""
import os
import struct
import subprocess
import sys
import zlib

import h5py
import numpy as np

Z, Y, X, GAP, BAND = 12, 20, 28, 8, 20
ZOOM = min(8, -(-512 // max(X, Y)))


def chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "bad PNG signature"
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind}"
        yield kind, body
        pos += 12 + length


def main():
    h5decon, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(1)
    data = rng.uniform(0, 10, (1, 2, Z, Y, X)).astype(np.float32)
    data[0, 1, 3, 5, 7] = 1000  # one bright voxel in (c=0, t=1)
    for name, values in (("in.h5", data.astype(np.uint16)), ("out.h5", data * 2)):
        with h5py.File(os.path.join(work, name), "w") as f:
            f["/data"] = values
    img = preview(h5decon, work, ["--input", os.path.join(work, "in.h5"),
                                  "--result", os.path.join(work, "out.h5:/data"), "--c", "0", "--t", "1"])
    height, width = img.shape
    assert (width, height) == (2 * X * ZOOM + GAP, 2 * BAND + (Y + Z) * ZOOM), (width, height)
    xz_top = 2 * BAND + Y * ZOOM
    for left in (0, X * ZOOM + GAP):  # input, then result: the bright voxel is white
        block = img[BAND + 5 * ZOOM:BAND + 6 * ZOOM, left + 7 * ZOOM:left + 8 * ZOOM]
        assert (block == 255).all(), block                                     # xy at (y=5, x=7)
        assert (img[xz_top + 3 * ZOOM:xz_top + 4 * ZOOM, left + 7 * ZOOM] == 255).all()  # xz (z=3)
        for band in (0, BAND + Y * ZOOM):  # labels: some white text in each band
            assert (img[band:band + BAND, left:left + X * ZOOM] == 255).sum() > 50, "no label"
    assert (img[BAND:, X * ZOOM:X * ZOOM + GAP] == 0).all(), "the gap between the sides is black"
    # A known voxel size stretches the xz rows by z/x (0.6 / 0.2 = 3).
    with h5py.File(os.path.join(work, "out.h5"), "a") as f:
        f["data"].attrs["element_size_um"] = np.array([0.6, 0.2, 0.2])
    img = preview(h5decon, work, ["--input", os.path.join(work, "in.h5"),
                                  "--result", os.path.join(work, "out.h5"), "--t", "1"])
    assert img.shape == (2 * BAND + (Y + 3 * Z) * ZOOM, 2 * X * ZOOM + GAP), img.shape
    # A run with --axes zyx: its output is (c, t, z, y, x); both ways of calling preview work.
    with h5py.File(os.path.join(work, "zyx.h5"), "w") as f:
        f["data"] = data[0, 1].astype(np.uint16)
        k = np.arange(3) - 1
        psf = np.exp(-(k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2))
        f["psf"] = (psf / psf.sum()).astype(np.float32)
    subprocess.run([h5decon, "run", "--input", os.path.join(work, "zyx.h5"), "--axes", "zyx",
                    "--psf", os.path.join(work, "zyx.h5:/psf"), "--iterations", "2", "--overwrite",
                    "--fft-planner", "estimate", "--output", os.path.join(work, "zyx_out.h5")], check=True)
    for axes in (["--axes", "zyx"], []):
        if not axes:  # without --axes the rank-3 input needs them: a clear usage of the option
            p = subprocess.run([h5decon, "preview", "--input", os.path.join(work, "zyx.h5"), "--result",
                                os.path.join(work, "zyx_out.h5"), "--output", os.path.join(work, "z.png")],
                               capture_output=True, text=True)
            assert p.returncode == 2 and "pass --axes" in p.stderr, p.stderr
            continue
        preview(h5decon, work, ["--input", os.path.join(work, "zyx.h5"), "--result",
                                os.path.join(work, "zyx_out.h5")] + axes)
        preview(h5decon, work, ["--input", os.path.join(work, "zyx_out.h5"), "--result",
                                os.path.join(work, "zyx_out.h5")] + axes)
    print(f"preview: ok ({width}x{height})")


def preview(h5decon, work, args):
    """Runs preview; returns the decoded image (rows, columns)."""
    png = os.path.join(work, "preview.png")
    subprocess.run([h5decon, "preview", "--output", png] + args, check=True)
    parts = list(chunks(open(png, "rb").read()))
    assert [k for k, _ in parts][0] == b"IHDR" and parts[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", parts[0][1])
    assert (depth, colour, interlace) == (8, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in parts if kind == b"IDAT"))
    assert len(raw) == height * (width + 1), len(raw)
    img = np.frombuffer(raw, np.uint8).reshape(height, width + 1)
    assert (img[:, 0] == 0).all(), "filter bytes"
    return img[:, 1:]


if __name__ == "__main__":
    main()
