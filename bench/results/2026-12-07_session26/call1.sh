#!/usr/bin/env bash
# Session 26, call 1 on whatever GPU comes. On an H200 (~5 min): issue 18's bars (session 23's
# call4.sh). On any other GPU (~4 min): the emitted-header GPU tests (emit.*), which never came
# back in session 25, and the harness and kernel GPU tests (decode and sm90a ran in 24-25).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in
*H200*) bash bench/results/2026-12-06_session23/call4.sh ;;
*)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >"$OUT/gpu.txt"
    bash bench/gpu_run.sh --out /tmp/s26c1 build "tests:decode.gpu_check|sm90a.gpu_modes" \
        >"$OUT/tests.log" 2>&1
    tail -40 "$OUT/tests.log"
    cp /tmp/s26c1/gpu_tests.log "$OUT/" 2>/dev/null
    ;;
esac
