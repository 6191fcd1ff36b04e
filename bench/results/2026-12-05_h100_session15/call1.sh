#!/usr/bin/env bash
# Session 15, call 1: issue 18's exhaustive bar with the family gate (main d62132c), the
# ungated run as the baseline in the same call, then, if CAP seconds allow, FlashAttention's
# grid with the peers (issue 14's state on this device).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
CAP=${CAP:-560}
t0=$(date +%s)
bash bench/gpu_run.sh build info \
    sweep:128:exhaustive:exg:cold sweep:128:exhaustive:exf:cold:--family-gate=0
for name in exg exf; do # the summary lists each problem's winner
    echo "$name: $(grep -c ' fwd_sm90a_' "$OUT/$name.txt") sm90a winners," \
        "$(grep -c ' fwd_sm80_' "$OUT/$name.txt") sm80 winners"
done
left=$((CAP - ($(date +%s) - t0)))
echo "seconds left of CAP: $left"
if [ "$left" -gt 200 ]; then
    bash bench/gpu_run.sh tune:256:halving tune:128:halving tune:64:halving peers:64,128,256 compare
fi
