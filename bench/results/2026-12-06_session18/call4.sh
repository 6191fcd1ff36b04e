#!/usr/bin/env bash
# Session 18, call 4 (one call, <= 580 s): on whichever GPU comes (an H200 is what issues 14 and
# 18 name), (1) FlashAttention's grid tuned with v13 on and the head to head three ways
# (call2.sh's stages); (2) the full default hd128 job cold, exhaustive, both gates at their
# defaults (issue 18's 120 s bar); (3) the same cold with --stage-gate 0 (what the stage gate
# saves on this host), cut short by the time left. Outputs in one tarball.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
t0=$(date +%s)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh build info tune:256:halving tune:128:halving tune:64:halving \
    h2hs:2 h2hb:2 compare >"$OUT/grid.log" 2>&1
python3 bench/results/2026-12-06_session17/protocols.py "$OUT" h2hs >"$OUT/protocols.md"
tail -3 "$OUT/protocols.md"
bash bench/gpu_run.sh sweep:128:exhaustive:exs:cold >"$OUT/exs_call.log" 2>&1
grep -E "rc |wall|not compiled" "$OUT/exs_call.log" | cut -c1-400
left=$((575 - ($(date +%s) - t0)))
echo "$left s left for the ungated cold run"
timeout "$left" bash bench/gpu_run.sh "sweep:128:exhaustive:exu:cold:--stage-gate 0" >"$OUT/exu_call.log" 2>&1
echo "exu rc=$?"
grep -E "rc |wall|not compiled" "$OUT/exu_call.log" | cut -c1-400
tar -czf /tmp/call4.tgz -C "$OUT" --exclude='*.db*' . && mv /tmp/call4.tgz "$OUT/"
find "$OUT" -mindepth 1 ! -name call4.tgz ! -name protocols.md ! -name gpu.txt -delete
