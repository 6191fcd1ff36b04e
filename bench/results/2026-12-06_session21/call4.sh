#!/usr/bin/env bash
# Session 21, call 4 (~8 min, any Hopper GPU): every GPU test (the harness's launch path changed:
# fa_runner_timing.c launch_one), then issue 16's decode benchmark again on this machine start
# (decode: tuned beside the peers and the copy; decodep: the winners in peers.py's process),
# for the spread of call 2's result.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s21c4 && mkdir -p $W
bash bench/gpu_run.sh --out $W build tests >"$OUT/tests.log" 2>&1
tail -25 "$OUT/tests.log"
cp $W/gpu_tests.log "$OUT/" 2>/dev/null
bash bench/gpu_run.sh --out $W decode decodep >"$OUT/decode.log" 2>&1
cp $W/decode.md $W/decodep.md $W/peers_decode.jsonl $W/decodep.jsonl "$OUT/" 2>/dev/null
tail -4 $W/decode.md
tail -3 $W/decodep.md
