#!/usr/bin/env bash
# Wall time of `mpirun -n R h5decon run` on the `stack` phantom (2 channels x 3
# time points x 48x96x96, 20 iterations, `estimate` planner), start-up included:
# one block per volume and --block 48,32,32 (54 blocks), on 1 rank x 2 threads
# and 2 ranks x 1 thread, for each boundary given. Prints the median of REPEATS
# runs and every run's time.
# Usage: scripts/bench_blocks.sh [BUILD_DIR] [REPEATS] [BOUNDARY...]
#   e.g. scripts/bench_blocks.sh build 5 bertero reflect
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
repeats=${2:-5}
shift $(($# > 2 ? 2 : $#))
boundaries=("${@:-bertero}")
bin=$build/src/h5decon
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

"$bin" synth --preset stack --output "$work/stack.h5" >/dev/null
for boundary in "${boundaries[@]}"; do
  for block in auto 48,32,32; do
    for layout in "1 2" "2 1"; do
      read -r ranks threads <<<"$layout"
      times=()
      for _ in $(seq "$repeats"); do
        start=$(date +%s.%N)
        mpirun -n "$ranks" --oversubscribe --bind-to none "$bin" run \
          --input "$work/stack.h5:/data" --psf "$work/stack.h5:/psf" --output "$work/out.h5" \
          --overwrite --iterations 20 --fft-planner estimate --threads "$threads" \
          --boundary "$boundary" --block "$block" >/dev/null
        end=$(date +%s.%N)
        times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')")
      done
      median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
      echo "boundary $boundary, block $block, $ranks rank(s) x $threads thread(s):" \
           "median $median s of $repeats (${times[*]})"
    done
  done
done
