#!/usr/bin/env bash
# The edge shell's PSNR against the interior's, over several random scenes:
# `h5decon synth --seed S` then `h5decon quality` for S = 1..N, one line per seed
# with each variant's gap (interior minus shell, at its best iteration) and, with
# --crop, its edge loss (the same shell voxels deconvolved inside the uncropped
# field, minus at the edge). Ends with the median and range of each column.
# Usage: scripts/quality_seeds.sh PRESET SEEDS VARIANTS [quality options...]
#   e.g. scripts/quality_seeds.sh stack 8 plain,bertero --iterations 60
#        scripts/quality_seeds.sh small 8 plain,neumann,bertero --crop 12 12 12
# Environment: H5DECON (default build/src/h5decon).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${H5DECON:-$here/build/src/h5decon}
[ $# -ge 3 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
preset=$1 seeds=$2 variants=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for seed in $(seq "$seeds"); do
  "$bin" synth --preset "$preset" --seed "$seed" --output "$work/s.h5" --overwrite >/dev/null
  "$bin" quality --input "$work/s.h5" --variants "$variants" --threads 0 "$@" \
    >"$work/q$seed.txt" 2>/dev/null
done

# Summary rows look like "| name | ... | a / b (gap G) | ... | c / d (loss L) |".
/usr/bin/env python3 - "$work" "$seeds" "$variants" <<'PY'
import re, statistics, sys
work, seeds, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
rows = {v: {"gap": [], "loss": []} for v in variants}
for s in range(1, seeds + 1):
    text = open(f"{work}/q{s}.txt").read()
    line = [f"seed {s}:"]
    for v in variants:
        m = re.search(r"^\| " + re.escape(v) + r" \|(.*)$", text, re.M)
        if not m:
            sys.exit(f"seed {s}: no summary row for variant {v}")
        gap = float(re.search(r"\(gap (-?[0-9.]+)\)", m.group(1)).group(1))
        rows[v]["gap"].append(gap)
        loss = re.search(r"\(loss (-?[0-9.]+|nan)\)", m.group(1))
        item = f"{v} gap {gap:+.2f}"
        if loss:
            rows[v]["loss"].append(float(loss.group(1)))
            item += f" loss {float(loss.group(1)):+.2f}"
        line.append(item)
    print("  ".join(line))
for v in variants:
    for key in ("gap", "loss"):
        xs = rows[v][key]
        if xs:
            print(f"{v}: {key} (dB) median {statistics.median(xs):+.2f}, "
                  f"range {min(xs):+.2f} .. {max(xs):+.2f}, |{key}| <= 1 dB in "
                  f"{sum(abs(x) <= 1.0 for x in xs)} of {len(xs)}")
PY
