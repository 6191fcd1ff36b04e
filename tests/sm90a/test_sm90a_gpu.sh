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
# seqlen_q != seqlen_k both ways (1, 17, 1000, 4097), BSHD and BHSD alternating. 72 checks; all
# must pass (a list of the failures otherwise).
# usage: test_sm90a_gpu.sh <fa-tune binary>
set -u
FA=$1
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
# seqlen_q seqlen_k pairs, cycled
set -- "1 4097" "17 17" "1000 4097" "4097 1000" "4097 17" "17 1000" "1000 1"
pairs=$#

checks=0 failures=0 shape=0
for hd in 64 128 256; do
    for dt in fp16 bf16; do
        for causal in "" _causal; do
            for tile in $(tiles $hd); do
                name=fwd_sm90a_hd${hd}_${dt}${causal}_$tile
                for hkv in 8 2 1; do
                    i=$((shape % pairs + 1))
                    eval "pair=\${$i}"
                    sq=${pair% *} sk=${pair#* }
                    layout=bshd
                    [ $((shape % 2)) -eq 1 ] && layout=bhsd
                    shape=$((shape + 1))
                    "$FA" bench --variant "$name" --batch 2 --heads 8 --heads-kv $hkv \
                        --seqlen-q "$sq" --seqlen-k "$sk" --layout $layout --no-eager \
                        --min-reps 1 --max-reps 3 --max-seconds 0.5 --no-flush \
                        >"$TMP/out" 2>"$TMP/err"
                    rc=$?
                    checks=$((checks + 1))
                    what="$name hkv=$hkv q=$sq k=$sk $layout"
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
                done
            done
        done
    done
done
echo "sm90a family: $checks checks, $failures failures"
[ $failures -eq 0 ]
