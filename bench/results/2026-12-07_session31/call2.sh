#!/usr/bin/env bash
# Session 31, call 2 on whatever GPU comes, with about 1,190 s of device time left.
# On an H200 (~8.5 min): issue 14's replication, then issue 18's sweeps (session 29's call3.sh).
# On any other GPU (~5 min): every GPU test (ctest -L gpu, none left out) on main with
# hash_once.patch, whose worker path call 1 checked only through the harness's GPU tests: the
# decode, sm90a, kernel and emitted-header tests run their jobs through the same worker.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
echo "$gpu" >"$OUT/gpu.txt"
case $gpu in
*H200*)
    OUT=$OUT bash bench/results/2026-12-07_session29/call3.sh
    exit 0
    ;;
esac
timeout 560 bash bench/gpu_run.sh --out "$OUT" build tests >"$OUT/tests.log" 2>&1
echo "tests rc=$?"
grep -E "tests passed|Failed|\*\*\*|Total Test" "$OUT/gpu_tests.log" | tail -8
