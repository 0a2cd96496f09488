#!/usr/bin/env bash
# Rank 0's serving rate: `h5decon run --no-compute` (blocks read, sent, converted
# and written; no deconvolution) on the `medium` phantom in 64 blocks, with the
# input stored as uint16 (sent as uint16) and as float32, on 2 and 3 ranks.
# Prints each run's "served:" line and the median over the repeats.
# Usage: scripts/bench_serving.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
repeats=${2:-5}
bin=$build/src/h5decon
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

"$bin" synth --preset medium --output "$work/u16.h5" >/dev/null
/usr/bin/python3 - "$work" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
with h5py.File(f"{w}/u16.h5", "r") as s, h5py.File(f"{w}/f32.h5", "w") as d:
    d["data"] = s["data"][...].astype(np.float32)
PY
for ranks in 2 3; do
  for stored in u16 f32; do
    rates=()
    for _ in $(seq "$repeats"); do
      line=$(mpirun -n "$ranks" --oversubscribe "$bin" run --input "$work/$stored.h5:/data" \
        --psf "$work/u16.h5:/psf" --output "$work/out.h5" --overwrite --no-compute \
        --block 32,64,64 --threads 1 | grep '^served:')
      rates+=("$(sed -E 's/.* ([0-9.]+) GB\/s.*/\1/' <<<"$line")")
    done
    median=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    bytes=$([ "$stored" = u16 ] && echo 2 || echo 4)
    mvox=$(awk -v r="$median" -v b="$bytes" 'BEGIN {printf "%.1f", r * 1e3 / b}')
    echo "$ranks ranks, input $stored: ${line#served: }; median of $repeats: $median GB/s" \
         "= $mvox Mvoxel/s (runs: ${rates[*]})"
  done
done
