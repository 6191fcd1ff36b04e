#!/usr/bin/env bash
# Session 28, call 4 on whatever GPU comes. On an H200 (~9 min): session 26's call3.sh (issue
# 14's replication, then issue 18's sweeps). On any other GPU (~6 min): issue 18's sweeps on
# it, which no H100 has run with today's code: the full default hd128 job with both families,
# exhaustive from a cold cache, halving cold, halving warm, then halving's winners re-timed
# beside exhaustive's (skipped if too little of the call's 600 s is left).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-07_session26/call3.sh; exit ;;
esac
W=/tmp/s28c4 && mkdir -p $W
bash bench/gpu_run.sh --out $W build sweep:128:exhaustive:exs:cold \
    sweep:128:halving:hvc:cold sweep:128:halving:hvw:warm >"$OUT/sweeps.log" 2>&1
grep -E "^=== |rc |wall|not compiled" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
for db in exs hvc; do gzip -c $W/$db.db >"$OUT/$db.db.gz"; done
if [ "$SECONDS" -lt 400 ]; then
    timeout $((585 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs:hvc >"$OUT/recheck.log" 2>&1
    echo "recheck rc=$?"
    tail -3 "$OUT/recheck.log"
    cp $W/strategies_exs_hvc.md "$OUT/" 2>/dev/null
else
    echo "recheck skipped: $SECONDS s used"
fi
