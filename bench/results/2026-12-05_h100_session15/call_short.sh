#!/usr/bin/env bash
# Session 15, the short call (little device time left): issue 18's exhaustive bar, cold, with
# the family gate and without it (the baseline) in the same call.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build info \
    sweep:128:exhaustive:exg:cold sweep:128:exhaustive:exf:cold:--family-gate=0
for name in exg exf; do # the summary lists each problem's winner
    echo "$name: $(grep -c ' fwd_sm90a_' "$OUT/$name.txt") sm90a winners," \
        "$(grep -c ' fwd_sm80_' "$OUT/$name.txt") sm80 winners"
done
