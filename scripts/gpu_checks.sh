#!/usr/bin/env bash
# GPU checks on a lent GPU machine, in one call, from a bundle made here by
#   scripts/gather_gpu_bundle.sh -b build-gpu -o gpu_bundle --no-cuda-libs \
#     build-gpu/tests/backend/test_cuda_backend build-gpu/src/h5decon_cuda_bench build-gpu/src/h5decon
# (docs/gpu.md has the device plan). The target needs numpy and h5py, CuPy (the
# benchmark's peer), an NVIDIA driver for CUDA 13 (>= 580) and CUDA 13's
# libcudart.so.13 and libcufft.so.12 somewhere this script finds them.
#
# usage: scripts/gpu_checks.sh [-B BUNDLE] [-w WORKDIR] [-o OUTDIR] STEP...
#   unit       the CUDA unit tests (test_cuda_backend): must pass, none skipped
#   scale      correctness at scale, no CPU reference: an identity PSF on a volume of
#              520x2048x2048 (2.2e9 voxels: every buffer past 2^31 elements) returns the
#              input; a normalised PSF keeps the flux (periodic) on 256x1024x1024; the
#              same volume in 8 blocks equals one block within the seam bound (1e-4)
#   shared     two ranks on the one GPU (the bundle's mpirun) end to end through HDF5:
#              the binding says "shared by 2", the output equals one rank's bit for bit
#   bench      h5decon_cuda_bench --compare-cupy (time per iteration, bandwidth
#              fraction, CuPy RL of the same sizes), then --pipeline (float32 vs uint16)
#   phantom    WORKDIR/headline.h5: 950x2048x2048 uint16 + a 33x17x17 PSF (make_big_phantom.py)
#   headline   h5decon run --backend cuda, 20 iterations, through HDF5 on one GPU; wall time
#   headline-bertero  the same with --boundary bertero (run's default boundary)
#   small      the same run on a 128x512x512 phantom (a quick end-to-end check)
#   quality    h5decon quality on `small` with every quality feature, --backend cpu and
#              cuda: both tables, and each variant's best PSNR on both (must agree)
#   all        unit scale shared bench phantom headline (most important first)
# -B BUNDLE  the bundle (default: gpu_bundle); -w WORKDIR  large files (default:
# /tmp/h5decon_gpu); -o OUTDIR  the log (gpu_checks.log) and every figure line
# (figures.txt) (default: $OUT when set). Every step runs even after one failed;
# the exit code is 1 when any failed, 3 when no GPU is usable (said first).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle="$root/gpu_bundle"
work=/tmp/h5decon_gpu
outdir=${OUT:-}
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while getopts "B:w:o:h" opt; do
  case $opt in
    B) bundle=$OPTARG ;;
    w) work=$OPTARG ;;
    o) outdir=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
[ -x "$bundle/run" ] || { echo "gpu_checks: no bundle at $bundle" >&2; exit 2; }
mkdir -p "$work"
if [ -n "$outdir" ]; then  # everything to the log too; figure lines to figures.txt
  mkdir -p "$outdir"
  exec > >(tee -a "$outdir/gpu_checks.log") 2>&1
fi
figure() { echo "gpu_checks: $*"; [ -z "$outdir" ] || echo "$*" >>"$outdir/figures.txt"; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
check() { python3 "$root/scripts/gpu_check_results.py" "$@" | tee -a "$work/checks.txt"; }

# A usable GPU, said before any step: nvidia-smi sees one, and its driver runs CUDA 13.
require_gpu() {
  local smi driver major
  if ! smi=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1) ||
    [ -z "$smi" ]; then
    echo "gpu_checks: no GPU: nvidia-smi found none (${smi:-no output}); nothing was run"
    exit 3
  fi
  figure "GPU: $smi"
  driver=$(echo "$smi" | head -1 | cut -d, -f2 | tr -d ' ')
  major=${driver%%.*}
  if [ "${major:-0}" -lt 580 ]; then
    echo "gpu_checks: driver $driver is older than 580, the first to run CUDA 13 programs"
    exit 3
  fi
}

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
  local linked  # captured first: grep -q closing the pipe early would fail it under pipefail
  linked=$(LD_LIBRARY_PATH="$bundle/lib:${LD_LIBRARY_PATH:-}" ldd "$bundle/bin/h5decon" 2>&1 || true)
  if ! grep -Eq 'libcudart.so.13 => /' <<<"$linked"; then
    echo "gpu_checks: warning: libcudart.so.13 not found (ldd below); the CUDA programs will not start" >&2
    grep -E 'cuda|cufft' <<<"$linked" >&2 || true
  fi
}

step_unit() {
  echo "== CUDA unit tests"
  nvidia-smi -L || true
  local log="$work/unit.log"
  local ok=0
  "$bundle/run" test_cuda_backend 2>&1 | tee "$log" || ok=1
  if grep -q "skipped: no GPU" "$log"; then echo "gpu_checks: FAIL: tests skipped: no GPU seen" >&2; ok=1; fi
  figure "unit: $(grep -E '^\[  (PASSED|FAILED)  \]' "$log" | tr '\n' ' ')"
  return $ok
}

