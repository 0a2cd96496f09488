#!/usr/bin/env python3
"""Times plain CuPy Richardson-Lucy: the peer h5decon_cuda_bench compares against.

This is the RL of the Dask + CuPy light-sheet blog post (Kirkham et al., 2019):
circular FFT convolution on the volume's own shape (no boundary extension), the
PSF zero-padded to the volume and rolled so that its centre sits at the origin,
its rfftn computed once, then per iteration

    ratio = d / irfftn(rfftn(u) * OTF)
    u    *= irfftn(rfftn(ratio) * conj(OTF))      (the mirrored PSF)

in float32 / complex64 on one GPU, with CuPy's FFT plan cache (four FFTs per
iteration, element-wise steps as separate CuPy kernels).

Usage: bench_cupy_rl.py --shape Z Y X [--psf Z Y X] [--iterations N]
Prints one line "seconds_per_iteration=S" (median over the iterations after the
first, timed with CUDA events). Exit code 3 when CuPy or a GPU is missing.
"""
import argparse
import sys


def gaussian_psf(cp, shape):
    """A Gaussian elongated along z, normalised to sum 1 (centre voxel n // 2)."""
    sz, sy, sx = shape[0] / 8.0, shape[1] / 10.0, shape[2] / 10.0
    axes = [cp.arange(n, dtype=cp.float32) - n // 2 for n in shape]
    z, y, x = cp.meshgrid(*axes, indexing="ij")
    psf = cp.exp(-0.5 * ((z / sz) ** 2 + (y / sy) ** 2 + (x / sx) ** 2))
    return (psf / psf.sum()).astype(cp.float32)


def transfer_function(cp, psf, shape):
    """rfftn of the PSF padded to `shape` with its centre voxel at the origin."""
    padded = cp.zeros(shape, dtype=cp.float32)
    padded[tuple(slice(0, n) for n in psf.shape)] = psf
    padded = cp.roll(padded, tuple(-(n // 2) for n in psf.shape), axis=(0, 1, 2))
    return cp.fft.rfftn(padded)


def scene(cp, shape):
    """Background plus sparse bright points (RL's cost does not depend on content)."""
    rng = cp.random.default_rng(20240601)
    d = cp.full(shape, 10.0, dtype=cp.float32)
    mask = rng.random(shape, dtype=cp.float32) < 5e-4
    d[mask] += 800.0
    return d


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, required=True, metavar=("Z", "Y", "X"))
    parser.add_argument("--psf", type=int, nargs=3, default=[33, 17, 17], metavar=("Z", "Y", "X"))
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
    except Exception as e:  # ImportError, or CUDARuntimeError without a device
        print(f"bench_cupy_rl: CuPy with a GPU is required ({e})", file=sys.stderr)
        return 3

    shape = tuple(args.shape)
    otf = transfer_function(cp, gaussian_psf(cp, tuple(args.psf)), shape)
    d = scene(cp, shape)
    u = d.copy()  # the blog's initial estimate: the observed image
    times = []
    for _ in range(max(2, args.iterations)):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        ratio = d / cp.fft.irfftn(cp.fft.rfftn(u) * otf, s=shape)
        u *= cp.fft.irfftn(cp.fft.rfftn(ratio) * cp.conj(otf), s=shape)
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop) * 1e-3)
    steady = sorted(times[1:])  # the first includes planning
    median = steady[len(steady) // 2] if len(steady) % 2 else 0.5 * (
        steady[len(steady) // 2 - 1] + steady[len(steady) // 2])
    print(f"seconds_per_iteration={median:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
