#!/bin/sh
# This file implements the test of `fa-tune compile --cubin-dir DIR` on the CPU (NVRTC, the
# stub sm80 template of tests/compile/data, so it is quick):
#   - every variant that compiles is written as DIR/<name>.cubin (an ELF file), the folder is
#     created with its parents; unsupported variants and compile errors write nothing, and no
#     temporary file is left;
#   - a second run (cache hits) writes the same bytes, replacing the file (new inode);
#   - a read-only DIR/<name>.cubin is refused (exit 1) and left byte-identical;
#   - a DIR that is a file is refused (exit 1) before anything compiles, the file untouched;
#   - an empty DIR is a usage error (exit 2).
# usage: test_cubin_dir.sh <fa-tune binary> <stub template dir>
set -u
FA=$1
export FA_TUNE_TEMPLATES=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-cubin-dir-XXXXXX")
trap 'chmod -R u+w "$TMP"; rm -rf "$TMP"' EXIT
fail=0
bad() {
    echo "FAIL: $*" >&2
    fail=1
}
run() { # run WANT DESCRIPTION -- cmd...
    want=$1 what=$2
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq "$want" ] || { bad "$what: exit $got, want $want"; sed 's/^/  stderr: /' "$TMP/err" >&2; }
}
OK1=fwd_sm80_hd64_bf16_m64n32w4s1
OK2=fwd_sm80_hd64_fp16_causal_m64n48w4s2
BAD=fwd_sm80_hd64_bf16_m64n48w4s2q      # the stub rejects it: a compile error
ILLEGAL=fwd_sm80_hd64_bf16_m64n32w8s1   # 8 warps on 64 rows: unsupported
D=$TMP/deep/cubins
set -- --arch sm80 --variant $OK1 --variant $OK2 --variant $BAD --variant $ILLEGAL
run 0 "sweep with --cubin-dir" -- "$FA" compile "$@" --cache-dir "$TMP/cache" --cubin-dir "$D"
grep -q "2 ok, 1 compile_error, 1 unsupported" "$TMP/out" || bad "summary: $(tail -2 "$TMP/out")"
grep -q "2 cubins written to $D" "$TMP/err" || bad "no 'written' line: $(cat "$TMP/err")"
ls "$D" >"$TMP/ls"
printf '%s.cubin\n%s.cubin\n' $OK1 $OK2 | sort | cmp -s - "$TMP/ls" || bad "files in DIR: $(cat "$TMP/ls")"
for v in $OK1 $OK2; do
    [ "$(head -c 4 "$D/$v.cubin" | od -An -c | tr -d ' ')" = "177ELF" ] || bad "$v.cubin is not ELF"
done
cp "$D/$OK1.cubin" "$TMP/first.cubin"
ino1=$(stat -c %i "$D/$OK1.cubin")

run 0 "warm sweep with --cubin-dir" -- "$FA" compile "$@" --cache-dir "$TMP/cache" --cubin-dir "$D"
grep -q "3 cache hits" "$TMP/out" || bad "warm run did not hit: $(tail -2 "$TMP/out")"
cmp -s "$TMP/first.cubin" "$D/$OK1.cubin" || bad "warm run wrote other bytes"
[ "$(stat -c %i "$D/$OK1.cubin")" != "$ino1" ] || bad "warm run did not replace the file atomically"
[ "$(ls -a "$D" | wc -l)" -eq 4 ] || bad "stray files: $(ls -a "$D")"

chmod a-w "$D/$OK2.cubin"
sum=$(sha256sum <"$D/$OK2.cubin")
run 1 "read-only cubin" -- "$FA" compile "$@" --cache-dir "$TMP/cache" --cubin-dir "$D"
grep -q "$OK2.cubin" "$TMP/err" || bad "read-only refusal does not name the file: $(cat "$TMP/err")"
[ "$(sha256sum <"$D/$OK2.cubin")" = "$sum" ] || bad "read-only cubin changed"
[ "$(ls -a "$D" | wc -l)" -eq 4 ] || bad "stray files after a refusal: $(ls -a "$D")"

echo "not a folder" >"$TMP/file"
sum=$(sha256sum <"$TMP/file")
run 1 "DIR is a file" -- "$FA" compile "$@" --no-cache --cubin-dir "$TMP/file"
grep -q "cubin directory '$TMP/file'" "$TMP/err" || bad "file DIR not named: $(cat "$TMP/err")"
grep -q "compiled" "$TMP/err" && bad "compiled before refusing the DIR"
[ "$(sha256sum <"$TMP/file")" = "$sum" ] || bad "the file DIR changed"
run 1 "DIR under a file" -- "$FA" compile "$@" --no-cache --cubin-dir "$TMP/file/sub"
run 2 "empty DIR" -- "$FA" compile "$@" --no-cache --cubin-dir ""
grep -q "cubin-dir" "$TMP/err" || bad "empty DIR not named"

[ "$fail" -eq 0 ] && echo "test_cubin_dir: ok" >&2
exit "$fail"
