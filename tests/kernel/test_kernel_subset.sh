#!/usr/bin/env bash
# The sm80 kernel family on the CPU (issue #4): the representative subset compiles with NVRTC
# for sm_80 and sm_90, and the variants eligible to win do not spill.
#   1. every head dim x dtype x causal x varlen at one tile configuration (64x64, 4 warps,
#      2 stages): all 48 compile, none spills, none needs a stack frame;
#   2. every tile configuration at head dim 128 (bf16, non-causal): each one compiles or is
#      rejected by the legality model (never a compile error), and FlashAttention-2's seed
#      tiles (128x64 and 64x64, 4 warps, Q in shared memory) do not spill. Other tiles may
#      spill: the tuner records those as ineligible, which this also checks is visible.
set -u
FA=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for arch in sm80 sm90; do
    args=()
    for hd in 32 64 96 128 192 256; do
        for dt in fp16 bf16; do
            for mode in "" _causal _varlen _causal_varlen; do
                args+=(--variant "fwd_sm80_hd${hd}_${dt}${mode}_m64n64w4s2")
            done
        done
    done
    "$FA" compile --arch "$arch" "${args[@]}" --format csv --cache-dir "$tmp/cache" \
        >"$tmp/modes_$arch.csv" 2>"$tmp/err" || { echo "FAIL: $arch modes sweep"; cat "$tmp/err"; fail=1; }
    bad=$(awk -F, 'NR > 1 && ($2 != "ok" || $6 != 0 || $7 != 0 || $8 != 0 || $12 != "\"\"")' \
        "$tmp/modes_$arch.csv")
    n=$(awk -F, 'NR > 1 && $2 == "ok"' "$tmp/modes_$arch.csv" | wc -l)
    if [ -n "$bad" ] || [ "$n" != 48 ]; then
        echo "FAIL: $arch: every mode at 64x64 w4 s2 must compile without spills ($n/48 ok):"
        echo "$bad"
        fail=1
    fi

    "$FA" compile --arch "$arch" --family sm80 --headdim 128 --dtype bf16 --causal 0 --varlen 0 --format csv \
        --cache-dir "$tmp/cache" >"$tmp/tiles_$arch.csv" 2>"$tmp/err" ||
        { echo "FAIL: $arch tile sweep"; cat "$tmp/err"; fail=1; }
    total=$(($(wc -l <"$tmp/tiles_$arch.csv") - 1))
    errors=$(awk -F, 'NR > 1 && $2 != "ok" && $2 != "unsupported"' "$tmp/tiles_$arch.csv")
    if [ "$total" != 168 ] || [ -n "$errors" ]; then
        echo "FAIL: $arch: want 168 tile configurations, each ok or unsupported; got $total:"
        echo "$errors"
        fail=1
    fi
    for seed in m128n64w4s1 m128n64w4s2 m64n64w4s1 m64n64w4s2; do
        row=$(grep "^fwd_sm80_hd128_bf16_${seed}," "$tmp/tiles_$arch.csv")
        if ! echo "$row" | awk -F, '{ exit !($2 == "ok" && $7 == 0 && $8 == 0) }'; then
            echo "FAIL: $arch: seed $seed must compile without spills: $row"
            fail=1
        fi
    done
    unmarked=$(awk -F, 'NR > 1 && $2 == "ok" && ($7 > 0 || $8 > 0) && $12 != "\"spills: ineligible\""' \
        "$tmp/tiles_$arch.csv")
    if [ -n "$unmarked" ]; then
        echo "FAIL: $arch: a spilling variant must be marked ineligible: $unmarked"
        fail=1
    fi
    ok=$(awk -F, 'NR > 1 && $2 == "ok"' "$tmp/tiles_$arch.csv" | wc -l)
    spill=$(awk -F, 'NR > 1 && $2 == "ok" && ($7 > 0 || $8 > 0)' "$tmp/tiles_$arch.csv" | wc -l)
    echo "$arch: 48/48 modes clean; hd128 tiles: $ok compiled ($spill spill: ineligible), $((total - ok)) rejected by the legality model"
done
exit $fail
