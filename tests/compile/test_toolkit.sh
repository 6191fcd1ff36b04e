#!/bin/sh
# This file implements the toolkit-finding test: fa-tune links no CUDA library and carries no
# RUNPATH (so an installed copy starts anywhere), and it finds NVRTC, its builtins and the
# headers in the toolkit it is pointed at ($CUDA_HOME first), not through the loader's path.
# usage: test_toolkit.sh <fa-tune binary> <the build's CUDA toolkit root>
set -u
FA=$1
CUDA=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-toolkit-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0
say() { echo "FAIL: $*" >&2; fail=1; }

# 1. Nothing from the toolkit is linked, and no RUNPATH points into it.
if command -v readelf >/dev/null 2>&1; then
    dyn=$(readelf -d "$FA")
    echo "$dyn" | grep -q 'NEEDED.*lib\(nvrtc\|cublas\|cuda\|cudart\)' && say "fa-tune links a CUDA library: $(echo "$dyn" | grep NEEDED)"
    echo "$dyn" | grep -q 'R\(UN\)\?PATH' && say "fa-tune has a RUNPATH: $(echo "$dyn" | grep PATH)"
fi

# 2. A toolkit root of our own (links to the real files), named by CUDA_HOME: `info` loads
#    NVRTC from it, and a compile through it works.
libdir=""
for d in lib64 lib targets/x86_64-linux/lib targets/sbsa-linux/lib; do
    if ls "$CUDA/$d"/libnvrtc.so.* >/dev/null 2>&1; then libdir="$CUDA/$d"; break; fi
done
[ -n "$libdir" ] || { echo "no libnvrtc under '$CUDA': skipped" >&2; exit 77; }
mkdir -p "$TMP/cuda/lib64"
ln -s "$CUDA/include" "$TMP/cuda/include"
for f in "$libdir"/libnvrtc.so.* "$libdir"/libnvrtc-builtins.so.*; do
    ln -s "$f" "$TMP/cuda/lib64/$(basename "$f")"
done
CUDA_HOME="$TMP/cuda" "$FA" info >"$TMP/out" 2>"$TMP/err"
grep -q "NVRTC [0-9.]* ($TMP/cuda/lib64/libnvrtc.so" "$TMP/out" ||
    say "info did not load NVRTC from CUDA_HOME: $(cat "$TMP/out" "$TMP/err")"

# 2b. A CUDA_HOME that names no folder is skipped, and `info` says so.
CUDA_HOME="$TMP/no-such-toolkit" "$FA" info >"$TMP/out" 2>"$TMP/err"
grep -q "note: CUDA_HOME='$TMP/no-such-toolkit' is not a folder: ignored" "$TMP/out" ||
    say "info does not note a CUDA_HOME that is not a folder: $(cat "$TMP/out" "$TMP/err")"
grep -q "NVRTC [0-9]" "$TMP/out" || say "a bad CUDA_HOME stopped the search: $(cat "$TMP/out")"

# 3. A named library that does not exist is an error naming it, not a crash.
FA_TUNE_LIBNVRTC="$TMP/none/libnvrtc.so" "$FA" info >"$TMP/out" 2>"$TMP/err"
grep -q "NVRTC unavailable: cannot load NVRTC" "$TMP/out" ||
    say "a missing NVRTC is not reported: $(cat "$TMP/out" "$TMP/err")"
FA_TUNE_LIBNVRTC="$TMP/none/libnvrtc.so" "$FA" compile --arch sm80 --headdim 64 --cache-dir "$TMP/cache" \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] || say "compile without NVRTC: exit $rc, want 1"
grep -q "cannot load NVRTC from FA_TUNE_LIBNVRTC='$TMP/none/libnvrtc.so'" "$TMP/err" ||
    say "compile without NVRTC does not name the override: $(cat "$TMP/err")"
grep -q "CUDA_HOME" "$TMP/err" && say "a failed override advises CUDA_HOME: $(cat "$TMP/err")"

# 4. The CUDA headers are in the cache key: a toolkit whose cuda_fp16.h changes in place (same
#    NVRTC) recompiles instead of handing back the old result (a compile error included).
mkdir -p "$TMP/tk/lib64" && cp -rs "$CUDA/include" "$TMP/tk/include" 2>/dev/null
for f in "$libdir"/libnvrtc.so.* "$libdir"/libnvrtc-builtins.so.*; do
    ln -s "$f" "$TMP/tk/lib64/$(basename "$f")"
done
rm "$TMP/tk/include/cuda_fp16.h" && cp "$CUDA/include/cuda_fp16.h" "$TMP/tk/include/"
v=fwd_sm80_hd64_bf16_m64n64w4s1
hits() { # hits: the sweep's "N cache hits" after one compile of $v through $TMP/tk
    CUDA_HOME="$TMP/tk" "$FA" compile --arch sm80 --variant $v --cache-dir "$TMP/tkcache" 2>&1 |
        sed -n 's/.* \([0-9]*\) cache hits.*/\1/p'
}
[ "$(hits)" = 0 ] || say "the first compile through \$TMP/tk was a hit"
[ "$(hits)" = 1 ] || say "the second compile through \$TMP/tk was not a hit"
echo "// edited in place" >>"$TMP/tk/include/cuda_fp16.h"
[ "$(hits)" = 0 ] || say "a changed cuda_fp16.h still hit the cache"
exit $fail
