#!/usr/bin/env bash
# Installs the dependencies (as root), builds h5decon, writes the synthetic
# `small` phantom and deconvolves it under mpirun, then reports what it did:
# the output file, its provenance and the PSNR of input and result against the
# ground truth.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/build.sh"
bin=${H5DECON_BUILD_DIR:-$here/build}/src/h5decon
out=$here/out/demo
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks=${H5DECON_DEMO_RANKS:-2}

echo "== synthetic phantom"
"$bin" synth --preset small --output "$out/phantom.h5" --overwrite
echo "== deconvolution: mpirun -n $ranks h5decon run"
mpirun -n "$ranks" --oversubscribe "$bin" run \
  --input "$out/phantom.h5:/data" --psf "$out/phantom.h5:/psf" \
  --output "$out/deconvolved.h5" --iterations 30 --overwrite
echo "== result"
/usr/bin/python3 "$here/scripts/report_psnr.py" "$out/phantom.h5" "$out/deconvolved.h5"
echo "== preview: maximum projections of input (left) and result (right)"
"$bin" preview --input "$out/phantom.h5:/data" --result "$out/deconvolved.h5:/data" \
  --output "$out/preview.png"
echo "preview: $out/preview.png"
echo "== export for Fiji: BigDataViewer HDF5 + XML (Plugins > BigDataViewer > Open XML/HDF5)"
"$bin" export --input "$out/deconvolved.h5" --layout bdv --output "$out/deconvolved_bdv.h5" \
  --overwrite
