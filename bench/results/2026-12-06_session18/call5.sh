#!/usr/bin/env bash
# Session 18, call 5 (the session's last ~290 s of device time): issue 18's bar on whichever GPU
# comes (the bar names an H200): the full default hd128 job cold, exhaustive, both gates at
# their defaults; then FlashAttention's grid tuned and h2hs (call4.sh's first stages) for as long
# as the time lasts. Each stage's outputs are tarred as it ends, so a cut run still returns them.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/call5 && mkdir -p $W
bash bench/gpu_run.sh --out $W build sweep:128:exhaustive:exs:cold >"$OUT/exs_call.log" 2>&1
grep -E "rc |wall|not compiled" "$OUT/exs_call.log" | cut -c1-300
tar -czf "$OUT/exs.tgz" -C $W --exclude='*.db*' .
bash bench/gpu_run.sh --out $W tune:128:halving tune:64:halving tune:256:halving h2hs:1 compare \
    >"$OUT/grid.log" 2>&1
tail -3 $W/h2hs.md
tar -czf "$OUT/grid.tgz" -C $W --exclude='*.db*' .
