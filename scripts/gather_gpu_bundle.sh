#!/usr/bin/env bash
# Gathers GPU programs and the shared libraries they need into one folder that
# can be carried to a GPU machine lacking our Debian libraries (FFTW, gomp,
# Boost, OpenMPI, HDF5, cudart, cuFFT...), with a `run` wrapper that sets
# LD_LIBRARY_PATH (and OpenMPI's plugin path, for h5decon as a single rank). Base-system libraries (glibc, libstdc++, libgcc_s) and the
# NVIDIA driver (libcuda, libnvidia-*) stay on the target: they must match it.
# h5decon itself also gets its MPI and HDF5 libraries and OpenMPI's plugins, so
# it runs as one rank without mpiexec; for several ranks on the target's one node the
# bundle carries OpenMPI's mpirun (orterun, orted) and PMIx's plugins too: `run mpirun
# -n 2 h5decon ...` (the `run` wrapper puts the bundle's programs on PATH).
#
# usage: scripts/gather_gpu_bundle.sh [-b BUILD_DIR] [-o OUT_DIR] [--with-libstdcxx]
#                                     [--no-cuda-libs] [BINARY...]
#   -b BUILD_DIR       where to find the default binaries (default: build-cuda)
#   -o OUT_DIR         the bundle (default: gpu_bundle)
#   --with-libstdcxx   also bundle libstdc++ and libgcc_s, for a target older than this machine
#   --no-cuda-libs     leave out libcudart/libcufft (~270 MB) and use the target's; they must
#                      come from the same CUDA major version as the build's (see the last line)
#   BINARY...          programs to bundle (default: test_cuda_backend, h5decon_cuda_bench,
#                      and h5decon if built)
# then on the GPU machine:
#   gpu_bundle/run test_cuda_backend
#   gpu_bundle/run h5decon_cuda_bench --compare-cupy
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-cuda"
out="$root/gpu_bundle"
with_libstdcxx=0
cuda_libs=1
binaries=()
while [ $# -gt 0 ]; do
  case "$1" in
    -b) build=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    --with-libstdcxx) with_libstdcxx=1; shift ;;
    --no-cuda-libs) cuda_libs=0; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) binaries+=("$1"); shift ;;
  esac
done

