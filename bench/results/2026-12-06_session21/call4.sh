#!/usr/bin/env bash
# Session 21, call 4 (~8 min, any Hopper GPU): issue 16's decode benchmark again on this machine
# start (decode: tuned beside the peers and the copy; decodep: the winners in peers.py's
# process), for the spread of call 2's result; then every GPU test (the harness's launch path
# changed: fa_runner_timing.c launch_one), its log written to $OUT as it goes.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s21c4 && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode decodep >"$OUT/decode.log" 2>&1
cp $W/decode.md $W/decodep.md $W/peers_decode.jsonl $W/decodep.jsonl "$OUT/" 2>/dev/null
tail -4 $W/decode.md
tail -3 $W/decodep.md
(cd build-gpu && ctest -L gpu --output-on-failure --timeout 300) >"$OUT/gpu_tests.log" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$OUT/gpu_tests.log" | tail -12
