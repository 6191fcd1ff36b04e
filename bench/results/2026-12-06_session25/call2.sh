#!/usr/bin/env bash
# Session 25, call 2 (~3.5 min, H200 only; on any other GPU it stops at once): issue 14's
# replication without the shape-by-shape stage: session 20's call8.sh less h2hs (the grid tuned
# at head dims 256, 128 and 64 with halving, then fa-tune inside peers.py's process, 3 rounds).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu" | tee "$OUT/gpu.txt"
case $gpu in *H200*) ;; *) echo "not an H200: nothing run"; exit 0 ;; esac
W=/tmp/s25c2 && mkdir -p $W
bash bench/gpu_run.sh --out $W build info tune:256:halving tune:128:halving tune:64:halving \
    h2hp:3 >"$OUT/grid.log" 2>&1
grep -E "^=== |rc |wall|round|geomean|bar|FAIL" "$OUT/grid.log" | cut -c1-250
tar -czf "$OUT/grid.tgz" -C $W .
cat $W/h2hp.md
