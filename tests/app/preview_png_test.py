#!/usr/bin/env python3
"""`h5decon preview`: the PNG is valid and laid out as documented.

Writes an input and a result (1, 2, Z, Y, X) with h5py, runs the preview of
(c=0, t=1), then parses the PNG: signature, IHDR (width 2X+4, height Y+4+Z, 8-bit
grey), CRCs, IDAT inflated to height * (width + 1) bytes, and the bright voxel
seen where the layout puts it. Usage: preview_png_test.py H5DECON WORKDIR
"""
import os
import struct
import subprocess
import sys
import zlib

import h5py
import numpy as np

Z, Y, X, GAP = 12, 20, 28, 4


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
    png = os.path.join(work, "preview.png")
    subprocess.run([h5decon, "preview", "--input", os.path.join(work, "in.h5"),
                    "--result", os.path.join(work, "out.h5:/data"), "--c", "0", "--t", "1",
                    "--output", png], check=True)
    parts = list(chunks(open(png, "rb").read()))
    assert [k for k, _ in parts][0] == b"IHDR" and parts[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", parts[0][1])
    assert (width, height) == (2 * X + GAP, Y + GAP + Z), (width, height)
    assert (depth, colour, interlace) == (8, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in parts if kind == b"IDAT"))
    assert len(raw) == height * (width + 1), len(raw)
    img = np.frombuffer(raw, np.uint8).reshape(height, width + 1)
    assert (img[:, 0] == 0).all(), "filter bytes"
    img = img[:, 1:]
    for left in (0, X + GAP):  # input, then result: the bright voxel is white
        assert img[5, left + 7] == 255, img[5, left + 7]        # xy at (y=5, x=7)
        assert img[Y + GAP + 3, left + 7] == 255                # xz at (z=3, x=7)
    assert (img[:, X:X + GAP] == 0).all() and (img[Y:Y + GAP, :] == 0).all()
    print(f"preview: ok ({width}x{height})")


if __name__ == "__main__":
    main()
