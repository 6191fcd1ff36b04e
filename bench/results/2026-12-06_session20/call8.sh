#!/usr/bin/env bash
# Issue 14 (~5 min): call 7 again (a replication on whatever host comes): the grid tuned, then
# fa-tune inside peers.py's process (h2hp, 3 rounds, one process each, every fa-tune output
# checked), then h2hs (fa-tune bench and the peers alternating shape by shape).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/call8 && mkdir -p $W
bash bench/gpu_run.sh --out $W build info tune:256:halving tune:128:halving tune:64:halving \
    h2hp:3 h2hs:1 >"$OUT/grid.log" 2>&1
grep -E "^=== |rc |wall|round|geomean|bar|FAIL" "$OUT/grid.log" | cut -c1-250
tar -czf "$OUT/grid.tgz" -C $W .
cat $W/h2hp.md
