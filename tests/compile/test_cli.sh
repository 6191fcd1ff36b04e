#!/bin/sh
# This file implements the `fa-tune compile` CLI test: usage errors exit 2 and name what is
# accepted, --help exits 0 on stdout, and a small sweep over the stub template (tests/compile
# /data) prints the table and summary, then hits the cache on the second run.
# usage: test_cli.sh <fa-tune binary> <stub template dir>
set -u
FA=$1
STUB=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0

# expect CODE DESCRIPTION -- cmd...: runs cmd, keeps stdout/stderr in $TMP/out, $TMP/err.
expect() {
    want=$1
    what=$2
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, want $want" >&2
        sed 's/^/  stderr: /' "$TMP/err" >&2
        fail=1
    fi
}

# grep_in FILE PATTERN DESCRIPTION
grep_in() {
    if ! grep -q -- "$2" "$TMP/$1"; then
        echo "FAIL: $3: '$2' not in $1" >&2
        sed "s/^/  $1: /" "$TMP/$1" | head -20 >&2
        fail=1
    fi
}

expect 2 "unknown arch" -- "$FA" compile --arch sm99 --headdim 128
grep_in err "sm99" "unknown arch names the bad value"
grep_in err "sm80, sm86, sm89, sm90, sm90a" "unknown arch lists the archs"

expect 2 "unsupported head dim" -- "$FA" compile --arch sm80 --headdim 100
grep_in err "'100'" "bad head dim names the bad value"
grep_in err "32, 64, 96, 128, 192, 256" "bad head dim lists the head dims"

expect 0 "help" -- "$FA" compile --help
grep_in out "usage: fa-tune compile" "help on stdout"
grep_in out "dtype all --causal all --varlen all" "help says how to widen the space"
[ -s "$TMP/err" ] && { echo "FAIL: help wrote to stderr" >&2; fail=1; }

expect 2 "missing arch" -- "$FA" compile --headdim 128
grep_in err "missing --arch" "missing arch says so"
expect 2 "missing head dim" -- "$FA" compile --arch sm80
grep_in err "missing --headdim" "missing head dim says so"
expect 2 "native arch" -- "$FA" compile --arch native --headdim 128
expect 2 "bad dtype" -- "$FA" compile --arch sm80 --headdim 128 --dtype fp8
grep_in err "fp8" "bad dtype names the bad value"
expect 2 "bad causal" -- "$FA" compile --arch sm80 --headdim 128 --causal 2
grep_in err "0, 1 or all" "bad causal lists the values"
expect 2 "bad jobs" -- "$FA" compile --arch sm80 --headdim 128 -j 0
# Numbers are read whole and in range: a head dim that wraps to 128 in an int is refused.
expect 2 "wrapping head dim" -- "$FA" compile --arch sm80 --headdim 4294967424
grep_in err "unsupported --headdim '4294967424'" "wrapping head dim named"
expect 2 "huge limit" -- "$FA" compile --arch sm80 --headdim 128 --limit 99999999999999999999
grep_in err "limit '99999999999999999999': expected an integer in \[1, 1000000\]" "huge limit named"
expect 2 "limit with junk" -- "$FA" compile --arch sm80 --headdim 128 --limit "8 "
grep_in err "limit '8 '" "limit with junk named"
expect 2 "variant against --headdim" -- "$FA" compile --arch sm80 --headdim 64 --variant fwd_sm80_hd128_bf16_m128n64w4s2
grep_in err "--headdim contradicts --variant 'fwd_sm80_hd128_bf16_m128n64w4s2'" "variant against --headdim named"
expect 2 "variant against --dtype" -- "$FA" compile --arch sm80 --dtype fp16 --variant fwd_sm80_hd128_bf16_m128n64w4s2
grep_in err "--dtype contradicts" "variant against --dtype named"
expect 2 "variant against --causal" -- "$FA" compile --arch sm80 --causal 1 --variant fwd_sm80_hd128_bf16_m128n64w4s2
grep_in err "--causal contradicts" "variant against --causal named"
expect 2 "variant twice" -- "$FA" compile --arch sm80 --variant fwd_sm80_hd128_bf16_m128n64w4s2 --variant fwd_sm80_hd128_bf16_m128n64w4s2
grep_in err "--variant 'fwd_sm80_hd128_bf16_m128n64w4s2' given twice" "variant twice named"
expect 2 "variant of a family not on the arch" -- "$FA" compile --arch sm90a --variant fwd_sm80_hd128_bf16_m128n64w4s2
grep_in err "--variant 'fwd_sm80_hd128_bf16_m128n64w4s2': kernel family sm80 does not run on sm90a" "family not on the arch named"
expect 2 "native for compile" -- "$FA" compile --arch sm99 --headdim 128
! grep -q native "$TMP/err" || { echo "FAIL: compile offers --arch native, which it refuses" >&2; fail=1; }
expect 2 "empty cache dir" -- "$FA" compile --arch sm80 --headdim 128 --cache-dir ""
grep_in err "cache-dir" "empty cache dir named"
expect 2 "bad format" -- "$FA" compile --arch sm80 --headdim 128 --format xml
expect 2 "unknown option" -- "$FA" compile --arch sm80 --headdim 128 --frobnicate
grep_in err "frobnicate" "unknown option names it"
expect 2 "bad variant name" -- "$FA" compile --arch sm80 --variant fwd_sm80_hd100_bf16_m64n64w4s1
grep_in err "head dim" "bad variant says what is wrong"

