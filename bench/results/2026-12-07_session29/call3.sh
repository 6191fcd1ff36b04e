#!/usr/bin/env bash
# Session 29, call 3 on whatever GPU comes. On any GPU but an H200 (~4 min): the GPU tests
# (without decode.gpu_check and sm90a.gpu_modes, which ran in sessions 24-25), on this session's
# harness (the 2-round racing rule, the trace). On an H200 (~8.5 min; issue 14's bars and issue
# 18's are stated for one, and both were measured on an H100 since session 17): issue 14's
# replication first (session 25's call2.sh: the grid tuned at head dims 256, 128, 64
# with halving, then fa-tune inside peers.py's process beside SDPA cuDNN and flash, 3 rounds),
# then issue 18's sweeps (session 23's call4.sh: the full default hd128 job exhaustive cold,
# halving cold and warm, halving's winners re-timed beside exhaustive's).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in
*H200*) ;;
*)
    echo "$gpu" >"$OUT/gpu.txt"
    bash bench/gpu_run.sh --out "$OUT" build 'tests:decode.gpu_check|sm90a.gpu_modes' \
        >"$OUT/tests.log" 2>&1
    grep -E "tests passed|Failed|\*\*\*" "$OUT/gpu_tests.log" | tail -5
    exit 0
    ;;
esac
mkdir -p "$OUT/i14" "$OUT/i18"
OUT="$OUT/i14" timeout 270 bash bench/results/2026-12-06_session25/call2.sh
echo "issue 14 rc=$?"
# I18=0: issue 14 alone (when the device time left does not fit both)
if [ "${I18:-1}" = 1 ]; then
    OUT="$OUT/i18" timeout $((580 - SECONDS)) bash bench/results/2026-12-06_session23/call4.sh
    echo "issue 18 rc=$?"
fi
