#!/usr/bin/env bash
# Session 17, call 1: on an H200, issue 18's exhaustive bar (session 16's call5_h200.sh: the full
# default hd128 job, cold, gated); on any GPU, session 16's call6.sh (which factor of the h2h
# run makes its interleaved re-timing read causal kernels low). Outputs in one tarball.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
S16=bench/results/2026-12-06_session16
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)
echo "gpu: $gpu"
case $gpu in
*H200*) bash $S16/call5_h200.sh >"$OUT/call5.log" 2>&1; tail -25 "$OUT/call5.log" ;;
*) echo "not an H200: exhaustive bar skipped" ;;
esac
bash $S16/call6.sh 2>&1 | tee "$OUT/call6.txt"
bash bench/results/2026-12-06_session17/ncu_pair.sh 2>&1 | tee "$OUT/ncu_pair.txt"
tar -czf /tmp/call1.tgz -C "$OUT" . && mv /tmp/call1.tgz "$OUT/"
find "$OUT" -mindepth 1 ! -name call1.tgz ! -name call6.txt ! -name ncu_pair.txt ! -name call5.log -delete
