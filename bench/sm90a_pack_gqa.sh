#!/bin/sh
# sm90a_pack_gqa.sh -- PackGQA against the plain sm90a tiles on GQA shapes with short seqlen_q
# (the prefill-of-a-few-tokens / speculative-decode regime PackGQA is for), through
# `fa-tune bench` (each timing is checked against the fp32 reference first; a mismatch is a
# row with status "mismatch", not a time).
#
# Shapes (bf16 hd128, batch 8, 32 query / 8 KV heads, seqlen_k 8192, non-causal and causal
# bottom-right): seqlen_q 1, 16, 64, 128, 512. Variants: the plain tiles the family's prior puts
# first (3 warpgroups 192x128 persistent; 2 warpgroups 128x128 overlap, 128x176 overlap
# persistent) and the same tiles with "pg". With g = 4, a 128-row PackGQA tile holds 32
# tokens of all 4 query heads, a 192-row one 48: each K/V block is read once per KV head and
# tile instead of once per query head, and short seqlen_q still fills the tile's rows.
#
# usage: bench/sm90a_pack_gqa.sh <fa-tune binary> [quick]
#   quick: seqlen_q 64 and 128 only, non-causal and causal (the lead's comparison)
# Prints one line per timing, then per shape the best plain and best PackGQA time and their
# ratio. Exit 0 when every timing passed its check, 3 if one mismatched, 1 otherwise.
set -u
FA=${1:?usage: sm90a_pack_gqa.sh <fa-tune binary> [quick]}
QUICK=${2:-}
SQS="1 16 64 128 512"
[ "$QUICK" = quick ] && SQS="64 128"
TILES="m192n128s2pe m128n128s2ov m128n176s2ovpe"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-pgqa-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

set --
for c in "" _causal; do
    for t in $TILES; do
        set -- "$@" --variant "fwd_sm90a_hd128_bf16${c}_$t" --variant "fwd_sm90a_hd128_bf16${c}_${t}pg"
    done
done
"$FA" compile --arch sm90a "$@" >"$TMP/compile" 2>&1 || {
    echo "fa-tune compile failed:"
    tail -20 "$TMP/compile"
    exit 1
}

rc=0
: >"$TMP/rows"
for sq in $SQS; do
    for c in "" _causal; do
        flag=""
        [ -n "$c" ] && flag=--causal
        for t in $TILES; do
            for pg in "" pg; do
                name="fwd_sm90a_hd128_bf16${c}_$t$pg"
                # shellcheck disable=SC2086
                "$FA" bench --variant "$name" --batch 8 --heads 32 --heads-kv 8 --seqlen-q "$sq" \
                    --seqlen-k 8192 $flag --no-eager --json >"$TMP/out" 2>"$TMP/err" </dev/null
                r=$?
                [ $r -eq 3 ] && rc=3
                [ $r -ne 0 ] && [ $r -ne 3 ] && [ $rc -eq 0 ] && rc=1
                line=$(grep '^{' "$TMP/out" | grep -v '"method":"eager' | tail -1)
                st=$(echo "$line" | sed -n 's/.*"status":"\([^"]*\)".*/\1/p')
                ms=$(echo "$line" | sed -n 's/.*"median_ms":\([^,]*\),.*/\1/p')
                tf=$(echo "$line" | sed -n 's/.*"tflops":\([^,]*\),.*/\1/p')
                [ -n "$st" ] || st="rc$r"
                printf '%5s %-7s %-34s %-8s %10s ms %8s TFLOP/s\n' "$sq" "${c:-_plain}" \
                    "$t$pg" "$st" "${ms:--}" "${tf:--}"
                [ "$st" = ok ] && echo "$sq ${c:-_plain} ${pg:-no} $ms $t$pg" >>"$TMP/rows"
                [ "$st" = ok ] || sed 's/^/    /' "$TMP/err" | tail -3
            done
        done
    done
done

echo "best per shape (b8 h32/8 k8192 hd128 bf16): seqlen_q mask plain-ms pack-ms plain/pack"
for sq in $SQS; do
    for c in _plain _causal; do
        p=$(awk -v q="$sq" -v c="$c" '$1 == q && $2 == c && $3 == "no" {print $4, $5}' \
            "$TMP/rows" | sort -g | head -1)
        k=$(awk -v q="$sq" -v c="$c" '$1 == q && $2 == c && $3 == "pg" {print $4, $5}' \
            "$TMP/rows" | sort -g | head -1)
        pm=${p%% *} km=${k%% *}
        ratio=$(awk -v a="${pm:-0}" -v b="${km:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }')
        printf '%5s %-7s %10s (%s) %10s (%s) %6s\n' "$sq" "$c" "${pm:--}" "${p#* }" "${km:--}" \
            "${k#* }" "$ratio"
    done
done
exit $rc
