#!/usr/bin/env bash
# For the next session (~2 min, any Hopper GPU; not run here: the device time was spent). Issue
# 16: in peers.py's process fa-tune's 1 x 128k decode took 184.0-184.7 us where its own harness
# times the same kernel at 180.1-182.2 (README, section 3). One difference: peers.py runs every
# call on PyTorch's default stream (the legacy NULL stream), fa-tune's harness on a non-blocking
# stream of its own, and the combine's early launch (2 us at 1 x 128k) may not take effect on
# the legacy stream. Tuned once, then the winners in peers.py's process on the default stream
# and on a side stream (peers.py --stream side), twice each, alternated.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/stream_next && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode >"$OUT/decode.log" 2>&1
for r in 1 2; do
    for s in default side; do
        st=$([ $s = side ] && echo "::side" || echo "")
        bash bench/gpu_run.sh --out $W "decodep$st" >"$OUT/decodep_${s}_$r.log" 2>&1
        f=$W/decodep$([ $s = side ] && echo _side).md
        cp "$f" "$OUT/decodep_${s}_$r.md"
        echo "round $r, $s stream: $(tail -1 "$f")"
        grep -E "1x131072 sq1|128x1024|4x65536|16x16384" "$f" | cut -d'|' -f2,5,8,9
    done
done
