#!/usr/bin/env bash
# GPU checks on a lent GPU machine, from a bundle made here by
#   scripts/gather_gpu_bundle.sh -b build-gpu --no-cuda-libs \
#     build-gpu/tests/backend/test_cuda_backend build-gpu/src/h5decon_cuda_bench build-gpu/src/h5decon
# (docs/gpu.md has the device-tool commands). The target needs numpy and h5py
# (phantom), CuPy (the benchmark's peer) and CUDA 13's libcudart.so.13 and
# libcufft.so.12 somewhere this script finds them.
#
# usage: scripts/gpu_checks.sh [-B BUNDLE] [-w WORKDIR] STEP...
#   unit       the CUDA unit tests (test_cuda_backend): must pass, none skipped
#   bench      h5decon_cuda_bench --compare-cupy, then --pipeline (float32 vs uint16 blocks)
#   phantom    WORKDIR/headline.h5: 950x2048x2048 uint16 + a 33x17x17 PSF (make_big_phantom.py)
#   headline   h5decon run --backend cuda, 20 iterations, through HDF5 on one GPU; wall time
#   headline-bertero  the same with --boundary bertero (run's default boundary)
#   small      the same run on a 128x512x512 phantom (a quick end-to-end check)
#   quality    h5decon quality on `small` with every quality feature, --backend cpu and
#              cuda: both tables, and each variant's best PSNR on both (must agree)
#   all        unit bench phantom headline
# -B BUNDLE  the bundle (default: gpu_bundle); -w WORKDIR  large files (default: /tmp/h5decon_gpu)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle="$root/gpu_bundle"
work=/tmp/h5decon_gpu
while getopts "B:w:h" opt; do
  case $opt in
    B) bundle=$OPTARG ;;
    w) work=$OPTARG ;;
    *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ -x "$bundle/run" ] || { echo "gpu_checks: no bundle at $bundle" >&2; exit 2; }
mkdir -p "$work"

