#!/usr/bin/env bash
# Issue 14 (~6 min): FlashAttention's grid tuned (halving), then fa-tune timed inside
# peers.py's process through a header emitted from that database (h2hp, 2 rounds, one process
# each, every fa-tune output checked), then h2hb (one fa-tune bench process per shape) and
# compare (the tuning run's own timings), all against the peers of the same call.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/call7 && mkdir -p $W
bash bench/gpu_run.sh --out $W build info tune:256:halving tune:128:halving tune:64:halving \
    h2hp:2 h2hb:1 compare >"$OUT/grid.log" 2>&1
grep -E "^=== |rc |wall|round|geomean|bar|FAIL" "$OUT/grid.log" | cut -c1-250
tar -czf "$OUT/grid.tgz" -C $W .
cat $W/h2hp.md
