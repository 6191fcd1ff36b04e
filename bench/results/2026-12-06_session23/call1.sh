#!/usr/bin/env bash
# Session 23, call 1 on whatever GPU comes. On an H200: issue 14's replication (session 20's
# call8.sh). On any other GPU: issue 16's layout question (session 22's call_next_layout.sh:
# both sides on both cache layouts, each in one process).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in
*H200*) bash bench/results/2026-12-06_session20/call8.sh ;;
*) bash bench/results/2026-12-06_session22/call_next_layout.sh ;;
esac