# The bundle leaves cudart/cuFFT to the target: find CUDA 13's (toolkit or pip wheels).
find_cuda_libs() {
  local dirs d
  dirs=$(python3 - <<'PY' 2>/dev/null || true
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
for r in roots:
    for lib in glob.glob(os.path.join(r, "nvidia", "**", "lib"), recursive=True):
        print(lib)
PY
)
  for d in /usr/local/cuda/lib64 /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/targets/*/lib $dirs; do
    if [ -e "$d/libcudart.so.13" ] || [ -e "$d/libcufft.so.12" ]; then
      LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  done
  export LD_LIBRARY_PATH
  if ! ldd "$bundle/bin/h5decon" 2>/dev/null | grep -Eq 'libcudart.so.13 => /'; then
    echo "gpu_checks: warning: libcudart.so.13 not found (ldd below); the CUDA programs will not start" >&2
    LD_LIBRARY_PATH="$bundle/lib:${LD_LIBRARY_PATH:-}" ldd "$bundle/bin/h5decon" | grep -E 'cuda|cufft' >&2 || true
  fi
}

step_unit() {
  echo "== CUDA unit tests"
  nvidia-smi -L || true
  local log="$work/unit.log"
  "$bundle/run" test_cuda_backend 2>&1 | tee "$log"
  if grep -q "skipped: no GPU" "$log"; then echo "gpu_checks: FAIL: tests skipped: no GPU seen" >&2; return 1; fi
}

step_bench() {
  echo "== CUDA benchmark against CuPy"
  "$bundle/run" h5decon_cuda_bench --compare-cupy
  echo "== overlapped path: float32 vs uint16 blocks (stored type uploaded, converted on the device)"
  "$bundle/run" h5decon_cuda_bench --sizes 256x1024x1024 --iterations 2 --pipeline 8
}

step_phantom() {
  echo "== phantom 950x2048x2048 uint16"
  [ -s "$work/headline.h5" ] && { echo "$work/headline.h5 exists"; return 0; }
  python3 "$root/scripts/make_big_phantom.py" "$work/headline.h5.tmp" --shape 950,2048,2048
  mv "$work/headline.h5.tmp" "$work/headline.h5"
}

# run_one INPUT OUTPUT [BOUNDARY]: h5decon run on one GPU, 20 iterations (boundary
# reflect unless given); prints the wall time.
run_one() {
  local start end boundary=${3:-reflect}
  start=$(date +%s.%N)
  "$bundle/run" h5decon run --input "$1:/data" --psf "$1:/psf" --output "$2" --overwrite \
    --iterations 20 --backend cuda --boundary "$boundary" --init observed
  end=$(date +%s.%N)
  echo "gpu_checks: $(basename "$1") end to end (read, 20 iterations, write, boundary" \
    "$boundary) in $(echo "$end - $start" | bc) s wall"
}

step_headline() {
  echo "== headline: 950x2048x2048, 20 iterations, --backend cuda"
  [ -s "$work/headline.h5" ] || step_phantom
  run_one "$work/headline.h5" "$work/headline_out.h5"
  rm -f "$work/headline_out.h5"  # 15 GiB of float32: keep the disk for the next run
}

step_headline-bertero() {
  echo "== headline: 950x2048x2048, 20 iterations, --backend cuda --boundary bertero"
  [ -s "$work/headline.h5" ] || step_phantom
  run_one "$work/headline.h5" "$work/headline_out.h5" bertero
  rm -f "$work/headline_out.h5"
}

step_small() {
  echo "== small end to end: 128x512x512"
  python3 "$root/scripts/make_big_phantom.py" "$work/small.h5" --shape 128,512,512
  run_one "$work/small.h5" "$work/small_out.h5"
  python3 - "$work/small_out.h5" <<'PY'
import sys, h5py, numpy as np
d = h5py.File(sys.argv[1], "r")["data"][...]
assert np.isfinite(d).all() and d.min() >= 0, "non-finite or negative output"
print(f"gpu_checks: small output {d.shape}, min {d.min():.3g}, max {d.max():.3g}, mean {d.mean():.4g}")
PY
}

step_quality() {
  echo "== quality features, CPU and CUDA engines: small, 60 iterations"
  local variants=plain,biggs,biggs-log,bertero,tv,background,bertero+biggs-log b
  "$bundle/run" h5decon synth --preset small --output "$work/quality.h5" --overwrite
  for b in cpu cuda; do
    "$bundle/run" h5decon quality --input "$work/quality.h5" --iterations 60 \
      --variants "$variants" --backend "$b" | tee "$work/quality_$b.txt"
  done
  python3 - "$work/quality_cpu.txt" "$work/quality_cuda.txt" <<'PY'
import re, sys
def best(path):
    rows = re.findall(r"^\| (\S+) \| [0-9.]+ \| ([0-9.]+) \((\d+),", open(path).read(), re.M)
    return {name: (float(db), int(it)) for name, db, it in rows}
cpu, cuda = best(sys.argv[1]), best(sys.argv[2])
worst = 0.0
for name, (db, it) in cpu.items():
    c_db, c_it = cuda[name]
    worst = max(worst, abs(c_db - db))
    print(f"gpu_checks: quality {name}: best PSNR cpu {db:.2f} dB (it {it}), cuda {c_db:.2f} dB (it {c_it})")
print(f"gpu_checks: quality: largest CPU/CUDA best-PSNR difference {worst:.3f} dB")
sys.exit(0 if worst <= 0.05 else 1)
PY
}

find_cuda_libs
for step in "$@"; do
  case $step in
    unit | bench | phantom | headline | headline-bertero | small | quality) "step_$step" ;;
    all) step_unit; step_bench; step_phantom; step_headline ;;
    *) echo "gpu_checks: unknown step '$step'" >&2; exit 2 ;;
  esac
done