# A real sweep over the stub: the first 8 legal variants of the default space and the 6
# illegal ones between them (m64 tiles on 8 warps), cold then warm.
export FA_TUNE_TEMPLATES="$STUB"
expect 0 "stub sweep" -- "$FA" compile --arch sm80 --headdim 64 --limit 8 -j 2 --cache-dir "$TMP/cache"
grep_in out "fwd_sm80_hd64_bf16_m64n32w4s1 " "table lists the first variant"
grep_in out "unsupported" "table lists pruned variants"
grep_in out "rows per warp" "pruned variants say why"
grep_in out "miss" "cold run misses"
grep_in out "8 ok, 0 compile_error, 6 unsupported" "summary counts"
grep_in err "\[14/14\]" "progress on stderr"
expect 0 "stub sweep, warm" -- "$FA" compile --arch sm80 --headdim 64 --limit 8 -j2 --cache-dir "$TMP/cache"
grep_in out "8 cache hits" "warm run hits"

# The stub rejects m64n48w4s2q: a compile error is a result, exit 0.
expect 0 "compile error is a result" -- "$FA" compile --arch sm80 --variant fwd_sm80_hd64_bf16_m64n48w4s2q --variant fwd_sm80_hd64_fp16_causal_m64n48w4s2 --no-cache --format csv
grep_in out "^variant,status,registers" "csv header"
grep_in out "fwd_sm80_hd64_bf16_m64n48w4s2q,compile_error" "csv compile error row"
grep_in out "rejected on purpose" "compile error note quotes the log"
grep_in out "fwd_sm80_hd64_fp16_causal_m64n48w4s2,ok" "csv ok row"
grep_in err "1 ok, 1 compile_error" "csv summary on stderr"

# The engine failing is exit 1: a template folder without the kernel.
mkdir -p "$TMP/empty-templates" && echo "/* nothing */" >"$TMP/empty-templates/x.h"
FA_TUNE_TEMPLATES="$TMP/empty-templates" expect 1 "missing template" -- "$FA" compile --arch sm80 --headdim 64 --limit 1 --no-cache
grep_in err "fa_fwd_sm80.cuh" "missing template named"

[ "$fail" -eq 0 ] && echo "test_cli: ok" >&2
exit "$fail"
