#!/bin/sh
# This file implements the GPU correctness test of the sm90a family through fa-tune's own
# path (label gpu; exit 77 without a GPU, or on a GPU that is not a Hopper, cc 9.0): each
# check is `fa-tune bench --variant fwd_sm90a_...` -- NVRTC compile for sm_90a, the family's
# launch plan and tensor maps, the worker's check against the fp32 reference with
# FlashAttention's criterion (LSE checked, outputs poisoned, fresh random inputs), exit 0 pass,
# 3 mismatch, 1 failure. Coverage: every head dim (64, 128, 256) x dtype x causal x GQA ratio
# g in {1, 4, hq} (8 query heads: 8, 2, 1 kv heads) on two tile configurations per head dim
# (different pipeline shapes: 2 and 3 consumer warpgroups, overlap, pingpong, 2-4 stages,
# persistent with staged and with direct O stores), lengths cycling through odd pairs with
# seqlen_q != seqlen_k both ways (1, 17, 1000, 4097), BSHD and BHSD alternating: 72 checks.
# Varlen (issue 15): the first tile of each of those head dims x dtype x causal as a varlen
# variant, each GQA ratio, maximum lengths from the same pairs (`bench --varlen`: packed
# sequences of lengths uniform in [N/2, N], so 1-length sequences and sq != sk per sequence):
# 36 checks. Head dims 32, 96 and 192: one tile each, dtype x causal x fixed/varlen, the GQA
# ratio cycling: 24 checks. PackGQA (the "pg" kernels): two tiles per head dim 64/128/256 and
# one per 32/96/192, dtype x causal, query/kv heads 8/2 (g 4), 16/2 (g 8), 12/1 (MQA, g 12:
# 128-row tiles hold 10 tokens and 8 idle rows), seqlen_q cycling through 1, 7, 64, 128, 1000
# against odd seqlen_k 4097, 17, 1001, 1 (causal rows that see no key included), BSHD/BHSD;
# varlen at hd128; and 8/8 (g 1): 56 checks. The half-width first block of causal 2-warpgroup
# tiles (sm90a v9): 4 tiles x 4 length pairs + 1 varlen: 17 checks. O staged a warp at a time
# (v10): 3 tiles x 4 length pairs + varlen + PackGQA: 14 checks. Two blocks a multiprocessor
# (v11, the _x2 kernels; 128-row tiles and 64-row ones of one consumer warpgroup): 8 tiles x 4
# length pairs + 3 varlen + 3 PackGQA: 38 checks. 257 in all; all must pass (a list of the
# failures otherwise). FA_SM90A_GPU_ONLY='pg$' runs the PackGQA checks alone, 'x2$' the
# two-block ones.
# Empty sequences and packed QKV strides are bench/sm90a_check.cu's (list 3): `fa-tune bench`
# makes neither.
# The variants are compiled first, in parallel, into the cubin cache (`fa-tune compile`).
# FA_SM90A_GPU_ONLY=REGEX keeps the checks whose variant name matches REGEX (grep -E).
# usage: test_sm90a_gpu.sh <fa-tune binary>
set -u
FA=$1
ONLY=${FA_SM90A_GPU_ONLY:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-sm90a-gpu-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# A GPU, and a Hopper one (device 0: what `fa-tune bench` runs on).
"$FA" info >"$TMP/info" 2>&1
if ! grep -q "^device 0:" "$TMP/info"; then
    echo "skipped: no GPU"
    grep -i "driver\|device" "$TMP/info" | head -3
    exit 77
fi
if ! grep -A1 "^device 0:" "$TMP/info" | grep -q "compute capability 9\.0"; then
    echo "skipped: device 0 is not a Hopper GPU (cc 9.0):"
    grep -A1 "^device 0:" "$TMP/info"
    exit 77
fi

# Two tiles per head dim (suffixes of fwd_sm90a_hd<D>_<dtype>[_causal]_...).
tiles() {
    case $1 in
    64) echo "m192n128s2ovpe m128n192s4ovpp" ;;   # 3 wg overlap persistent; 2 wg 4 stages pingpong
    128) echo "m192n128s2 m128n176s2ovpppe" ;;    # 3 wg plain (the measured winner); 2 wg all flags
    256) echo "m128n80s2ovpe m128n64s2pp" ;;      # 2 wg overlap persistent (direct O); pingpong
    esac
}
# One tile for head dims 32, 96 and 192 (legal, no spills: 3 wg overlap; 2 wg overlap).
tile_other() {
    case $1 in
    32) echo m192n128s2ovpe ;;
    96) echo m128n128s2ovpe ;;
    192) echo m128n96s2ovpe ;;
    esac
}

