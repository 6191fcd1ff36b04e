#!/usr/bin/env bash
# Issue 16 (~8 min, any Hopper GPU): the decode shapes tuned through the product, the peers
# (SDPA cuDNN and flash) and the device copy in the same call (bench/gpu_run.sh decode).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/call3 && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode >"$OUT/decode.log" 2>&1
tail -3 "$OUT/decode.log"
tar -czf "$OUT/decode.tgz" -C $W .
cat $W/decode.md
