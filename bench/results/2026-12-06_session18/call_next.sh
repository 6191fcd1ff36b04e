#!/usr/bin/env bash
# For the next session, on an H200 (~8 min; the bars of issues 14 and 18 name one): (1) the full
# default hd128 job cold, exhaustive, both gates at their defaults (issue 18: <= 120 s), then the
# same with --stage-gate 0 (the gate's saving on that host); (2) FlashAttention's grid with v13
# tuned and the head to head three ways (tuning run, h2hb, h2hs: session 17's protocols.py).
# Each part is tarred as it ends, so a run cut short still returns what it finished.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/call_next && mkdir -p $W
bash bench/gpu_run.sh --out $W build sweep:128:exhaustive:exs:cold \
    "sweep:128:exhaustive:exu:cold:--stage-gate 0" >"$OUT/sweeps.log" 2>&1
grep -E "^=== |rc |wall|not compiled" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
bash bench/gpu_run.sh --out $W info tune:256:halving tune:128:halving tune:64:halving \
    h2hs:2 h2hb:2 compare >"$OUT/grid.log" 2>&1
python3 bench/results/2026-12-06_session17/protocols.py $W h2hs | tee "$OUT/protocols.md" | tail -3
tar -czf "$OUT/grid.tgz" -C $W --exclude='*.db*' .
