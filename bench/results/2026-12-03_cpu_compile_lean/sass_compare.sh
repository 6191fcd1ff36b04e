#!/usr/bin/env bash
# sass_compare.sh -- the cubins and SASS of a sample of variants of all three families, from two
# fa-tune binaries (before and after a template change), compared: cmp of the cubin bytes and
# diff of `cuobjdump -sass`. Exits 1 on the first difference.
#
#   sass_compare.sh OLD_FA_TUNE NEW_FA_TUNE [CUOBJDUMP]
set -euo pipefail
old=$1 new=$2
objdump=${3:-/work/shared/tools/cuobjdump.sh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# arch: variants (causal, varlen, bf16, fp16, Q in registers, overlap/pingpong, splits)
sm80=(fwd_sm80_hd128_bf16_causal_varlen_m64n64w4s2q fwd_sm80_hd64_fp16_causal_m64n48w4s2q
      fwd_sm80_hd64_bf16_m128n64w8s3 fwd_sm80_hd128_fp16_varlen_m64n64w4s2
      decode_splitkv_hd128_bf16_causal_m16n64w4s3k12 decode_splitkv_hd64_fp16_m64n128w8s3k0)
sm90a=(fwd_sm90a_hd128_bf16_causal_m192n128s2pe fwd_sm90a_hd128_bf16_m128n192s2ovpp
       fwd_sm90a_hd64_fp16_varlen_m128n128s2 fwd_sm90a_hd128_fp16_causal_varlen_m128n128s2)
n=0
for arch in sm80 sm90 sm90a; do
    if [[ $arch == sm90a ]]; then vs=("${sm90a[@]}"); else vs=("${sm80[@]}"); fi
    args=()
    for v in "${vs[@]}"; do args+=(--variant "$v"); done
    for side in old new; do
        bin=$old
        [[ $side == new ]] && bin=$new
        "$bin" compile --arch "$arch" "${args[@]}" --no-cache -j 2 --cubin-dir "$work/$side-$arch" \
            --format csv >"$work/$side-$arch.csv" 2>"$work/$side-$arch.err"
    done
    for v in "${vs[@]}"; do
        a=$work/old-$arch/$v.cubin b=$work/new-$arch/$v.cubin
        [[ -s $a && -s $b ]] || { echo "$arch $v: no cubin" >&2; cat "$work/new-$arch.err" >&2; exit 1; }
        "$objdump" -sass "$a" | grep -v 'Function :\|^\s*$\|code for sm_' >"$work/a.sass"
        "$objdump" -sass "$b" | grep -v 'Function :\|^\s*$\|code for sm_' >"$work/b.sass"
        lines=$(grep -c '/\*[0-9a-f]*\*/' "$work/a.sass" || true)
        if ! cmp -s "$a" "$b"; then
            if diff -q "$work/a.sass" "$work/b.sass" >/dev/null; then
                echo "$arch $v: cubin bytes differ, SASS identical ($lines instructions)"
            else
                echo "$arch $v: SASS DIFFERS" >&2
                diff "$work/a.sass" "$work/b.sass" | head -20 >&2
                exit 1
            fi
        else
            echo "$arch $v: cubin byte-identical, SASS identical ($lines instructions)"
        fi
        n=$((n + 1))
    done
done
echo "$n cubins compared: SASS identical in all"
