#!/usr/bin/env bash
# The container recipes (docker/Dockerfile, docker/h5decon.def) are thin wrappers
# over the tested scripts: every scripts/ path they name exists and is executable,
# both build from the same base image, and both build the CUDA backend.
# Usage: container_recipes_test.sh REPOSITORY_ROOT
set -euo pipefail
root=$1
status=0
for recipe in docker/Dockerfile docker/h5decon.def; do
  [ -f "$root/$recipe" ] || { echo "missing $recipe"; exit 1; }
  scripts=$(grep -oE 'scripts/[A-Za-z0-9_./-]+' "$root/$recipe" | sort -u)
  [ -n "$scripts" ] || { echo "$recipe names no script"; status=1; }
  for s in $scripts; do
    if [ -x "$root/$s" ]; then echo "$recipe: $s ok"; else echo "$recipe: $s missing"; status=1; fi
  done
  grep -q 'scripts/build.sh' "$root/$recipe" || { echo "$recipe: does not run scripts/build.sh"; status=1; }
  grep -q 'H5DECON_CUDA=ON' "$root/$recipe" || { echo "$recipe: no CUDA backend"; status=1; }
done
docker_base=$(grep -oE 'nvidia/cuda:[A-Za-z0-9._-]+' "$root/docker/Dockerfile" | head -1)
def_base=$(grep -oE 'nvidia/cuda:[A-Za-z0-9._-]+' "$root/docker/h5decon.def" | head -1)
if [ "$docker_base" != "$def_base" ]; then
  echo "different bases: Dockerfile $docker_base, h5decon.def $def_base"; status=1
fi
[ $status -eq 0 ] && echo "container recipes: ok ($docker_base)"
exit $status
