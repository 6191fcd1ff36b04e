#!/usr/bin/env bash
# Session 16, call 1: issue 18's exhaustive bar, cold, with the family gate (exg) and without it
# (exf) in the same call, then both runs' winners re-timed side by side (recheck_exg_exf).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build info \
    sweep:128:exhaustive:exg:cold sweep:128:exhaustive:exf:cold:--family-gate=0 \
    recheck:128:exg:exf
for name in exg exf; do # the summary lists each problem's winner
    echo "$name: $(grep -c ' fwd_sm90a_' "$OUT/$name.txt") sm90a winners," \
        "$(grep -c ' fwd_sm80_' "$OUT/$name.txt") sm80 winners"
done
grep -h 'seconds\|wall' "$OUT"/exg.log "$OUT"/exf.log 2>/dev/null | tail -6
tail -25 "$OUT/strategies_exg_exf.md" 2>/dev/null
