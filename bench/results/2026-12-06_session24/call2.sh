#!/usr/bin/env bash
# Session 24, call 2 on whatever GPU comes. On an H200 (~5 min): issue 18's bars (session 23's
# call4.sh: the full default hd128 job with both families, exhaustive cold, halving cold and
# warm, then halving's winners re-timed beside exhaustive's). On any other GPU (~4 min): the
# rest of the GPU tests on main with decode v5 (those call1_short.sh ran left out).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in
*H200*) bash bench/results/2026-12-06_session23/call4.sh ;;
*)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >"$OUT/gpu.txt"
    bash bench/gpu_run.sh --out /tmp/s24c2 build \
        "tests:decode.gpu_check|embed_decode|embedded_decode|harness_gpu_bench_cli" \
        >"$OUT/tests.log" 2>&1
    tail -30 "$OUT/tests.log"
    cp /tmp/s24c2/gpu_tests.log "$OUT/"
    ;;
esac
