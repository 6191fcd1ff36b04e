#!/usr/bin/env bash
# bench/ab_macro.sh -- A/B one template macro on the GPU: builds a second fa-tune from a copy of
# this tree with `#define MACRO VALUE` in FILE, then times each variant with both binaries,
# alternating A B A B ..., ROUNDS times (fa-tune bench, --no-eager). Run after
# `bash bench/gpu_run.sh build` (build-gpu is binary A; B takes its SQLite and cJSON paths).
#
#   bash bench/ab_macro.sh FILE MACRO VALUE ROUNDS "VARIANT BATCH HEADS SEQLEN" ...
#   bash bench/ab_macro.sh templates/sm90a/fa_plan_sm90a.h FA_SM90A_HEAD_MAJOR_MBLOCKS 16 3 \
#       "fwd_sm90a_hd128_bf16_causal_m192n128s2pe 8 16 2048"
#
# Prints one line per timing (binary, variant, TFLOP/s) and the median per binary last.
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
res=$(mktemp)
for spec in "$@"; do
    read -r v batch heads n <<<"$spec"
    for bin in A B; do # compile both first, outside the timed rounds
        [ $bin = A ] && f=$A || f=$B
        "$f" bench --variant "$v" --batch "$batch" --heads "$heads" --seqlen-q "$n" --no-eager \
            --min-reps 3 --max-reps 3 >/dev/null 2>&1
    done
    for r in $(seq "$rounds"); do
        for bin in A B; do
            [ $bin = A ] && f=$A || f=$B
            t=$("$f" bench --variant "$v" --batch "$batch" --heads "$heads" --seqlen-q "$n" \
                --no-eager --json 2>/dev/null | head -1 |
                python3 -c 'import json,sys; print(round(json.loads(sys.stdin.read())["tflops"], 1))')
            echo "$bin $v N=$n $t" | tee -a "$res"
        done
    done
done
python3 - "$res" "$macro" "$value" <<'EOF'
import sys, statistics, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 4:
        d[(p[1], p[2], p[0])].append(float(p[3]))
print(f"\nmedian TFLOP/s, A = as built, B = {sys.argv[2]} {sys.argv[3]}")
for (v, n) in sorted({(k[0], k[1]) for k in d}):
    a, b = d.get((v, n, "A"), []), d.get((v, n, "B"), [])
    if a and b:
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{v} {n}: A {ma:.1f}  B {mb:.1f}  B/A {mb / ma:.3f}")
EOF
