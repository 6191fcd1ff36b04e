#!/usr/bin/env bash
# Session 22: the first call on whatever GPU comes. On an H200, issue 14's replication
# (session 20's call8.sh: the grid tuned, h2hp x3, h2hs x1; the issue names an H200, none was
# lent in sessions 18-21); on any other GPU, this session's call1.sh (issue 16).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in
*H200*) bash bench/results/2026-12-06_session20/call8.sh ;;
*) bash bench/results/2026-12-06_session22/call1.sh ;;
esac
