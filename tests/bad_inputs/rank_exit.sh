#!/usr/bin/env bash
# Runs one MPI rank's command and records what it did, for run_case.py:
#   rank_exit.sh DIR COMMAND [ARGS]...
# writes DIR/out.R (stdout and stderr) and DIR/rc.R (the exit code) for rank R,
# then replays the output and exits with the command's code.
dir=$1
shift
# Should mpiexec terminate the ranks, survive its SIGTERM long enough to record
# the code (the command itself keeps the default disposition).
trap ':' TERM
rank=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}
"$@" >"$dir/out.$rank" 2>&1
code=$?
echo "$code" >"$dir/rc.$rank"
cat "$dir/out.$rank"
exit "$code"
