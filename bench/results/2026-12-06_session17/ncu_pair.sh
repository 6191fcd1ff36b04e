#!/usr/bin/env bash
# Session 17: ncu (--clock-control none) on FlashAttention's grid shape where fa-tune is furthest
# behind cuDNN in every protocol (bf16, hd64, causal, N = 512, batch 32, 32 heads): fa-tune's
# winner (session 16 call 4) and cuDNN's kernel through PyTorch SDPA, the same sections, so the
# two kernels' DRAM traffic, L2 hit rate, occupancy and stall reasons can be compared.
# Usage: ncu_pair.sh [VARIANT [N [HD]]]; needs build-gpu/fa-tune (bench/gpu_run.sh build).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
V=${1:-fwd_sm90a_hd64_bf16_causal_m128n128s2ovpe}
N=${2:-512}
HD=${3:-64}
H=$((2048 / HD))
B=$((16384 / N))
SECT="--section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis"
SECT="$SECT --section MemoryWorkloadAnalysis_Tables --section Occupancy --section WarpStateStats"
SECT="$SECT --section SchedulerStats --section LaunchStats"
# shellcheck disable=SC2086
ncu --clock-control none --target-processes all -k regex:fa_fwd --launch-skip 3 --launch-count 1 \
    $SECT build-gpu/fa-tune bench --variant "$V" --batch $B --seqlen-q $N --heads $H --causal \
    --no-eager --min-reps 3 --max-reps 3 --max-seconds 1 >"$OUT/ncu_fatune.txt" 2>&1
echo "fa-tune rc=$?"
cat >/tmp/sdpa_one.py <<PY
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
q, k, v = (torch.randn($B, $H, $N, $HD, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
    for _ in range(5):
        F.scaled_dot_product_attention(q, k, v, is_causal=True)
torch.cuda.synchronize()
PY
# the kernels after randn's three: the SDPA calls' (cuDNN may launch more than one per call)
# shellcheck disable=SC2086
ncu --clock-control none --target-processes all --launch-skip 3 --launch-count 8 $SECT python3 /tmp/sdpa_one.py >"$OUT/ncu_cudnn.txt" 2>&1
echo "cuDNN rc=$?"
for f in ncu_fatune ncu_cudnn; do
    echo "== $f"
    grep -E '^  [a-z_].*\(|Duration|DRAM Throughput|Memory Throughput|L2 Hit Rate|L1/TEX Hit|Compute \(SM\) Throughput|Registers Per|Shared Memory Config|Dynamic Shared|Block Size|Grid Size|Waves Per SM|Achieved Occupancy|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|DRAM.*Read|dram__bytes' \
        "$OUT/$f.txt" | head -30
done
