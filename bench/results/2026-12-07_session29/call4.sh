#!/usr/bin/env bash
# Session 29, call 4 on whatever GPU comes (~2 min; the device time left fits no more): the
# harness's GPU tests (harness_gpu_*: the references, poisoning, faults, the interleaved
# re-timing with its racing, the timing protocol, `fa-tune bench`) on this session's harness,
# the 2-round racing rule and the trace included.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out "$OUT" build >"$OUT/build.log" 2>&1
T=$(cd "$OUT" && pwd)/trace.txt
(cd build-gpu && FA_TUNE_RETIME_TRACE=$T ctest -L gpu -R '^harness_gpu' \
    --output-on-failure --timeout 300) >"$OUT/gpu_tests.log" 2>&1
grep -E "tests passed|Passed|Failed|\*\*\*" "$OUT/gpu_tests.log" | tail -12
echo "trace: $(grep -c '^group' "$T") groups, $(grep -c '^time' "$T") timings"
