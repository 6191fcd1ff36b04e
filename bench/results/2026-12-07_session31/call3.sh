#!/usr/bin/env bash
# Session 31, call 3, with about 570 s of device time left: issue 14's replication on an H200
# alone (session 25's call2.sh, ~3.5 min: FlashAttention's grid tuned at head dims 256, 128, 64
# with halving, then fa-tune inside peers.py's process beside SDPA cuDNN and flash, 3 rounds).
# On any other GPU it stops at once: issue 14's bars are for an H200, and every other GPU
# measurement this session wanted was made in calls 1 and 2.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
OUT=$OUT timeout 420 bash bench/results/2026-12-06_session25/call2.sh
echo "issue 14 rc=$?"
