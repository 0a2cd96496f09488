#!/usr/bin/env bash
# Installs the dependencies (as root), builds h5decon and runs the whole test
# suite (unit, MPI, oracle and CLI tests) under ctest. Non-zero exit on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/build.sh"
build_dir=${H5DECON_BUILD_DIR:-$here/build}
# mpiexec refuses root unless told; CI and containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "$build_dir" --output-on-failure --parallel "$(nproc)" "$@"