if [ ${#binaries[@]} -eq 0 ]; then
  for b in tests/backend/test_cuda_backend src/h5decon_cuda_bench; do
    [ -x "$build/$b" ] || { echo "gather_gpu_bundle: $build/$b is not built" >&2; exit 1; }
    binaries+=("$build/$b")
  done
  [ -x "$build/src/h5decon" ] && binaries+=("$build/src/h5decon")
fi

# Libraries that belong to the target system: the C runtime, and the driver.
# Whole names up to ".so": "libc" must not catch libcudart or libcufft.
system='linux-vdso|ld-linux-x86-64|ld-linux-aarch64|libc|libm|libdl|libpthread|librt|libutil|libresolv|libcuda'
[ "$with_libstdcxx" = 1 ] || system="$system|libstdc\\+\\+|libgcc_s"
[ "$cuda_libs" = 1 ] || system="$system|libcudart|libcufft"
base="^($system)\\.so|^libnvidia-"

mkdir -p "$out/bin" "$out/lib"
for bin in "${binaries[@]}"; do
  [ -x "$bin" ] || { echo "gather_gpu_bundle: $bin is not an executable" >&2; exit 1; }
  cp -L "$bin" "$out/bin/"
  missing=$(ldd "$bin" | awk '/not found/ {print $1}')
  [ -z "$missing" ] || { echo "gather_gpu_bundle: $bin: missing here: $missing" >&2; exit 1; }
  # ldd lists the whole dependency closure: "name => /path (address)".
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
    if echo "$name" | grep -Eq "$base"; then continue; fi
    [ -e "$out/lib/$name" ] || cp -L "$path" "$out/lib/$name"
  done
done
cp "$root/scripts/bench_cupy_rl.py" "$out/bin/"  # h5decon_cuda_bench looks beside itself

# h5decon runs without mpiexec on the target (an MPI singleton) only with OpenMPI's
# plugins (dlopen'd from its install prefix) and their libraries: ~15 MB.
mpi_plugins=$(ls -d /usr/lib/*-linux-gnu/openmpi/lib/openmpi3 2>/dev/null | head -1)
if [ -x "$out/bin/h5decon" ] && [ -n "$mpi_plugins" ]; then
  mkdir -p "$out/lib/openmpi3" "$out/share/openmpi"
  cp -L "$mpi_plugins"/*.so "$out/lib/openmpi3/"
  cp /usr/share/openmpi/help-*.txt "$out/share/openmpi/" 2>/dev/null || true
  # mpirun for several ranks on one node; PMIx (its server in mpirun) dlopens plugins.
  for prog in orterun orted; do
    [ -x "/usr/bin/$prog" ] && cp -L "/usr/bin/$prog" "$out/bin/$prog"
  done
  [ -x "$out/bin/orterun" ] && ln -sf orterun "$out/bin/mpirun"
  pmix_plugins=$(ls -d /usr/lib/*-linux-gnu/pmix2/lib/pmix 2>/dev/null | head -1)
  if [ -n "$pmix_plugins" ]; then
    mkdir -p "$out/lib/pmix"
    cp -L "$pmix_plugins"/*.so "$out/lib/pmix/"
    cp /usr/share/pmix/help-*.txt "$out/share/openmpi/" 2>/dev/null || true
  fi
  for extra in "$out/bin/orterun" "$out/bin/orted" "$out"/lib/pmix/*.so; do
    [ -e "$extra" ] || continue
    ldd "$extra" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
      if echo "$name" | grep -Eq "$base"; then continue; fi
      [ -e "$out/lib/$name" ] || cp -L "$path" "$out/lib/$name"
    done
  done
  for plugin in "$out"/lib/openmpi3/*.so; do
    ldd "$plugin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
      if echo "$name" | grep -Eq "$base"; then continue; fi
      [ -e "$out/lib/$name" ] || cp -L "$path" "$out/lib/$name"
    done
  done
fi

cat > "$out/run" <<'EOF'
#!/bin/sh
# Runs a bundled program with the bundled libraries: run PROGRAM [ARGS...]
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 PROGRAM [ARGS...]; programs: $(ls "$here/bin" | tr '\n' ' ')" >&2; exit 2; }
prog=$1
shift
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$here/bin:$PATH"  # `run mpirun -n 2 h5decon ...` finds both here
if [ -d "$here/lib/openmpi3" ]; then
  # OpenMPI's and PMIx's plugins and help texts from the bundle, not from their
  # install prefixes.
  export OMPI_MCA_mca_base_component_path="$here/lib/openmpi3"
  export OPAL_PKGDATADIR="$here/share/openmpi"
  [ -d "$here/lib/pmix" ] && export PMIX_MCA_mca_base_component_path="$here/lib/pmix"
  # Not under mpirun: one rank that starts no helper daemon.
  [ "$prog" = mpirun ] || [ -n "${OMPI_COMM_WORLD_SIZE:-}" ] ||
    export OMPI_MCA_ess_singleton_isolated=1
fi
exec "$here/bin/$prog" "$@"
EOF
chmod +x "$out/run"

echo "gpu bundle: $out ($(du -sh "$out" | cut -f1))"
echo "  programs : $(ls "$out/bin" | tr '\n' ' ')"
echo "  libraries: $(ls "$out/lib" | tr '\n' ' ')"
cuda_major=$(ldd "${binaries[0]}" | sed -n 's/.*libcudart\.so\.\([0-9]*\).*/\1/p' | head -1)
echo "  needs on the target: an NVIDIA driver for CUDA ${cuda_major:-?} or newer"
[ "$cuda_libs" = 1 ] || echo "  and CUDA ${cuda_major:-?}'s libcudart/libcufft (ldd: $(ldd "${binaries[0]}" | grep -oE 'lib(cudart|cufft)\.so\.[0-9]+' | sort -u | tr '\n' ' '))"
