#!/usr/bin/env python3
"""Checks of h5decon outputs that need no CPU reference, read in z slabs (bounded
memory, for outputs of many GB). Used by scripts/gpu_checks.sh.

usage: gpu_check_results.py same  A.h5 B.h5 TOL   max |A - B| / max |B| <= TOL
       gpu_check_results.py flux  IN.h5 OUT.h5 TOL |sum OUT - sum IN| / sum IN <= TOL
       gpu_check_results.py sane  OUT.h5           finite and >= 0
Each prints one "gpu_checks: ..." line with the figure and exits 1 when it fails.
Datasets: /data of each file, (c, t, z, y, x).
"""
import sys

import h5py
import numpy as np

SLAB = 16


def slabs(path):
    with h5py.File(path, "r") as f:
        d = f["data"]
        for c in range(d.shape[0]):
            for t in range(d.shape[1]):
                for z in range(0, d.shape[2], SLAB):
                    yield np.asarray(d[c, t, z:z + SLAB], dtype=np.float64)


def same(a, b, tol):
    worst, peak, n = 0.0, 0.0, 0
    for x, y in zip(slabs(a), slabs(b)):
        worst = max(worst, float(np.abs(x - y).max()))
        peak = max(peak, float(np.abs(y).max()))
        n += x.size
    rel = worst / peak if peak > 0 else worst
    ok = rel <= tol
    print(f"gpu_checks: {a} vs {b}: {n} voxels, max |diff| / max = {rel:.3g} "
          f"({'within' if ok else 'ABOVE'} {tol:g})")
    return ok


def flux(inp, out, tol):
    si = sum(float(s.sum()) for s in slabs(inp))
    so = sum(float(s.sum()) for s in slabs(out))
    rel = abs(so - si) / si
    ok = rel <= tol
    print(f"gpu_checks: flux of {out}: {so:.6g} vs input {si:.6g}, relative change {rel:.3g} "
          f"({'within' if ok else 'ABOVE'} {tol:g})")
    return ok


def sane(out):
    lo, hi, finite = np.inf, -np.inf, True
    for s in slabs(out):
        finite &= bool(np.isfinite(s).all())
        lo, hi = min(lo, float(s.min())), max(hi, float(s.max()))
    ok = finite and lo >= 0
    print(f"gpu_checks: {out}: finite {finite}, min {lo:.3g}, max {hi:.3g}")
    return ok


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == "same":
        ok = same(args[0], args[1], float(args[2]))
    elif kind == "flux":
        ok = flux(args[0], args[1], float(args[2]))
    elif kind == "sane":
        ok = sane(args[0])
    else:
        raise SystemExit(__doc__)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
