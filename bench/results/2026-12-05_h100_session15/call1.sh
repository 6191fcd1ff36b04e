#!/usr/bin/env bash
# Session 15, call 1 as planned: call_short.sh (issue 18's exhaustive bar, cold, with the family
# gate and without it in the same call), then, if CAP seconds allow, FlashAttention's grid with
# the peers (issue 14's state on this device). The device came too late for it: the session ran
# call_short.sh and the grid in two short calls instead (README.md).
set -uo pipefail
cd "$(dirname "$0")/../../.."
CAP=${CAP:-560}
t0=$(date +%s)
bash bench/results/2026-12-05_h100_session15/call_short.sh
left=$((CAP - ($(date +%s) - t0)))
echo "seconds left of CAP: $left"
if [ "$left" -gt 200 ]; then
    bash bench/gpu_run.sh tune:256:halving tune:128:halving tune:64:halving peers:64,128,256 compare
fi
