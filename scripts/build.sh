#!/usr/bin/env bash
# Installs the dependencies (when run as root) and builds h5decon in ./build.
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install_deps.sh"
build_dir=${H5DECON_BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >"$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log" >&2; exit 1; }
grep -E '^-- (h5decon|  )' "$build_dir.configure.log" || true
cmake --build "$build_dir" --parallel "$(nproc)"
