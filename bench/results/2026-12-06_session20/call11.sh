#!/usr/bin/env bash
# For the next session (~3 min; not run in session 20: its device time was spent). Issue 16
# with the L2 flush now a read (fa-tune's harness and peers.py alike; flush_probe.py, call 10):
# the decode shapes tuned through the product with the peers and the copy (decode), then the
# same winners timed inside peers.py's process through a header emitted with cubins (decodep,
# every fa-tune output checked). Expected from call 10: every side about 9 us faster than in
# call 3, the 268 MB shape over 90% of copy; the ratios to cuDNN about as before.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/call11 && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode decodep >"$OUT/decode.log" 2>&1
grep -E "^=== |rc |wall|copy on" "$OUT/decode.log" | cut -c1-250
cp $W/decode.md $W/decodep.md $W/peers_decode.jsonl $W/decodep.jsonl "$OUT/" 2>/dev/null
cat $W/decodep.md
