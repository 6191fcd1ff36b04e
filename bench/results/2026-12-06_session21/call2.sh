#!/usr/bin/env bash
# Session 21, call 2 (~4 min, after call 1 on the same machine): issue 16 with the L2 flush a
# read and the combine launched early (decode v4): the decode shapes tuned through the product
# beside the peers and the copy (decode), then the same winners through a header emitted with
# cubins, timed inside peers.py's process (decodep, every fa-tune output checked).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s21c2 && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode decodep >"$OUT/decode.log" 2>&1
grep -E "^=== |rc |wall|copy on" "$OUT/decode.log" | cut -c1-250
cp $W/decode.md $W/decodep.md $W/peers_decode.jsonl $W/decodep.jsonl $W/*.db "$OUT/" 2>/dev/null
cat $W/decode.md
cat $W/decodep.md
