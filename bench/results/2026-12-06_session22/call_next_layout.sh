#!/usr/bin/env bash
# For the next session (~5 min, any Hopper GPU; not run here: the device time was spent). Issue
# 16: does the cache layout cost cuDNN what it costs fa-tune (0.7-1.0%, this session's call 3)?
# Both sides on both layouts, each in one process: the decode shapes tuned on bshd caches, then
# fa-tune and SDPA on FlashAttention-layout tensors (SDPA takes them as transposed views:
# decodep:::bshd); the same shapes tuned on bhsd caches, then both sides on PyTorch-layout
# tensors (decodep on bench/decode_shapes_bhsd.txt).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/layout_next && mkdir -p $W
S=bench/decode_shapes_bhsd.txt
bash bench/gpu_run.sh --out $W build decode decodep:::bshd decode:halving:$S decodep:$S \
    >"$OUT/layout.log" 2>&1
grep -E "^=== |rc |wall|copy on" "$OUT/layout.log" | cut -c1-250
cp $W/decode.md $W/decodep_bshd.md $W/decode_decode_shapes_bhsd.md \
    $W/decode_decode_shapes_bhsdp.md "$OUT/"
tail -17 $W/decodep_bshd.md
tail -17 $W/decode_decode_shapes_bhsdp.md
