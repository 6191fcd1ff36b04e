#!/bin/sh
# This file implements the test of `fa-tune compile --family` and of which families an arch
# selects (CPU; the sweeps here are hd256 varlen, where the sm90a family admits 24 of 3168
# configurations: those compile from a stub sm90a template that stops at once with #error,
# sm80 ones from the stub sm80 template): --arch sm90 enumerates sm80 and sm90a, --arch
# sm90a only sm90a, --arch sm80 only sm80; --family narrows to one (splitkv: its decode space);
# a family that does not run on the arch, an unknown family and a --variant of another family
# are usage errors (exit 2).
# usage: test_compile_family.sh <fa-tune binary> <stub template dir (tests/compile/data)>
set -u
FA=$1
STUB=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-family-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/tpl/sm90a"
cp "$STUB"/* "$TMP/tpl/"
echo '#error "stub: sm90a kernels are not compiled by this test"' >"$TMP/tpl/sm90a/fa_fwd_sm90a.cuh"
export FA_TUNE_TEMPLATES="$TMP/tpl"
fail=0
bad() {
    echo "FAIL: $*" >&2
    fail=1
}
# rows ARCH [ARGS...]: "sm80 N sm90a M" -- the csv rows per family of a varlen sm90a sweep
rows() {
    arch=$1
    shift
    "$FA" compile --arch "$arch" --headdim 256 --causal 0 --varlen 1 --no-cache --format csv \
        "$@" >"$TMP/csv" 2>"$TMP/err" || { bad "$arch $*: exit $?: $(cat "$TMP/err")"; return; }
    echo "sm80 $(grep -c '^fwd_sm80_' "$TMP/csv") sm90a $(grep -c '^fwd_sm90a_' "$TMP/csv")"
}
[ "$(rows sm90a)" = "sm80 0 sm90a 3168" ] || bad "--arch sm90a: $(rows sm90a)"
[ "$(rows sm90a --family sm90a)" = "sm80 0 sm90a 3168" ] || bad "--arch sm90a --family sm90a"
grep -q "accumulators need" "$TMP/csv" ||
    bad "illegal sm90a variants do not say why they are unsupported"
grep -q '^fwd_sm90a_hd256_bf16_varlen_m128n80s2ov,compile_error' "$TMP/csv" ||
    bad "the legal varlen sm90a variant m128n80s2ov was not compiled (unsupported?)"
[ "$(rows sm90 --family sm90a)" = "sm80 0 sm90a 3168" ] || bad "--arch sm90 --family sm90a"
# --arch sm90 selects both families; the sm80 half compiles, from the quick stub template.
[ "$(rows sm90)" = "sm80 168 sm90a 3168" ] || bad "--arch sm90: both families expected"
[ "$(rows sm80)" = "sm80 168 sm90a 0" ] || bad "--arch sm80 has sm90a variants"
# --family splitkv: the decode op's space (the family serves no fwd), from the real templates
env -u FA_TUNE_TEMPLATES "$FA" compile --arch sm90 --headdim 64 --family splitkv --limit 1 \
    --no-cache --format csv >"$TMP/csv" 2>"$TMP/err" || bad "--family splitkv: exit $?: $(cat "$TMP/err")"
grep -q '^decode_splitkv_hd64_bf16_m[0-9a-z]*,ok,' "$TMP/csv" ||
    bad "--family splitkv did not compile a decode variant: $(cat "$TMP/csv" "$TMP/err")"


expect2() { # expect2 WHAT PATTERN -- args...
    what=$1 pat=$2
    shift 3
    "$FA" compile "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 2 ] || bad "$what: exit $rc, want 2"
    grep -q -- "$pat" "$TMP/err" || bad "$what: '$pat' not in: $(cat "$TMP/err")"
}
expect2 "family not on arch" "kernel family sm80 does not run on sm90a" -- --arch sm90a --headdim 128 --family sm80
expect2 "sm90a on sm80" "kernel family sm90a does not run on sm80" -- --arch sm80 --headdim 128 --family sm90a
expect2 "unknown family" "unknown --family 'sm70': families are sm80, sm90a, splitkv" -- --arch sm90 --headdim 128 --family sm70
expect2 "family against variant" "--family contradicts --variant" -- --arch sm90 --family sm80 --variant fwd_sm90a_hd128_bf16_m192n128s2
[ "$fail" -eq 0 ] && echo "test_compile_family: ok" >&2
exit "$fail"
