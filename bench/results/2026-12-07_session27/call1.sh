#!/usr/bin/env bash
# Session 27, call 1 on whatever GPU comes. On an H200 (~9 min): issue 14's replication, then
# issue 18's sweeps (session 26's call3.sh). On any other GPU (~4 min): the GPU tests but
# decode.gpu_check and sm90a.gpu_modes (run in sessions 24-25), which now include the emitted
# header's CUDA-graph and one-module-per-device cases (examples/embedded); each example's full
# output is kept, since ctest prints a passing test's lines only on failure.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
echo "GPU: $gpu"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >"$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-07_session26/call3.sh ;;
*)
    bash bench/gpu_run.sh --out /tmp/s27c1 build "tests:decode.gpu_check|sm90a.gpu_modes" \
        >"$OUT/tests.log" 2>&1
    cp /tmp/s27c1/gpu_tests.log "$OUT/" 2>/dev/null
    for ex in embedded embedded_mixed embedded_decode; do
        b=build-gpu/tests/emit/example_$ex/fa_embedded_example
        [ -x "$b" ] && "$b" >"$OUT/example_$ex.txt" 2>&1
        echo "example_$ex: exit $? ($(grep -c 'graph replay' "$OUT/example_$ex.txt" 2>/dev/null) graph lines)"
    done
    tail -32 "$OUT/tests.log"
    ;;
esac
