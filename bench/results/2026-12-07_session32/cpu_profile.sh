#!/usr/bin/env bash
# Session 32: where the CPU time of a cold compile-only sweep goes (issue 18's CPU bar), on
# this 2-core machine: perf's samples by shared object for 48 variants of the bar's set, then
# each allocator (glibc, glibc with large trim/mmap thresholds, jemalloc, tcmalloc) on 32
# variants, alternated twice. Needs perf, libjemalloc2, libtcmalloc-minimal4.
set -uo pipefail
cd "$(dirname "$0")/../../.."
names=bench/results/2026-12-05_cpu_session15/sm80_hd64_2d1cb20_variants.txt
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
args=()
for v in $(head -48 "$names"); do args+=(--variant "$v"); done
perf record -o "$W/perf.data" ./build/fa-tune compile --arch sm80 "${args[@]}" \
    --cache-dir "$W/cache" -j 2 >/dev/null 2>&1
perf report -i "$W/perf.data" --sort dso --no-children -g none 2>/dev/null | grep "%"
args=()
for v in $(head -32 "$names"); do args+=(--variant "$v"); done
lib=/usr/lib/x86_64-linux-gnu
run() { # run LABEL ENV...: user, sys and wall seconds of a cold compile of the 32
    rm -rf "$W/cache"
    env "${@:2}" /usr/bin/time -f "%U %S %e" -o "$W/t" ./build/fa-tune compile --arch sm80 \
        "${args[@]}" --cache-dir "$W/cache" -j 2 >/dev/null 2>&1
    echo "$1: user/sys/wall $(cat "$W/t")"
}
for r in 1 2; do
    run glibc X=1
    run glibc-thresholds \
        GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=1073741824
    run jemalloc LD_PRELOAD=$lib/libjemalloc.so.2
    run tcmalloc LD_PRELOAD=$lib/libtcmalloc_minimal.so.4
done
