#!/usr/bin/env bash
# Session 23, the next call on whatever GPU comes. On an H200 (~5 min): issue 18's bars, which
# name one: the full default hd128 job with both families, exhaustive from a cold cache (<= 120
# s), halving cold (<= 60 s) and halving warm (<= 20 s), then halving's winners re-timed beside
# exhaustive's (within 2%). On any other GPU: call3.sh (issue 16, the caches' placement).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in
*H200*)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >"$OUT/gpu.txt"
    W=/tmp/s23c4 && mkdir -p $W
    bash bench/gpu_run.sh --out $W build sweep:128:exhaustive:exs:cold \
        sweep:128:halving:hvc:cold sweep:128:halving:hvw:warm >"$OUT/sweeps.log" 2>&1
    grep -E "^=== |rc |wall|not compiled" "$OUT/sweeps.log" | cut -c1-300
    tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
    bash bench/gpu_run.sh --out $W recheck:128:exs:hvc >"$OUT/recheck.log" 2>&1
    tail -3 "$OUT/recheck.log"
    cp $W/strategies_exs_hvc.md "$OUT/" 2>/dev/null
    ;;
*) bash bench/results/2026-12-06_session23/call3.sh ;;
esac
