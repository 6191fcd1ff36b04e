#!/usr/bin/env bash
# Session 27, the last call (~400 s of device time left): on an H200, issue 14's replication
# alone (session 25's call2.sh, ~3.5 min); on any other GPU, the build and only the embedded
# example's GPU runs (its CUDA-graph and one-module-per-device cases), each output kept.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-06_session25/call2.sh ;;
*)
    bash bench/gpu_run.sh --out /tmp/s27c3 build >"$OUT/build.log" 2>&1 || tail -20 "$OUT/build.log"
    (cd build-gpu && ctest -R 'emit\.example_embedded(_decode)?\.run$' --output-on-failure) \
        >"$OUT/tests.log" 2>&1
    for ex in embedded embedded_decode; do
        b=build-gpu/tests/emit/example_$ex/fa_embedded_example
        [ -x "$b" ] && "$b" >"$OUT/example_$ex.txt" 2>&1
        echo "example_$ex: exit $? ($(grep -c 'graph replay' "$OUT/example_$ex.txt" 2>/dev/null) graph lines)"
    done
    grep -E "tests passed|Passed|Failed|\*\*\*" "$OUT/tests.log" | tail -12
    ;;
esac
