#!/usr/bin/env bash
# Session 32: issues 14 and 18 on an H200 only (session 29's call3.sh, ~8.5 min: issue 14's
# replication, then issue 18's sweeps). Both issues' bars are stated for an H200 and none has
# come since session 17; on any other GPU this stops at once (the H100 numbers of both exist).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu" | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT=$OUT bash bench/results/2026-12-07_session29/call3.sh ;;
*) echo "not an H200: nothing run" ;;
esac