# The checks, one per line: variant hkv seqlen_q seqlen_k layout ("varlen": --varlen, BSHD)
# [query heads, default 8].
# seqlen_q seqlen_k pairs (varlen: the maxima), cycled.
PAIRS="1 4097;17 17;1000 4097;4097 1000;4097 17;17 1000;1000 1"
pairs=7
shape=0
add() { # add NAME HKV LAYOUT
    pair=$(echo "$PAIRS" | cut -d';' -f$((shape % pairs + 1)))
    shape=$((shape + 1))
    if echo "$1" | grep -Eq -- "$ONLY"; then echo "$1 $2 $pair $3" >>"$TMP/list"; fi
}
# PackGQA: seqlen_q and (odd) seqlen_k cycle with coprime periods, so every pair comes up.
SQS="1 7 64 128 1000"
SKS="4097 17 1001 1"
pk=0
add_pg() { # add_pg NAME HQ HKV LAYOUT
    sq=$(echo "$SQS" | cut -d' ' -f$((pk % 5 + 1)))
    sk=$(echo "$SKS" | cut -d' ' -f$((pk % 4 + 1)))
    pk=$((pk + 1))
    if echo "$1" | grep -Eq -- "$ONLY"; then echo "$1 $3 $sq $sk $4 $2" >>"$TMP/list"; fi
}
# Two PackGQA tiles per head dim (2 stages, no pingpong: the family's PackGQA subspace).
tiles_pg() {
    case $1 in
    64) echo "m192n128s2ovpepg m128n128s2ovpg" ;;   # 3 wg persistent (staged O); 2 wg (O via Q)
    128) echo "m192n128s2pg m128n176s2ovpepg" ;;    # 3 wg plain; 2 wg overlap persistent
    256) echo "m128n80s2ovpepg m128n64s2pg" ;;      # direct O stores; 2 wg plain
    32) echo m192n128s2ovpepg ;;
    96) echo m128n128s2ovpepg ;;
    192) echo m128n96s2ovpepg ;;
    esac
}
: >"$TMP/list"
for hd in 64 128 256; do
    for dt in fp16 bf16; do
        for causal in "" _causal; do
            for tile in $(tiles $hd); do
                for hkv in 8 2 1; do
                    layout=bshd
                    [ $((shape % 2)) -eq 1 ] && layout=bhsd
                    add "fwd_sm90a_hd${hd}_${dt}${causal}_$tile" $hkv $layout
                done
            done
            tile=$(tiles $hd | cut -d' ' -f1)
            for hkv in 8 2 1; do
                add "fwd_sm90a_hd${hd}_${dt}${causal}_varlen_$tile" $hkv varlen
            done
        done
    done
done
g=0
for hd in 32 96 192; do
    for dt in fp16 bf16; do
        for causal in "" _causal; do
            for vl in "" _varlen; do
                hkv=$(echo "8 2 1" | cut -d' ' -f$((g % 3 + 1)))
                g=$((g + 1))
                layout=bhsd
                [ -n "$vl" ] && layout=varlen
                add "fwd_sm90a_hd${hd}_${dt}${causal}${vl}_$(tile_other $hd)" "$hkv" $layout
            done
        done
    done
done

for hd in 64 128 256; do
    for dt in fp16 bf16; do
        for causal in "" _causal; do
            for heads in "8 2" "16 2" "12 1"; do
                tile=$(tiles_pg $hd | cut -d' ' -f$((pk % 2 + 1)))
                layout=bshd
                [ $((pk % 3)) -eq 1 ] && layout=bhsd
                # shellcheck disable=SC2086 # heads is "HQ HKV"
                add_pg "fwd_sm90a_hd${hd}_${dt}${causal}_$tile" $heads $layout
            done
        done
    done
done
for dt in fp16 bf16; do
    for causal in "" _causal; do
        for heads in "8 2" "16 2" "12 1"; do
            # shellcheck disable=SC2086
            add_pg "fwd_sm90a_hd128_${dt}${causal}_varlen_$(tiles_pg 128 | cut -d' ' -f$((pk % 2 + 1)))" \
                $heads varlen
        done
    done
done
for hd in 32 96 192; do
    for causal in "" _causal; do
        add_pg "fwd_sm90a_hd${hd}_bf16${causal}_$(tiles_pg $hd)" 16 2 bhsd
    done
done
add_pg "fwd_sm90a_hd128_bf16_causal_m192n128s2pg" 8 8 bshd
add_pg "fwd_sm90a_hd64_fp16_m128n128s2ovpg" 8 8 bhsd
# The half-width first block (HALF_FIRST: causal, 2 warpgroups, BLOCK_N a multiple of 32 from
# 96) on the short-causal winners: every pipeline shape (overlap + pingpong, plain 4 stages,
# overlap alone, 192-key blocks), persistent and not, with equal lengths (warpgroup 0's
# diagonal block is half visible on every tile), odd ones and sq != sk both ways, GQA.
add_fixed() { # add_fixed NAME HKV SQ SK LAYOUT
    if echo "$1" | grep -Eq -- "$ONLY"; then echo "$1 $2 $3 $4 $5" >>"$TMP/list"; fi
}
for v in hd128_bf16_causal_m128n128s2ovpppe hd64_fp16_causal_m128n128s4pe \
    hd128_fp16_causal_m128n128s2ov hd64_bf16_causal_m128n192s2ovpp; do
    add_fixed "fwd_sm90a_$v" 8 1024 1024 bshd
    add_fixed "fwd_sm90a_$v" 2 1000 1000 bhsd
    add_fixed "fwd_sm90a_$v" 1 300 1001 bshd
    add_fixed "fwd_sm90a_$v" 2 1001 300 bhsd
