#!/bin/sh
# This file implements the SASS check of the sm90a family's cubins (issue 14): `fa-tune compile
# --arch sm90a --cubin-dir` writes the measured winners' cubins, and `cuobjdump -sass` shows in
# each the Hopper instructions the design is built on -- HGMMA (wgmma), UTMALDG (TMA loads),
# SYNCS (mbarriers) -- and no local-memory traffic (LDL/STL: spills). In the overlap variants
# (`ov`), the main loop's softmax runs under the PV wgmma: exponentials (MUFU.EX2) between the
# wait for S (WARPGROUP.DEPBAR.LE gsb0, 0x1) and the next wait for PV (... 0x0); ptxas had
# hoisted that wait above the softmax until v14 (templates/sm90a/fa_fwd_sm90a.cuh). Skipped (77)
# where the toolkit has no cuobjdump. Prints one line per cubin with the counts.
# usage: test_sm90a_sass.sh <fa-tune binary> [out dir to keep the cubins and SASS]
set -u
FA=$1
CUOBJDUMP=${CUOBJDUMP:-cuobjdump}
command -v "$CUOBJDUMP" >/dev/null 2>&1 || for d in "${CUDA_HOME:-}" /usr/local/cuda; do
    [ -n "$d" ] && [ -x "$d/bin/cuobjdump" ] && CUOBJDUMP=$d/bin/cuobjdump && break
done
command -v "$CUOBJDUMP" >/dev/null 2>&1 || { echo "skipped: no cuobjdump"; exit 77; }
if [ $# -ge 2 ]; then
    DIR=$2
    mkdir -p "$DIR"
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-sass-XXXXXX")
    trap 'rm -rf "$DIR"' EXIT
fi
set -- fwd_sm90a_hd128_bf16_m192n128s2 fwd_sm90a_hd128_bf16_m192n128s2pe \
    fwd_sm90a_hd256_bf16_m128n80s2ov fwd_sm90a_hd256_bf16_causal_m128n80s2ovpe \
    fwd_sm90a_hd64_bf16_m192n128s2ovpe fwd_sm90a_hd128_bf16_causal_m128n128s2ovpppe \
    fwd_sm90a_hd128_bf16_causal_m64n80s2ovx2 fwd_sm90a_hd128_bf16_m128n128s2ovpepg \
    fwd_sm90a_hd128_bf16_varlen_m128n128s2ovpe
args=""
for v in "$@"; do args="$args --variant $v"; done
# shellcheck disable=SC2086
"$FA" compile --arch sm90a $args --cubin-dir "$DIR" >"$DIR/compile.txt" 2>"$DIR/compile.log" ||
    { echo "FAIL: fa-tune compile"; cat "$DIR/compile.log"; exit 1; }
fail=0
for v in "$@"; do
    f=$DIR/$v.cubin
    [ -f "$f" ] || { echo "FAIL: no $v.cubin"; fail=1; continue; }
    "$CUOBJDUMP" -sass "$f" >"$DIR/$v.sass" 2>&1 || { echo "FAIL: cuobjdump $v"; fail=1; continue; }
    h=$(grep -c 'HGMMA' "$DIR/$v.sass")
    t=$(grep -c 'UTMALDG' "$DIR/$v.sass")
    s=$(grep -c 'SYNCS' "$DIR/$v.sass")
    l=$(grep -Ec '\b(LDL|STL)(\.|\s)' "$DIR/$v.sass")
    # exponentials between the main loop's first wait for S and the wait for PV after it
    e=$(awk '/DEPBAR\.LE gsb0, 0x1/ && !w { w = 1; next }
             w && /DEPBAR\.LE gsb0, 0x0/ { print n + 0; exit }
             w && /MUFU\.EX2/ { n++ }' "$DIR/$v.sass")
    echo "$v: HGMMA $h, UTMALDG $t, SYNCS $s, LDL/STL $l, EX2 under PV ${e:-none}"
    if [ "$h" -eq 0 ] || [ "$t" -eq 0 ] || [ "$s" -eq 0 ] || [ "$l" -ne 0 ]; then
        echo "FAIL: $v lacks wgmma/TMA/mbarrier instructions or touches local memory"
        fail=1
    fi
    case $v in
    *ov*)
        if [ "${e:-0}" -eq 0 ]; then
            echo "FAIL: $v waits for PV before its softmax (no MUFU.EX2 between the waits)"
            fail=1
        fi
        ;;
    esac
done
exit $fail
