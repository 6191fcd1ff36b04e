#!/usr/bin/env bash
# Session 28, call 2. On an H200 (~9 min): issue 14's replication, then issue 18's sweeps
# (session 26's call3.sh). On any other GPU (~8 min): issue 16, does an L2 hint on the decode
# kernel's K/V cp.async gain at the roofline? Arms (hint_trees.py, copies of templates/):
# base (L2::128B prefetch), nopf (no prefetch), p256 (256-byte
# prefetch) [the arm ef, + an evict_first policy, faulted: call2_ef_fault/]; bench/ab_bench.py, 3 rounds (hd64) or 2 (hd128) of 3
# medians, each arm's first run checked.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
S=bench/results/2026-12-07_session28
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-07_session26/call3.sh; exit ;;
esac
bash bench/gpu_run.sh --out /tmp/s28c2 build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
python3 $S/hint_trees.py templates /tmp/hint || exit 1
arms=(--arm base)
for a in nopf p256; do arms+=(--arm "$a=FA_TUNE_TEMPLATES=/tmp/hint/$a"); done
for set in hd64:3 hd128:2; do
    r=${set#*:} set=${set%:*}
    timeout 290 python3 bench/ab_bench.py --rounds "$r" --repeat 3 "${arms[@]}" \
        --specs $S/hint_specs_$set.txt --out "$OUT/ab_hint_$set.md" >"$OUT/ab_hint_$set.log" 2>&1
    echo "ab_bench $set rc=$?"
done
cat "$OUT"/ab_hint_*.md
