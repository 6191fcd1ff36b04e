#!/usr/bin/env bash
# For the next session (~1 min; not run in session 20: its device time was spent): four decode
# shapes tuned, the peers and the copy in the same call, with the L2 flush now a read
# (fa-tune's harness and peers.py alike; flush_probe.py, call 10). Expected: every side about
# 9 us faster than in call 3, the 268 MB shape over 90% of copy; the ratios to cuDNN as before.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/call11 && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode:halving:bench/results/2026-12-06_session20/flush_shapes.txt \
    >"$OUT/decode.log" 2>&1
tail -2 "$OUT/decode.log"
cp $W/decode_flush_shapes.md $W/decode_flush_shapes.txt $W/peers_decode_flush_shapes.jsonl "$OUT/" 2>/dev/null
cat $W/decode_flush_shapes.md
