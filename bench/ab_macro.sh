#!/usr/bin/env bash
# bench/ab_macro.sh -- A/B one template macro on the GPU: builds a second fa-tune from a copy of
# this tree with `#define MACRO VALUE` in FILE, then times each variant with both binaries,
# alternated, ROUNDS rounds (bench/ab_bench.py). Run after
# `bash bench/gpu_run.sh build` (build-gpu is binary A; B takes its SQLite and cJSON paths).
#
#   bash bench/ab_macro.sh FILE MACRO VALUE ROUNDS "VARIANT BATCH HEADS SEQLEN" ...
#   bash bench/ab_macro.sh templates/sm90a/fa_plan_sm90a.h FA_SM90A_HEAD_MAJOR_MBLOCKS 16 3 \
#       "fwd_sm90a_hd128_bf16_causal_m192n128s2pe 8 16 2048"
#
# The timing is bench/ab_bench.py's (arm A: as built; arm B: the macro changed): one line per
# run, then each variant's median time per binary, the change and whether the ranges are apart.
set -uo pipefail
cd "$(dirname "$0")/.."
file=$1 macro=$2 value=$3 rounds=$4
shift 4
A=$PWD/build-gpu/fa-tune
[ -x "$A" ] || { echo "ab_macro: build binary A first (bash bench/gpu_run.sh build)" >&2; exit 2; }
grep -q "^#define $macro " "$file" || { echo "ab_macro: no '#define $macro' in $file" >&2; exit 2; }
SRC=/tmp/ab_src
rm -rf "$SRC" && mkdir -p "$SRC"
tar --exclude=./build-gpu --exclude=./out --exclude=./.fa-cache -cf - . | tar -xf - -C "$SRC"
sed -i "s|^#define $macro .*|#define $macro $value|" "$SRC/$file"
# B is configured as A was: its SQLite and cJSON locations (gpu_run.sh's build stage chose them)
mapfile -t extra < <(grep -E '^(SQLite3_INCLUDE_DIR|SQLite3_LIBRARY|FA_CJSON_INCLUDE_DIR|FA_CJSON_LIBRARY):' \
    "$PWD/build-gpu/CMakeCache.txt" | sed 's/^\([A-Za-z0-9_]*\):[A-Z]*=/-D\1=/')
if ! { cmake -S "$SRC" -B "$SRC/b" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF "${extra[@]}" &&
       cmake --build "$SRC/b" -j"$(nproc)" --target fa-tune; } >/tmp/ab_build.log 2>&1; then
    tail -20 /tmp/ab_build.log
    exit 1
fi
B=$SRC/b/fa-tune
specs=()
for spec in "$@"; do
    read -r v batch heads n <<<"$spec"
    specs+=("$v --batch $batch --heads $heads --seqlen-q $n")
done
exec python3 bench/ab_bench.py --fa-tune "$A" --rounds "$rounds" --arm A --arm "B=bin=$B" \
    "${specs[@]}"
