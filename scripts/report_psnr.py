#!/usr/bin/env python3
"""Prints what an h5decon output holds and its PSNR against a synthetic truth.

Usage: report_psnr.py PHANTOM.h5 RESULT.h5 [DATASET]
PSNR uses the truth's maximum as the peak, like h5decon's own metrics.
"""
import sys

import h5py
import numpy as np


def psnr(image, truth):
    mse = np.mean((image.astype(np.float64) - truth) ** 2)
    return 10 * np.log10(truth.max() ** 2 / mse)


def main():
    phantom, result = sys.argv[1], sys.argv[2]
    dataset = sys.argv[3] if len(sys.argv) > 3 else "/data"
    with h5py.File(phantom, "r") as p, h5py.File(result, "r") as r:
        truth = p["/truth"][...].astype(np.float64)
        data = p[dataset][...]
        out = r[dataset]
        print(f"output {result}:{dataset} shape {out.shape} {out.dtype} chunks {out.chunks}")
        for key in ("algorithm", "iterations", "backend", "decomposition", "command_line"):
            if key in out.attrs:
                value = out.attrs[key]
                value = value.decode() if isinstance(value, bytes) else value
                print(f"  {key}: {value}")
        print(f"PSNR against /truth: input {psnr(data, truth):.2f} dB -> "
              f"deconvolved {psnr(out[...], truth):.2f} dB")


if __name__ == "__main__":
    main()
