#!/usr/bin/env bash
# Session 28, call 7 on whatever GPU comes. On an H200 (~9 min): session 26's call3.sh (issue
# 14's replication, then issue 18's sweeps). On any other GPU (~3 min): halving with both the sm90a
# prior's new seed (128x192 PackGQA, overlap, persistent for hd128 causal varlen) and a rung-0
# problem per GQA ratio (call 6 compiled the seed but ranked on GQA 8 only), cold then
# warm, on the full default hd128 job, its winners re-timed beside call 4's exhaustive run
# (call4_h100/exs.db.gz, same kind of GPU), where halving never compiled that tile and was
# 4.4-4.8% behind on one GQA-4 problem (calls 4 and 5).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-07_session26/call3.sh; exit ;;
esac
W=/tmp/s28c7 && mkdir -p $W
gunzip -c bench/results/2026-12-07_session28/call4_h100/exs.db.gz >exs4.db || exit 1
bash bench/gpu_run.sh --out $W build sweep:128:halving:hvc7:cold sweep:128:halving:hvw7:warm \
    >"$OUT/sweeps.log" 2>&1
grep -E "^=== |rc |wall|not compiled" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
gzip -c $W/hvc7.db >"$OUT/hvc7.db.gz"
timeout $((585 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs4:hvc7 >"$OUT/recheck.log" 2>&1
echo "recheck rc=$?"
tail -3 "$OUT/recheck.log"
cp $W/strategies_exs4_hvc7.md "$OUT/" 2>/dev/null
