#!/usr/bin/env bash
# Session 21, call 5 (~6 min, any Hopper GPU; what is left of the device time after call 4 was
# refused): the GPU tests call 1 did not run (the harness's launch path changed for every
# family: fa_runner_timing.c launch_one), then the decode benchmark again if time is left.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s21c5 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
(cd build-gpu && ctest -L gpu -R "aot|kernel_gpu_modes|sm90a.gpu_modes" --output-on-failure \
    --timeout 240) >"$OUT/gpu_tests.log" 2>&1
grep -E "Test +#|tests passed|Failed|\*\*\*" "$OUT/gpu_tests.log" | tail -14
bash bench/gpu_run.sh --out $W decode >"$OUT/decode.log" 2>&1
cp $W/decode.md $W/peers_decode.jsonl "$OUT/" 2>/dev/null
tail -22 $W/decode.md
