#!/usr/bin/env bash
# Session 16, call 6: what makes the h2h run's interleaved re-timing read causal kernels low
# (call 3: re-timing / first timing 0.86-0.99) when a run of one problem does not (call 2)?
# The h2h command for head dim 256 (call 4's 7 winners, --race 0 --family-gate 0 --finalists 8
# --rounds 5 --force), varied one factor at a time; retime_vs_first.py on each database.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build >/dev/null 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
FA=build-gpu/fa-tune
C="--variant fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe --variant fwd_sm90a_hd256_bf16_causal_m128n64s2pe"
C="$C --variant fwd_sm90a_hd256_bf16_causal_m128n80s2ovpepg --variant fwd_sm90a_hd256_bf16_causal_m128n80s2ovpp"
NC="--variant fwd_sm90a_hd256_bf16_m128n64s2ovpe --variant fwd_sm90a_hd256_bf16_m128n80s2ovpepg"
NC="$NC --variant fwd_sm90a_hd256_bf16_m128n80s2ovpp"
H2H="--arch sm90 --headdim 256 --dtype bf16 --varlen 0 --gqa 1"
FIX="--family-gate 0 --finalists 8 --rounds 5 --force"
run() { # run NAME ARGS...: one tuner run into NAME.db, then its ratios
    local name=$1
    shift
    # shellcheck disable=SC2086,SC2068
    $FA $H2H $FIX --db "$OUT/$name.db" $@ >"$OUT/$name.txt" 2>&1
    echo "== $name: $*" | cut -c1-160
    python3 bench/results/2026-12-06_session16/retime_vs_first.py "$OUT/$name.db" | grep causal
}
run r1_as_h2h --race 0 $C $NC
run r2_causal_only --race 0 --causal 1 $C
run r3_one_problem --race 0 --causal 1 --seqlens 1k $C
run r4_1k_both --race 0 --seqlens 1k $C $NC
run r5_race_on $C $NC
run r6_as_h2h_again --race 0 $C $NC
