#!/usr/bin/env bash
# bench/h2h_bench_shape.sh -- fa-tune's side of a head to head on one shape of FlashAttention's
# grid (batch x N = 16k tokens, hidden 2048): `fa-tune bench --json` of VARIANT, its first line
# appended to OUT after the prefix "HD CAUSAL N " that bench/compare_h2h.py reads, stderr
# appended to LOG. Shared by gpu_run.sh's h2hb stage and bench/h2h_alternate.sh (h2hs).
#
#   bash bench/h2h_bench_shape.sh FA_TUNE HD CAUSAL N VARIANT OUT LOG
set -uo pipefail
[ $# -eq 7 ] || { echo "usage: h2h_bench_shape.sh FA_TUNE HD CAUSAL N VARIANT OUT LOG" >&2; exit 2; }
fa=$1 hd=$2 causal=$3 n=$4 v=$5 out=$6 log=$7
printf '%s %s %s ' "$hd" "$causal" "$n" >>"$out"
# shellcheck disable=SC2046 # --causal or nothing
"$fa" bench --variant "$v" --batch $((16384 / n)) --heads $((2048 / hd)) --seqlen-q "$n" \
    $([ "$causal" = 1 ] && echo --causal) --no-eager --json </dev/null 2>>"$log" | head -1 >>"$out"
