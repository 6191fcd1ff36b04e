#!/usr/bin/env bash
# Session 32, call 2 (~3 min), the eager as landed (the loop by default, FA_EAGER_PAD=1 pads):
# the harness's GPU tests and the sm80 modes' GPU checks with each, verbose (each case's errors
# against the CPU reference), then, if time is left, eager_ab.py once more.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
HERE=bench/results/2026-12-07_session32
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu" | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out "$OUT" build || exit 1
for pad in 0 1; do
    (cd build-gpu && FA_EAGER_PAD=$pad ctest -R '^harness_gpu|^kernel_gpu_modes' -V --timeout 300) \
        >"$OUT/gpu_tests_pad$pad.log" 2>&1
    echo "FA_EAGER_PAD=$pad: $(grep -E "tests passed" "$OUT/gpu_tests_pad$pad.log")"
    grep -E "short seqs|check failed|\*\*\*Failed" "$OUT/gpu_tests_pad$pad.log" | cut -c1-200
done
[ $SECONDS -lt 200 ] && timeout $((300 - SECONDS)) python3 "$HERE/eager_ab.py" build-gpu/fa-tune 2 pad \
    >"$OUT/eager_ab.md" 2>"$OUT/eager_ab.log"
cat "$OUT/eager_ab.md"
tail -5 "$OUT/eager_ab.log"
