#!/usr/bin/env bash
# Session 34, call 3 on whatever GPU comes (~5-7 min; stages past DEADLINE seconds, default
# 400, are left out, so it fits the device time left): decode's shared compiles on the GPU.
# Variants that differ only in splits or the fused combine share one kernel; the compile pool
# and the cache now compile it once (compile_share.patch). Here:
#  1. both arms built: this tree (new) and a copy with compile_share.patch reversed (base);
#  2. the decode GPU tests on new (decode.gpu_check; the emitted header's decode examples);
#  3. the decode shapes (bench/decode_shapes.txt, halving) tuned from a cold kernel cache,
#     base then new, each arm its own cache (FA_PROFILE on), then new warm, then (time
#     allowing) base and new cold once more;
#  4. the winners of the first base and new runs (fa-tune db best, both into winners.md);
#  5. SDPA on the same shapes, and the decode table of the first new and base runs (issue 16
#     on this GPU; bench/compare_decode.py).
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OUT=${OUT:-out}
mkdir -p "$OUT" && OUT=$(realpath "$OUT")
HERE=bench/results/2026-12-07_session34
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu" | tee "$OUT/gpu.txt"
W=/tmp/s34c3 && rm -rf $W && mkdir -p $W
BASE=/tmp/s34base && rm -rf $BASE && mkdir -p $BASE
tar --exclude=./build-gpu --exclude=./build --exclude=./out --exclude=./.fa-cache \
    --exclude=./.fa-cache-sweep -cf - . | tar -xf - -C $BASE
(cd $BASE && patch -R -p1 -s <"$ROOT/$HERE/compile_share.patch") || { echo "patch -R failed"; exit 1; }
for tree in "$ROOT" "$BASE"; do
    bash "$tree/bench/gpu_run.sh" --out $W build >>"$OUT/build.log" 2>&1 ||
        { echo "build of $tree failed"; tail -20 "$OUT/build.log"; exit 1; }
done
echo "built (${SECONDS}s)"
(cd build-gpu && timeout 180 ctest -R '^decode.gpu_check|^emit.(embed_decode|example_embedded_decode)' \
    --output-on-failure --timeout 240) >"$OUT/gpu_tests.log" 2>&1
echo "decode GPU tests: $(grep -E "tests passed" "$OUT/gpu_tests.log") (${SECONDS}s)"
grep -E "\*\*\*Failed|check failed" "$OUT/gpu_tests.log" | head -5
tune() { # arm run cold|warm
    local bin=$ROOT/build-gpu/fa-tune t0
    [ "$1" = base ] && bin=$BASE/build-gpu/fa-tune
    [ "$3" = cold ] && rm -rf "/tmp/cache_$1"
    t0=$(date +%s.%N)
    FA_PROFILE=1 FA_TUNE_CACHE_DIR=/tmp/cache_$1 "$bin" --arch sm90 --shapes bench/decode_shapes.txt \
        --strategy halving --db "$W/$1$2.db" >"$W/$1$2.txt" 2>"$W/$1$2.log"
    echo "| $1 | $3 | $? | $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s |" \
        "$(grep -ho "[0-9]* variants in [0-9]* classes: [0-9]* compiled ([0-9]* cached)" "$W/$1$2.txt" "$W/$1$2.log" | head -1) |" \
        "$(grep -ho "GPU busy [0-9.]* s" "$W/$1$2.log" | head -1) |"
}
DEADLINE=${DEADLINE:-400}
{
    echo "| arm | cache | rc | wall | variants, compiles | GPU busy |"
    echo "|---|---|---|---|---|---|"
    tune base 1 cold
    tune new 1 cold
    tune new 3 warm
    if [ $SECONDS -lt $((DEADLINE - 150)) ]; then
        tune base 2 cold
        tune new 2 cold
    fi
} | tee "$OUT/ab.md"
echo "(${SECONDS}s)"
for r in base1 new1; do echo "## $r"; build-gpu/fa-tune db best --db "$W/$r.db"; done >"$OUT/winners.md" 2>&1
if [ $SECONDS -lt $((DEADLINE - 60)) ]; then
    PYTHONUNBUFFERED=1 timeout $((DEADLINE + 60 - SECONDS)) python3 bench/peers.py --decode \
        --shapes bench/decode_shapes.txt -o $W/peers.jsonl 2>$W/peers.log || tail -3 $W/peers.log
    python3 bench/compare_decode.py "$W/new1.db" $W/peers.jsonl >"$OUT/decode.md"
    python3 bench/compare_decode.py "$W/base1.db" $W/peers.jsonl >"$OUT/decode_base.md"
    tail -4 "$OUT/decode.md"
fi
tar -czf "$OUT/runs.tgz" -C $W --exclude='*.db-*' .
echo "done (${SECONDS}s)"
