#!/usr/bin/env bash
# Session 23, call 3 (~4 min, any Hopper GPU): issue 16, the in-process gap. The same decode
# kernel reads 1-2.5% slower inside peers.py's process than in `fa-tune bench` (call 2: hd128
# 16 x 16k 342.1 us in bench, 349.6 in process). Does the caches' placement move it? Four of
# the tied shapes tuned on bhsd caches, then fa-tune and cuDNN in one process per placement:
# two allocations (PyTorch's choice, as before), then K and V in one allocation with V 0, 4,
# 64, 1024 and 2052 KiB after K's end (peers.py --kv-gap-kib).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
S=bench/results/2026-12-06_session23
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s23c3 && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode:halving:$S/placement_shapes.txt \
    decodep:$S/placement_shapes.txt >"$OUT/stages.log" 2>&1
grep -E "^=== |rc |copy on" "$OUT/stages.log" | cut -c1-200
lib=$W/decode_placement_shapesp/libfa_header_peer.so
[ -f "$lib" ] || { echo "no peer library"; exit 1; }
cp $W/decode_placement_shapesp.md "$OUT/gap_two_allocations.md"
for g in 0 4 64 1024 2052 -1; do
    python3 bench/peers.py --decode --shapes $S/placement_shapes.txt --peers torch_sdpa_cudnn \
        --fa-tune-lib "$lib" --kv-gap-kib $g -o $W/gap_$g.jsonl 2>$W/gap_$g.log ||
        tail -3 $W/gap_$g.log
    python3 bench/compare_inprocess.py $W/gap_$g.jsonl >$W/gap_$g.md
done
tar -czf "$OUT/gap_runs.tgz" -C $W $(cd $W && ls gap_* decode_placement_shapes*.md)
for f in "$OUT/gap_two_allocations.md" $W/gap_0.md $W/gap_4.md $W/gap_64.md $W/gap_1024.md \
         $W/gap_2052.md $W/gap_-1.md; do
    echo "== $(basename $f)"
    grep -E "^\| hd" "$f" | cut -d'|' -f2,5,8,9
done
