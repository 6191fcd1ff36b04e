#!/usr/bin/env bash
# Session 27, a short call (~600 s of device time left): on an H200, issue 14's replication
# alone (session 25's call2.sh, ~3.5 min); on any other GPU, the emitted header's GPU tests
# alone (emit.*: the CUDA-graph and one-module-per-device cases of examples/embedded among
# them), each example's full output kept.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-06_session25/call2.sh ;;
*)
    bash bench/gpu_run.sh --out /tmp/s27c2 build \
        "tests:decode.gpu_check|sm90a.gpu_modes|harness_gpu|kernel_gpu" >"$OUT/tests.log" 2>&1
    cp /tmp/s27c2/gpu_tests.log "$OUT/" 2>/dev/null
    for ex in embedded embedded_mixed embedded_decode; do
        b=build-gpu/tests/emit/example_$ex/fa_embedded_example
        [ -x "$b" ] && "$b" >"$OUT/example_$ex.txt" 2>&1
        echo "example_$ex: exit $? ($(grep -c 'graph replay' "$OUT/example_$ex.txt" 2>/dev/null) graph lines)"
    done
    tail -30 "$OUT/tests.log"
    ;;
esac
