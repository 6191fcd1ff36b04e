#!/usr/bin/env bash
# Issue 16 (~2 min): split counts on three decode shapes, every listed variant timed in full
# (--race 0) and the finalists re-timed interleaved, SDPA in the same call.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
S=bench/results/2026-12-06_session20/splits_shapes.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
[ -x build-gpu/fa-tune ] || bash bench/gpu_run.sh build >"$OUT/build.log" 2>&1
vs=()
for k in 0 1 16 32 33 48 64 66; do vs+=(--variant decode_splitkv_hd128_bf16_m16n64w4s3k$k); done
for k in 0 1 2 3 4; do vs+=(--variant decode_splitkv_hd128_bf16_m16n64w4s2k$k); done
for k in 1 2 3 4; do vs+=(--variant decode_splitkv_hd64_bf16_m16n64w2s2k$k \
    --variant decode_splitkv_hd64_bf16_m16n128w4s3k$k); done
build-gpu/fa-tune --arch sm90 --shapes $S "${vs[@]}" --race 0 --rounds 5 --finalists 12 \
    --db $OUT/splits.db >$OUT/splits.txt 2>$OUT/splits.log; echo "rc $?"
tail -5 $OUT/splits.txt
PYTHONUNBUFFERED=1 python3 bench/peers.py --decode --shapes $S -o $OUT/peers.jsonl \
    2>$OUT/peers.log || tail -3 $OUT/peers.log
python3 bench/compare_decode.py $OUT/splits.db $OUT/peers.jsonl | tee $OUT/splits.md
