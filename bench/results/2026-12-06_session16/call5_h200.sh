#!/usr/bin/env bash
# Session 16, the H200 call for issue 18's exhaustive bar (<= 120 s cold, both families, the
# full default hd128 job) with the family gate (the default), when little device time is left:
# the gated run alone (session 15 measured it beside --family-gate 0 on an H100).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build info sweep:128:exhaustive:exg:cold
echo "exg: $(grep -c ' fwd_sm90a_' "$OUT/exg.txt") sm90a winners, $(grep -c ' fwd_sm80_' "$OUT/exg.txt") sm80 winners"
