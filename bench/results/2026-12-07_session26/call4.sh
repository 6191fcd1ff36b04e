#!/usr/bin/env bash
# Session 26, the last call (~300 s of device time left): on an H200, issue 14's replication
# alone (session 25's call2.sh, ~3.5 min); on any other GPU, the emitted header's GPU tests
# alone (emit.*: never came back in session 25).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
case $gpu in
*H200*) bash bench/results/2026-12-06_session25/call2.sh ;;
*)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
    bash bench/gpu_run.sh --out /tmp/s26c4 build \
        "tests:decode.gpu_check|sm90a.gpu_modes|harness_gpu|kernel_gpu" >"$OUT/tests.log" 2>&1
    tail -30 "$OUT/tests.log"
    cp /tmp/s26c4/gpu_tests.log "$OUT/" 2>/dev/null
    ;;
esac
