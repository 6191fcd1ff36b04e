#!/usr/bin/env bash
# Session 35, call 1 (not run: no GPU was lent). On an H200: session 34's call2_h200.sh (issues
# 18 and 16 on the GPU their bars name, ~9 min). On any other GPU (~5-9 min), issue 16's two hd64
# bhsd shapes, where fa-tune trails cuDNN like for like: an A/B of the K/V copies' L2 hints on
# their winners (evict_first.py), ncu on fa-tune's kernel and on cuDNN's for 32/8 64 x 4k (launch
# shape, DRAM throughput, occupancy: what cuDNN does differently), then in the time left both
# shapes tuned (halving) and timed beside SDPA in one process (decodep).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in *H200*) exec bash bench/results/2026-12-07_session34/call2_h200.sh ;; esac
S=bench/results/2026-12-08_session35/decode_hd64_bhsd.txt
W=/tmp/d64 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/d64.log" 2>&1 || { tail -20 "$OUT/d64.log"; exit 1; }
# A/B of the K/V copies' L2 behaviour on session 25's hd64 bhsd winners (templates copied and
# rewritten by evict_first.py; the arms run the same variant names from their own template tree)
for m in nohint evict_first; do
    rm -rf /tmp/t_$m && cp -r templates /tmp/t_$m &&
        python3 bench/results/2026-12-08_session35/evict_first.py /tmp/t_$m/fa_ptx.cuh $m
done
timeout 200 python3 bench/ab_bench.py --rounds 3 --repeat 3 --out "$OUT/ab_l2.md" --arm base \
    --arm nohint=FA_TUNE_TEMPLATES=/tmp/t_nohint --arm evf=FA_TUNE_TEMPLATES=/tmp/t_evict_first \
    'decode_splitkv_hd64_bf16_m16n64w4s3k0 --batch 64 --heads 32 --heads-kv 8 --seqlen-q 1 --seqlen-k 4096 --layout bhsd' \
    'decode_splitkv_hd64_bf16_m16n128w4s3k0f --batch 32 --heads 16 --heads-kv 16 --seqlen-q 1 --seqlen-k 8192 --layout bhsd' \
    >>"$OUT/d64.log" 2>&1
echo "ab rc=$? (${SECONDS}s)"
cat "$OUT/ab_l2.md"
FA=$PWD/build-gpu/fa-tune
V=decode_splitkv_hd64_bf16_m16n64w4s3k0 # session 25's bhsd winner of 32/8 64 x 4k
SEC="--section SpeedOfLight --section LaunchStats --section Occupancy --section MemoryWorkloadAnalysis"
timeout 120 ncu --clock-control none --target-processes all -k regex:fa_decode --launch-skip 2 --launch-count 1 $SEC \
    "$FA" bench --variant "$V" --batch 64 --heads 32 --heads-kv 8 --seqlen-q 1 --seqlen-k 4096 \
    --layout bhsd --no-eager --min-reps 3 --max-reps 3 --max-seconds 1 >"$OUT/ncu_fatune.txt" 2>&1
echo "ncu fa-tune rc=$?"
cat >/tmp/cudnn_one.py <<'PY'
import torch, torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
b, hq, hk, s, d = 64, 32, 8, 4096, 64
q = torch.randn(b, hq, 1, d, device="cuda", dtype=torch.bfloat16)
k = torch.randn(b, hk, s, d, device="cuda", dtype=torch.bfloat16)
v = torch.randn(b, hk, s, d, device="cuda", dtype=torch.bfloat16)
torch.cuda.synchronize()
with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
    for _ in range(4):
        torch.cuda.nvtx.range_push("sdpa")
        o = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        torch.cuda.nvtx.range_pop()
torch.cuda.synchronize()
print("ok", o.shape)
PY
timeout 150 ncu --clock-control none --nvtx --nvtx-include "sdpa/" --launch-skip 3 --launch-count 3 $SEC \
    python3 /tmp/cudnn_one.py >"$OUT/ncu_cudnn.txt" 2>&1
echo "ncu cudnn rc=$?"
for f in ncu_fatune ncu_cudnn; do
    echo "== $f"
    grep -E "^  [a-zA-Z_].*\(|Duration|DRAM Throughput|Memory Throughput|Grid Size|Block Size|Registers Per|Dynamic Shared|Static Shared|Waves Per SM|Achieved Occupancy|Theoretical Occupancy|L2 Hit|L1/TEX Hit|Mem Busy|Max Bandwidth" "$OUT/$f.txt" | head -40
done
# last, in what time is left: the two shapes tuned (halving), then both sides in one process
timeout $((570 - SECONDS)) bash bench/gpu_run.sh --out $W decode:halving:$S decodep:$S >>"$OUT/d64.log" 2>&1
echo "decode stages rc=$? (${SECONDS}s)"
cp $W/decode_decode_hd64_bhsd.md $W/decode_decode_hd64_bhsdp.md "$OUT/" 2>/dev/null
tail -4 $W/decode_decode_hd64_bhsd.md; tail -4 $W/decode_decode_hd64_bhsdp.md
echo "total ${SECONDS}s"
