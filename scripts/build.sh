#!/usr/bin/env bash
# Installs the dependencies (when run as root) and builds h5decon in ./build.
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install_deps.sh"
build_dir=${H5DECON_BUILD_DIR:-$here/build}
mkdir -p "$build_dir"
log=$build_dir/configure.log
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >"$log" 2>&1 \
  || { cat "$log" >&2; exit 1; }
grep -E '^-- (h5decon|  )' "$log" || true
cmake --build "$build_dir" --parallel "$(nproc)"
