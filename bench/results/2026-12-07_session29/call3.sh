#!/usr/bin/env bash
# Session 29, call 3, for an H200 only (~8.5 min; on any other GPU it stops at once: issue 14's
# bars and issue 18's are stated for an H200 and both were measured on an H100 since session 17).
# Issue 14's replication first (session 25's call2.sh: the grid tuned at head dims 256, 128, 64
# with halving, then fa-tune inside peers.py's process beside SDPA cuDNN and flash, 3 rounds),
# then issue 18's sweeps (session 23's call4.sh: the full default hd128 job exhaustive cold,
# halving cold and warm, halving's winners re-timed beside exhaustive's).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in *H200*) ;; *) echo "not an H200: nothing run"; exit 0 ;; esac
mkdir -p "$OUT/i14" "$OUT/i18"
OUT="$OUT/i14" timeout 270 bash bench/results/2026-12-06_session25/call2.sh
echo "issue 14 rc=$?"
OUT="$OUT/i18" timeout $((580 - SECONDS)) bash bench/results/2026-12-06_session23/call4.sh
echo "issue 18 rc=$?"
