#!/usr/bin/env bash
# The README's "Install on a cluster" plain-CMake route, as an unprivileged user:
# a clean clone is configured, built and installed into a prefix with
#   cmake -S src -B build -DH5DECON_BUILD_TESTS=OFF
#   cmake --build build --parallel N
#   cmake --install build --prefix PREFIX
# then the installed h5decon prints its versions and runs the demo (a phantom
# deconvolved under mpirun on 2 ranks), and nothing may have been written outside
# the work folder (build, prefix, home). As root the steps run as a throwaway user
# "h5decon-build", and "outside" means any file that user owns elsewhere; as
# another user, files of that user newer than the start in /tmp, /var/tmp, /dev/shm
# and the real home.
# Usage: install_as_user.sh REPOSITORY_ROOT WORK_DIR
set -euo pipefail
src=$1
work=$2
# As root the user must reach the work folder: /tmp, not a folder under /root.
[ "$(id -u)" -eq 0 ] && work=/tmp/h5decon-install-as-user
rm -rf "$work"
mkdir -p "$work/home"
stamp=$work/stamp
touch "$stamp"
git clone -q --no-hardlinks "$src" "$work/src"
user=$(id -un)
run_as() { bash -c "$1"; }
if [ "$(id -u)" -eq 0 ]; then
  user=h5decon-build
  id "$user" >/dev/null 2>&1 || useradd --no-create-home --home-dir "$work/home" \
    --shell /bin/bash "$user"
  chown -R "$user" "$work"
  run_as() { runuser -u "$user" -- env -i PATH="$PATH" HOME="$work/home" bash -c "$1"; }
fi
echo "install_as_user: building and installing as '$user' (uid $(id -u "$user"))"
run_as "set -euo pipefail; cd '$work'
  cmake -S src -B build -DCMAKE_BUILD_TYPE=Release -DH5DECON_BUILD_TESTS=OFF \
        -DH5DECON_CUDA=OFF > configure.log 2>&1 || { cat configure.log; exit 1; }
  grep -E '^-- (h5decon|  )' configure.log
  cmake --build build --parallel $(nproc) > build.log 2>&1 || { tail -50 build.log; exit 1; }
  cmake --install build --prefix '$work/prefix' > install.log
  echo installed: \$(cd prefix && find . -type f | sort | tr '\n' ' ')"
echo "install_as_user: the installed binary"
run_as "set -euo pipefail; cd '$work/home'
  '$work/prefix/bin/h5decon' --version
  '$work/prefix/bin/h5decon' synth --preset small --output phantom.h5
  mpirun -n 2 --oversubscribe '$work/prefix/bin/h5decon' run --input phantom.h5:/data \
    --psf phantom.h5:/psf --output result.h5 --iterations 10 --fft-planner estimate \
    --progress-interval 60
  test -f result.h5
  grep -q \"H5DECON=\\\${H5DECON:-$work/prefix/bin/h5decon}\" \
    '$work/prefix/share/h5decon/slurm/job_array.sbatch'
  test -f '$work/prefix/share/h5decon/configs/example_run.ini'
  test -f '$work/prefix/share/doc/h5decon/README.md'"
status=0
if [ "$user" = h5decon-build ]; then
  stray=$(find / -xdev \( -path /proc -o -path "$work" \) -prune -o -user "$user" -print \
    2>/dev/null; find /tmp /var/tmp /dev/shm \( -path "$work" \) -prune -o -user "$user" \
    -print 2>/dev/null)
else
  stray=$(find /tmp /var/tmp /dev/shm "$HOME" \( -path "$work" \) -prune -o -user "$user" \
    -newer "$stamp" -type f -print 2>/dev/null | grep -v "^$work" || true)
fi
if [ -n "$stray" ]; then
  echo "FAIL: written outside $work:"; echo "$stray" | head -20; status=1
else
  echo "install_as_user: nothing written outside $work"
fi
[ $status -eq 0 ] && echo "PASS: built, installed and ran as '$user' from a prefix"
[ "$(id -u)" -eq 0 ] && rm -rf "$work"
exit $status