step_bench() {
  echo "== CUDA benchmark against CuPy (256^3, 512^3, 256x1024x1024)"
  local ok=0
  "$bundle/run" h5decon_cuda_bench --compare-cupy | tee "$work/bench.txt" || ok=1
  echo "== overlapped path: float32 vs uint16 blocks (stored type uploaded, converted on the device)"
  "$bundle/run" h5decon_cuda_bench --sizes 256x1024x1024 --iterations 2 --pipeline 8 |
    tee -a "$work/bench.txt" || ok=1
  [ -z "$outdir" ] || cp "$work/bench.txt" "$outdir/bench.txt"
  return $ok
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
    --iterations 20 --backend cuda --boundary "$boundary" --init observed || return 1
  end=$(date +%s.%N)
  figure "$(basename "$1") end to end (read, 20 iterations, write, boundary" \
    "$boundary) in $(seconds_between "$start" "$end") s wall"
}

step_scale() {
  echo "== correctness at scale (no CPU reference)"
  local ok=0 start end
  python3 "$root/scripts/make_big_phantom.py" "$work/identity.h5" --shape 520,2048,2048 --psf 1,1,1
  start=$(date +%s.%N)
  "$bundle/run" h5decon run --input "$work/identity.h5:/data" --psf "$work/identity.h5:/psf" \
    --output "$work/identity_out.h5" --overwrite --iterations 3 --backend cuda \
    --boundary periodic --block 520,2048,2048 || ok=1
  end=$(date +%s.%N)
  figure "identity PSF, 520x2048x2048 (2.2e9 voxels) in one block: $(seconds_between "$start" "$end") s wall"
  [ $ok -ne 0 ] || check same "$work/identity_out.h5" "$work/identity.h5" 1e-5 || ok=1
  rm -f "$work/identity.h5" "$work/identity_out.h5"
  python3 "$root/scripts/make_big_phantom.py" "$work/flux.h5" --shape 256,1024,1024 --psf 9,9,9
  "$bundle/run" h5decon run --input "$work/flux.h5:/data" --psf "$work/flux.h5:/psf" \
    --output "$work/flux_one.h5" --overwrite --iterations 20 --backend cuda \
    --boundary periodic --block 256,1024,1024 || ok=1
  "$bundle/run" h5decon run --input "$work/flux.h5:/data" --psf "$work/flux.h5:/psf" \
    --output "$work/flux_eight.h5" --overwrite --iterations 20 --backend cuda \
    --boundary periodic --block 128,512,512 || ok=1
  check flux "$work/flux.h5" "$work/flux_one.h5" 1e-4 || ok=1
  check same "$work/flux_eight.h5" "$work/flux_one.h5" 1e-4 || ok=1
  return $ok
}

step_shared() {
  echo "== two ranks sharing the one GPU, end to end through HDF5"
  local ok=0
  python3 "$root/scripts/make_big_phantom.py" "$work/shared.h5" --shape 128,512,512
  "$bundle/run" h5decon run --input "$work/shared.h5:/data" --psf "$work/shared.h5:/psf" \
    --output "$work/shared_1.h5" --overwrite --iterations 20 --backend cuda --block 64,256,512 || ok=1
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$bundle/run" mpirun -n 2 \
    --oversubscribe h5decon run --input "$work/shared.h5:/data" --psf "$work/shared.h5:/psf" \
    --output "$work/shared_2.h5" --overwrite --iterations 20 --backend cuda --block 64,256,512 \
    2>&1 | tee "$work/shared.log" || ok=1
  grep -q "shared by 2 ranks on this node (same UUID)" "$work/shared.log" ||
    { echo "gpu_checks: FAIL: the binding did not report the shared GPU"; ok=1; }
  check same "$work/shared_2.h5" "$work/shared_1.h5" 0 || ok=1
  return $ok
}

step_headline() {
  echo "== headline: 950x2048x2048, 20 iterations, --backend cuda"
  [ -s "$work/headline.h5" ] || step_phantom
  local ok=0
  run_one "$work/headline.h5" "$work/headline_out.h5" || ok=1
  [ $ok -ne 0 ] || check sane "$work/headline_out.h5" || ok=1  # read before it goes
  rm -f "$work/headline_out.h5"  # 15 GiB of float32: keep the disk for the next run
  return $ok
}

step_headline-bertero() {
  echo "== headline: 950x2048x2048, 20 iterations, --backend cuda --boundary bertero"
  [ -s "$work/headline.h5" ] || step_phantom
  local ok=0
  run_one "$work/headline.h5" "$work/headline_out.h5" bertero || ok=1
  rm -f "$work/headline_out.h5"
  return $ok
}

step_small() {
  echo "== small end to end: 128x512x512"
  python3 "$root/scripts/make_big_phantom.py" "$work/small.h5" --shape 128,512,512
  run_one "$work/small.h5" "$work/small_out.h5" && check sane "$work/small_out.h5"
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

steps=()
for step in "$@"; do
  case $step in
    unit | scale | shared | bench | phantom | headline | headline-bertero | small | quality)
      steps+=("$step") ;;
    all) steps+=(unit scale shared bench phantom headline) ;;
    *) echo "gpu_checks: unknown step '$step'" >&2; exit 2 ;;
  esac
done
find_cuda_libs
require_gpu
failed=()
for step in "${steps[@]}"; do
  start=$(date +%s.%N)
  if "step_$step"; then result=ok; else result=FAILED; failed+=("$step"); fi
  figure "step $step: $result in $(seconds_between "$start" "$(date +%s.%N)") s"
done
[ ${#failed[@]} -eq 0 ] || { echo "gpu_checks: FAILED steps: ${failed[*]}"; exit 1; }
echo "gpu_checks: every step passed: ${steps[*]}"
