#!/usr/bin/env bash
# Builds h5decon in ./build (or $H5DECON_BUILD_DIR). As root on Debian it first
# installs the missing Debian packages (scripts/install_deps.sh); anywhere else it
# builds with what it finds, and when a dependency is missing says which one and
# where to get it. Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -eq 0 ] && [ -f /etc/debian_version ]; then
  "$here/scripts/install_deps.sh"
else
  echo "build: not root on Debian: building with the dependencies already installed"
fi
build_dir=${H5DECON_BUILD_DIR:-$here/build}
mkdir -p "$build_dir"
log=$build_dir/configure.log
if ! cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >"$log" 2>&1; then
  cat "$log" >&2
  cat >&2 <<'HELP'

build: configuration failed (above: which dependency CMake could not find). h5decon needs
  CMake >= 3.25, a C++20 compiler, MPI, parallel HDF5, FFTW3 single precision with its
  OpenMP and MPI libraries, Boost.Program_options, libtiff, zlib (GoogleTest for tests).
  - HPC modules:  module load cmake gcc openmpi hdf5/parallel fftw boost libtiff
  - Spack:        spack install h5decon (packaging/spack), or its dependencies:
                  spack install hdf5+mpi fftw+mpi+openmp precision=float boost+program_options libtiff
  - conda-forge:  conda install cmake cxx-compiler openmpi "hdf5=*=mpi_openmpi*"
                  "fftw=*=mpi_openmpi*" libboost-devel libtiff gtest
  - Debian/Ubuntu (root): scripts/install_deps.sh
  Dependencies in non-system prefixes: -DCMAKE_PREFIX_PATH=DIR, -DHDF5_ROOT=DIR,
  -DFFTW3_ROOT=DIR (or the environment variables of the same names).
HELP
  exit 1
fi
grep -E '^-- (h5decon|  )' "$log" || true
cmake --build "$build_dir" --parallel "$(nproc)"
