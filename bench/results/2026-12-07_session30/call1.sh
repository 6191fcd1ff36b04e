#!/usr/bin/env bash
# Session 30, call 1 on whatever GPU comes.
# On an H200: session 29's call3.sh (issue 14's replication, then issue 18's sweeps, ~8.5 min;
# both issues' bars are stated for an H200 and none has come since session 17).
# On any other GPU (~3 min): where warm halving's time goes beyond the runner's phases. The full
# default hd128 job with halving from a cold cache, then warm twice, with FA_PROFILE's new lines:
# the runner's "release" phase, the worker child's message handling (payloads, runner calls, the
# rest) and the parent's time from sending each message to reading its answer. In session 29's
# warm runs the engine's "GPU busy" was 20.2 s against 18.3 s in the runner's phases.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
echo "$gpu" >"$OUT/gpu.txt"
case $gpu in
*H200*) exec bash bench/results/2026-12-07_session29/call3.sh ;;
esac
W=/tmp/s30c1 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/sweeps.log" 2>&1
for s in sweep:128:halving:hc:cold sweep:128:halving:hw1:warm sweep:128:halving:hw2:warm; do
    bash bench/gpu_run.sh --out $W $s >>"$OUT/sweeps.log" 2>&1
done
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
grep -E "^=== |rc |wall|profile" "$OUT/sweeps.log" | cut -c1-300
