#!/usr/bin/env bash
# Session 26, call 3 on whatever GPU comes (the device time left fits one call). On an H200
# (~9 min, within the 600 s limit): issue 14's replication first (session 25's call2.sh, ~3.5
# min), then issue 18's sweeps (session 23's call4.sh, ~5 min; its build is incremental). On
# any other GPU (~4 min): call1.sh's GPU tests (the emitted header, harness and kernel tests).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
case $gpu in
*H200*)
    mkdir -p "$OUT/i14" "$OUT/i18"
    OUT="$OUT/i14" bash bench/results/2026-12-06_session25/call2.sh
    OUT="$OUT/i18" bash bench/results/2026-12-06_session23/call4.sh
    ;;
*) bash bench/results/2026-12-07_session26/call1.sh ;;
esac
