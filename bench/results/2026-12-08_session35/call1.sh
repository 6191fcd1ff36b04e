#!/usr/bin/env bash
# Session 35, call 1. On an H200: session 34's call2_h200.sh (issues 18 and 16 on the GPU their
# bars name, ~9 min). On any other GPU (~5 min): issue 16's two hd64 bhsd shapes, where fa-tune
# trails cuDNN like for like -- tuned (halving), both sides in one process (decodep), then ncu
# on fa-tune's winner and on cuDNN's kernel for the 32/8 64 x 4k shape: launch shape, DRAM
# throughput, occupancy, to say what cuDNN does differently.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
mkdir -p "$OUT"
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
case $gpu in *H200*) exec bash bench/results/2026-12-07_session34/call2_h200.sh ;; esac
S=bench/results/2026-12-08_session35/decode_hd64_bhsd.txt
W=/tmp/d64 && mkdir -p $W
bash bench/gpu_run.sh --out $W build decode:halving:$S decodep:$S >"$OUT/d64.log" 2>&1
echo "decode stages rc=$? (${SECONDS}s)"
cp $W/decode_decode_hd64_bhsd.md $W/decode_decode_hd64_bhsdp.md "$OUT/" 2>/dev/null
tail -5 $W/decode_decode_hd64_bhsd.md; tail -5 $W/decode_decode_hd64_bhsdp.md
FA=$PWD/build-gpu/fa-tune
[ -x "$FA" ] || FA=$(ls -d "$PWD"/build*/fa-tune | head -1)
"$FA" db best --db $W/decode_decode_hd64_bhsd.db 2>&1 | tail -4
V=decode_splitkv_hd64_bf16_$(grep "hd64 32/8 64x4096" $W/decode_decode_hd64_bhsd.md | awk -F'|' '{print $9}' | tr -d ' ')
python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('pragma wal_checkpoint(TRUNCATE)')" $W/decode_decode_hd64_bhsd.db
gzip -c $W/decode_decode_hd64_bhsd.db >"$OUT/decode_hd64_bhsd.db.gz"
echo "winner of 32/8 64x4k: $V"
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
echo "total ${SECONDS}s"
