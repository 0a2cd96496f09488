#!/usr/bin/env bash
# A real SLURM run of the job-array example on a one-node cluster started here.
#
# Installs Debian's slurm-wlm and munge when missing, starts munged, slurmctld and
# slurmd on localhost (private ports, key, state, spool and logs in a temporary
# folder; no systemd, no cgroups), writes the `stack` phantom (2 channels x 3 time
# points), submits job_array.sbatch as a 3-task array and merge.sbatch after it
# through submit_array_and_merge.sh (the scripts users submit, not copies), waits for
# both, runs the same deconvolution once without SLURM and checks that the merged
# output equals it bit for bit. Prints "PASS" with the times, or "FAIL: reason".
# Whatever happens, the jobs are cancelled, the daemons stopped and the folder removed
# (KEEP=1 keeps it). No cgroups (proctrack/linuxproc, task/none): containers rarely
# give slurmd a cgroup hierarchy of its own.
#
# Usage (as root): scripts/slurm/local_cluster_test.sh [path/to/h5decon]
# Environment: PYTHON (with numpy and h5py; /usr/bin/python3), TIMEOUT_S for the jobs (240),
# ITERATIONS (10), KEEP=1, TMPDIR.
# Prints "skipped: <reason>" and exits 0 when this machine cannot run the daemons.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
H5DECON=$(realpath "${1:-h5decon}" 2>/dev/null || command -v "${1:-h5decon}" || true)
PYTHON=${PYTHON:-/usr/bin/python3}   # Debian's, with python3-h5py (scripts/install_deps.sh)
TIMEOUT_S=${TIMEOUT_S:-240}
ITERATIONS=${ITERATIONS:-10}
SHARDS=3
# What the array, the merge and the plain run share: the estimate planner gives the
# same FFT plans (hence bits) in every process.
RUN_OPTIONS="--backend cpu --fft-planner estimate"

die() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ -x "$H5DECON" ] || die "no h5decon binary at '${1:-h5decon}' (pass its path)"
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: not root (slurmd and munged of a private cluster need root here)"
  exit 0
fi
if ! command -v slurmd >/dev/null && ! command -v apt-get >/dev/null; then
  echo "skipped: no slurmd and no apt-get to install slurm-wlm and munge (not Debian)"
  exit 0
fi

# ---- a private cluster: packages, configuration, daemons ------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/h5decon-slurm.XXXXXX")
chmod 755 "$work"
mkdir -p "$work"/{etc,state,spool,tmp,log,run,munge,jobs,data}
pids=()          # daemons, stopped in reverse order
jobs_submitted=()
# Nothing from an enclosing allocation reaches the jobs (they get --export=ALL).
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SRUN|SALLOC)_' || true)
export SLURM_CONF=$work/etc/slurm.conf

show_logs() {
  for f in "$work"/log/*.log "$work"/jobs/*.log; do
    [ -s "$f" ] || continue
    echo "---- ${f#"$work"/} (last 30 lines)"
    tail -n 30 "$f"
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ ${#jobs_submitted[@]} -gt 0 ] && [ ${#pids[@]} -ge 3 ]; then
    scancel "${jobs_submitted[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  [ "$rc" -ne 0 ] && show_logs >&2
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_packages() {   # slurm-wlm and munge from Debian, when missing
  local missing=() p
  for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$work/log/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed (log above)"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_config() {
  local host=$1 node_line ctld_port slurmd_port first_job_id
  node_line=$(slurmd -C | head -n 1)   # NodeName=host CPUs=... RealMemory=...
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  [ "$ctld_port" != "$slurmd_port" ] || slurmd_port=$(free_port)
  # Private TmpFS (srun --mpi=pmix's spmix_appdir_*) and job ids that differ from a
  # second such cluster's on this machine.
  first_job_id=$((1000 + RANDOM * 30))
  cat >"$SLURM_CONF" <<EOF
ClusterName=h5decon$$
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
TmpFS=$work/tmp
FirstJobId=$first_job_id
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
PropagateResourceLimits=NONE
DependencyParameters=kill_invalid_depend
ReturnToService=2
MinJobAge=600
SlurmdTimeout=60
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_daemons() {
  local host=$1
  dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
  chmod 700 "$work/munge" && chmod 400 "$work/munge/munge.key"
  munged --foreground --force --socket="$work/munge/munge.socket" \
    --key-file="$work/munge/munge.key" --pid-file="$work/run/munged.pid" \
    --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.1; done
  [ -S "$work/munge/munge.socket" ] || die "munged did not open its socket"
  slurmctld -D -c -f "$SLURM_CONF" >/dev/null 2>&1 &
  pids+=($!)
  slurmd -D -f "$SLURM_CONF" -N "$host" >/dev/null 2>&1 &
  pids+=($!)
}

wait_node_idle() {
  local host=$1 state=
  for _ in $(seq 300); do
    state=$(sinfo -h -N -n "$host" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && return 0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || die "a SLURM daemon (pid $p) exited"; done
    sleep 0.2
  done
  die "node $host not idle after 60 s (state '${state:-none}')"
}

t_install=$(now)
install_packages
install_s=$(since "$t_install")

t_cluster=$(now)
host=$(hostname -s)
write_config "$host"
start_daemons "$host"
wait_node_idle "$host"
cluster_s=$(since "$t_cluster")
echo "cluster: node $host idle after ${cluster_s} s ($(sinfo -h -N -o '%c CPUs, %m MB'))"

# ---- the job array and its merge -------------------------------------------------
data=$work/data
"$H5DECON" synth --preset stack --output "$data/stack.h5" --seed 3 >/dev/null

wait_jobs() {
  local deadline=$((SECONDS + TIMEOUT_S))
  while [ -n "$(squeue -h -o %i)" ]; do
    [ $SECONDS -lt $deadline ] || { squeue >&2; die "jobs still queued or running after ${TIMEOUT_S} s"; }
    sleep 1
  done
}

job_states() {   # one "jobid state exitcode" line per job (array tasks each)
  scontrol -o show job "$1" | sed -E 's/.*JobId=([0-9]+) .*ArrayTaskId=([0-9]+).*JobState=([A-Z_]+).*ExitCode=([0-9:]+).*/\1_\2 \3 \4/; t; s/.*JobId=([0-9]+) .*JobState=([A-Z_]+).*ExitCode=([0-9:]+).*/\1 \2 \3/'
}

