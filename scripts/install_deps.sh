#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of h5decon from Debian 12's
# packages. Idempotent: packages already present are not reinstalled and the
# package index is refreshed only when something is missing. Run as root.
# H5DECON_DEPS=build installs only what building and running need (the
# container images); the default, all, adds the test and benchmark tools.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools
  libfftw3-dev libfftw3-mpi-dev
  libboost-program-options-dev
  libgtest-dev zlib1g-dev libtiff-dev
)
case ${H5DECON_DEPS:-all} in
  build) ;;
  all)
    packages+=(
      python3 python3-numpy python3-h5py python3-skimage python3-tifffile
      slurm-wlm munge   # tests/slurm: a one-node SLURM cluster on localhost
    )
    ;;
  *)
    echo "install_deps: H5DECON_DEPS must be 'build' or 'all', not '$H5DECON_DEPS'" >&2
    exit 2
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages: ${missing[*]}" >&2
  echo "install_deps: run this script as root (or install them yourself)" >&2
  exit 1
fi

echo "install_deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install_deps: done"
