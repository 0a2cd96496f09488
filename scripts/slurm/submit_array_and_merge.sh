#!/bin/bash
# Submits job_array.sbatch, then merge.sbatch to run once every array task ended
# well (afterok). The variables are passed to both jobs.
# Usage: INPUT=in.h5:/data PSF=psf.h5:/psf OUTPUT=out.h5 [SHARDS=8] [COPY=1] \
#        scripts/slurm/submit_array_and_merge.sh [extra sbatch options]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${INPUT:?set INPUT=file.h5:/data}" "${PSF:?set PSF=file.h5:/psf}" "${OUTPUT:?set OUTPUT=out.h5}"
SHARDS=${SHARDS:-8}
export INPUT PSF OUTPUT COPY="${COPY:-0}"
array=$(sbatch --parsable --export=ALL --array="0-$((SHARDS - 1))" "$@" "$here/job_array.sbatch")
array=${array%%;*}   # "jobid;cluster" on federated clusters
echo "array job $array: $SHARDS shards of $OUTPUT"
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$@" "$here/merge.sbatch")
echo "merge job ${merge%%;*} runs after every task of $array succeeded"
