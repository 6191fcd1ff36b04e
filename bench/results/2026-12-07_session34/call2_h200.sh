#!/usr/bin/env bash
# Session 34, call 2: H200 only (~9 min; on any other GPU it stops at once). Issues 18 and 16
# on the GPU both issues' bars name, where neither has been measured since session 17:
#  1. issue 18 (session 23's call4.sh): the full default hd128 job with both families,
#     exhaustive from a cold cache, halving cold and warm, halving's winners re-timed beside
#     exhaustive's;
#  2. issue 16 (session 22's call_next_layout.sh): the decode shapes tuned on bshd and on bhsd
#     caches, fa-tune and SDPA cuDNN/flash in one process on each layout, the copy bandwidth
#     measured in the same call.
# Each part's files are packed into one archive ($OUT keeps at most 8 files).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu" | tee "$OUT/gpu.txt"
case $gpu in *H200*) ;; *) echo "not an H200: nothing run"; exit 0 ;; esac
mkdir -p /tmp/i18 /tmp/i16
OUT=/tmp/i18 timeout 330 bash bench/results/2026-12-06_session23/call4.sh
echo "issue 18 rc=$? (${SECONDS}s)"
tar -czf "$OUT/i18.tgz" -C /tmp/i18 .
OUT=/tmp/i16 timeout $((590 - SECONDS)) bash bench/results/2026-12-06_session22/call_next_layout.sh
echo "issue 16 rc=$? (${SECONDS}s)"
tar -czf "$OUT/i16.tgz" -C /tmp/i16 .
