#!/usr/bin/env bash
# Runs a command that must fail cleanly:
#   expect_error.sh REGEX EXIT_CODE [--keep FILE]... -- COMMAND [ARGS]...
# Passes when COMMAND exits with EXIT_CODE (non-zero), its combined stdout and
# stderr match REGEX (grep -E), and every --keep FILE is byte-for-byte unchanged.
# With EXIT_CODE 0 it checks a command that must succeed (and still the --keep files).
set -uo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 REGEX EXIT_CODE [--keep FILE]... -- COMMAND [ARGS]..." >&2
  exit 2
fi
regex=$1
expected=$2
shift 2
keep=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case $1 in
    --keep) keep+=("$2"); shift 2 ;;
    *) echo "expect_error.sh: unexpected argument '$1' (missing --?)" >&2; exit 2 ;;
  esac
done
[ "${1:-}" = "--" ] || { echo "expect_error.sh: missing -- before the command" >&2; exit 2; }
shift

checksums() {
  for f in "${keep[@]+"${keep[@]}"}"; do
    if [ -e "$f" ]; then sha256sum "$f"; else echo "absent $f"; fi
  done
}

before=$(checksums)
output=$("$@" 2>&1)
code=$?
after=$(checksums)

echo "\$ $*"
echo "$output"
echo "--- exit code $code (expected $expected)"
status=0
if [ "$code" -ne "$expected" ]; then
  echo "FAIL: exit code $code, expected $expected"
  status=1
fi
if ! grep -Eq -- "$regex" <<<"$output"; then
  echo "FAIL: output does not match /$regex/"
  status=1
fi
if [ "$before" != "$after" ]; then
  echo "FAIL: a --keep file changed:"
  diff <(echo "$before") <(echo "$after")
  status=1
fi
[ $status -eq 0 ] && echo "PASS"
exit $status
