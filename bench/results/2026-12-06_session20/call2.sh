#!/usr/bin/env bash
# Issue 18 (~4 min, any Hopper GPU): the full default hd128 job cold, exhaustive, the gates at
# their defaults (stages + pingpong gated since 5ce9785), then with --stage-gate 0, same call:
# the stage gate's saving now that it holds pingpong tiles back too.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
nproc | tee -a "$OUT/gpu.txt"
W=/tmp/call2 && mkdir -p $W
bash bench/gpu_run.sh --out $W build sweep:128:exhaustive:exs:cold \
    "sweep:128:exhaustive:exu:cold:--stage-gate 0" >"$OUT/sweeps.log" 2>&1
grep -E "^=== |rc |wall|not compiled|compiled" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W .
