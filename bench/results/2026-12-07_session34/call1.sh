#!/usr/bin/env bash
# Session 34, call 1 on whatever GPU comes (~3 min; ~7.5 min on an H200): the build, then the
# harness's GPU tests and the sm80 modes' GPU checks with each eager setting (FA_EAGER_PAD=0
# and 1), which session 33's eager memory-plan change (d51a7e9, a58b68a) has not met on a GPU.
# On an H200, issue 14's replication follows (session 25's call2.sh, the grid at head dims 256,
# 128, 64 with halving, fa-tune inside peers.py's process beside SDPA cuDNN and flash).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu" | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out "$OUT" build >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
echo "build: ${SECONDS}s"
for pad in 0 1; do
    (cd build-gpu && FA_EAGER_PAD=$pad ctest -R '^harness_gpu|^kernel_gpu_modes' -V --timeout 300) \
        >"$OUT/gpu_tests_pad$pad.log" 2>&1
    echo "FA_EAGER_PAD=$pad: $(grep -E "tests passed" "$OUT/gpu_tests_pad$pad.log") (${SECONDS}s)"
    grep -E "short seqs|check failed|\*\*\*Failed" "$OUT/gpu_tests_pad$pad.log" | cut -c1-200
done
case $gpu in
*H200*)
    mkdir -p "$OUT/i14"
    OUT="$OUT/i14" timeout $((590 - SECONDS)) bash bench/results/2026-12-06_session25/call2.sh
    echo "issue 14 rc=$? (${SECONDS}s)"
    ;;
esac