done
add_fixed fwd_sm90a_hd128_bf16_causal_varlen_m128n128s2ovpppe 2 1000 1000 varlen
# O staged a warp at a time (FA_SM90A_STAGE_O_SLICES: persistent, no room for an O tile): the
# hd256 short-causal winner, PackGQA and varlen row pointers, the hd96 slab of 4 chunks;
# rows past seqlen_q (1000, 1001, 300) in every case.
for v in hd256_bf16_causal_m128n64s2pe hd256_fp16_m128n64s2pe hd96_bf16_causal_m128n112s3pe; do
    add_fixed "fwd_sm90a_$v" 8 512 512 bshd
    add_fixed "fwd_sm90a_$v" 2 1000 1000 bhsd
    add_fixed "fwd_sm90a_$v" 1 300 1001 bshd
    add_fixed "fwd_sm90a_$v" 2 1001 300 bhsd
done
add_fixed fwd_sm90a_hd256_bf16_causal_varlen_m128n64s2pe 2 1000 1000 varlen
add_pg fwd_sm90a_hd256_bf16_causal_m128n64s2pepg 8 2 bshd
# Two blocks a multiprocessor (the _x2 kernels, 104 consumer registers): hd64 plain 2 stages
# and 4 stages with pingpong, hd32 96-key blocks and 64-key blocks with overlap; causal and
# not, the same length pairs and GQA ratios; PackGQA and varlen.
for v in hd64_bf16_m128n64s2x2 hd64_fp16_causal_m128n64s2x2 hd64_bf16_causal_m128n80s4ppx2 \
    hd32_fp16_m128n96s3x2 hd32_bf16_causal_m128n64s2ovx2 hd128_bf16_causal_m64n80s2ovx2 \
    hd128_fp16_m64n64s2x2 hd64_bf16_causal_m64n192s2ovx2; do
    add_fixed "fwd_sm90a_$v" 8 1024 1024 bshd
    add_fixed "fwd_sm90a_$v" 2 1000 1000 bhsd
    add_fixed "fwd_sm90a_$v" 1 300 1001 bshd
    add_fixed "fwd_sm90a_$v" 2 1001 300 bhsd
done
add_fixed fwd_sm90a_hd64_bf16_causal_varlen_m128n64s2x2 2 1000 1000 varlen
add_fixed fwd_sm90a_hd64_bf16_varlen_m128n80s3x2 1 1001 300 varlen
add_pg fwd_sm90a_hd64_bf16_causal_m128n64s2pgx2 16 2 bshd
add_pg fwd_sm90a_hd64_fp16_m128n64s2pgx2 12 1 bhsd
add_fixed fwd_sm90a_hd128_bf16_causal_varlen_m64n80s2ovx2 2 1000 1000 varlen
add_pg fwd_sm90a_hd128_bf16_causal_m64n64s2pgx2 16 2 bshd

# Compile every variant once, in parallel, into the cache the checks then read.
set --
# shellcheck disable=SC2013 # variant names have no spaces
for n in $(cut -d' ' -f1 "$TMP/list" | sort -u); do set -- "$@" --variant "$n"; done
if [ $# -gt 0 ] && ! "$FA" compile --arch sm90a "$@" >"$TMP/compile" 2>&1; then
    echo "fa-tune compile failed (the checks below say which variants):"
    tail -20 "$TMP/compile"
fi

checks=0 failures=0
while read -r name hkv sq sk layout hq; do
    mode="--layout $layout"
    [ "$layout" = varlen ] && mode="--varlen"
    hq=${hq:-8}
    # shellcheck disable=SC2086
    "$FA" bench --variant "$name" --batch 2 --heads "$hq" --heads-kv "$hkv" \
        --seqlen-q "$sq" --seqlen-k "$sk" $mode --no-eager \
        --min-reps 1 --max-reps 3 --max-seconds 0.5 --no-flush \
        >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
    checks=$((checks + 1))
    what="$name hq=$hq hkv=$hkv q=$sq k=$sk $layout"
    if [ $rc -ne 0 ]; then
        failures=$((failures + 1))
        echo "FAIL ($rc) $what:"
        sed 's/^/    /' "$TMP/out" "$TMP/err" | tail -8
    elif ! grep -q "pass" "$TMP/out"; then
        failures=$((failures + 1))
        echo "FAIL $what: exit 0 but no 'pass' in the output"
        sed 's/^/    /' "$TMP/out" | tail -8
    else
        echo "ok $what"
    fi
done <"$TMP/list"
echo "sm90a family: $checks checks, $failures failures"
[ $checks -gt 0 ] && [ $failures -eq 0 ]
