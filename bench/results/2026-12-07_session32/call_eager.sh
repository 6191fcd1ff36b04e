#!/usr/bin/env bash
# Session 32, call 1 (as run, when padding was the default and FA_EAGER_LOOP=1 gave the loop;
# landed: the loop is the default, FA_EAGER_PAD=1 pads; see call_final.sh). The padded varlen
# eager baseline on whatever GPU comes (~5 min): the build, the
# harness's GPU tests and the sm80 modes' GPU checks (the varlen eager is their yardstick; the
# reference test compares the padded eager and the old loop, FA_EAGER_LOOP=1, with a CPU
# reference), then eager_ab.py: the loop and the padded eager on FlashAttention's varlen shapes,
# alternated, beside an sm90a varlen kernel.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
HERE=bench/results/2026-12-07_session32
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu" | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out "$OUT" build || exit 1
(cd build-gpu && ctest -R '^harness_gpu|^kernel_gpu_modes' --output-on-failure --timeout 300) \
    >"$OUT/gpu_tests.log" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$OUT/gpu_tests.log" | tail -8
grep -E "short seqs|check failed" "$OUT/gpu_tests.log" | cut -c1-240
timeout $((570 - SECONDS)) python3 "$HERE/eager_ab.py" build-gpu/fa-tune 2 loop \
    >"$OUT/eager_ab.md" 2>"$OUT/eager_ab.log"
cat "$OUT/eager_ab.md"
tail -5 "$OUT/eager_ab.log"