# The command line overrides the scripts' #SBATCH lines made for GPU nodes.
t_jobs=$(now)
submitted=$(cd "$work/jobs" && H5DECON=$H5DECON INPUT=$data/stack.h5:/data PSF=$data/stack.h5:/psf \
  OUTPUT=$data/array.h5 SHARDS=$SHARDS ITERATIONS=$ITERATIONS RUN_OPTIONS=$RUN_OPTIONS \
  "$here/submit_array_and_merge.sh" --cpus-per-task=1 --gpus-per-task=0)
echo "$submitted"
array_id=$(sed -nE 's/^array job ([0-9]+):.*/\1/p' <<<"$submitted")
merge_id=$(sed -nE 's/^merge job ([0-9]+) .*/\1/p' <<<"$submitted")
if [ -z "$array_id" ] || [ -z "$merge_id" ]; then die "could not read the job ids from the submission"; fi
jobs_submitted=("$array_id" "$merge_id")
wait_jobs
jobs_s=$(since "$t_jobs")
states=$(job_states "$array_id"; job_states "$merge_id")
echo "$states"
bad=$(awk '$2 != "COMPLETED" || $3 != "0:0"' <<<"$states" | paste -sd ';' -)
[ -z "$bad" ] || die "jobs that did not complete: $bad"
[ "$(wc -l <<<"$states")" -eq $((SHARDS + 1)) ] || die "expected $SHARDS array tasks and the merge"

# ---- one plain run and the comparison ---------------------------------------------
t_plain=$(now)
# shellcheck disable=SC2086  # RUN_OPTIONS is a list of words
OMP_NUM_THREADS=1 "$H5DECON" run --input "$data/stack.h5:/data" --psf "$data/stack.h5:/psf" \
  --output "$data/plain.h5" --iterations "$ITERATIONS" --threads 1 --shard off $RUN_OPTIONS \
  >"$work/log/plain.log" 2>&1 || die "the plain run failed (see $work/log/plain.log)"
plain_s=$(since "$t_plain")

"$PYTHON" - "$data/array.h5" "$data/plain.h5" "$SHARDS" <<'EOF' || die "merged output differs from the plain run"
import sys, h5py, numpy as np
merged_path, plain_path, shards = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(merged_path, "r") as m, h5py.File(plain_path, "r") as p:
    a, b = m["data"], p["data"]
    assert a.is_virtual, "the merged dataset is not a virtual dataset"
    files = {s.file_name for s in a.virtual_sources()}
    assert len(files) == shards, f"the merged dataset maps {len(files)} files, not {shards}"
    assert a.shape == b.shape and a.dtype == b.dtype, f"{a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    x, y = a[...], b[...]
    differ = np.count_nonzero(x.view(np.uint32) != y.view(np.uint32))
    assert differ == 0, f"{differ} of {x.size} voxels differ"
    print(f"merged {a.shape} from {shards} shards equals the plain run bit for bit")
EOF
echo "PASS: SLURM job array ($SHARDS tasks) + merge = plain run; install ${install_s} s," \
     "cluster start ${cluster_s} s, array+merge ${jobs_s} s, plain run ${plain_s} s"
