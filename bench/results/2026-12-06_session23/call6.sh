#!/usr/bin/env bash
# Session 23, call 6 (~8 min, any Hopper GPU; the device time left allowed one call): call 5
# (block-cyclic splits A/B), then call 3 (the caches' placement in peers.py's process).
cd "$(dirname "$0")/../../.."
bash bench/results/2026-12-06_session23/call5.sh
echo "=== call 3"
bash bench/results/2026-12-06_session23/call3.sh
