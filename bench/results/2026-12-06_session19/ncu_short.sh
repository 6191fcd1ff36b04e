#!/usr/bin/env bash
# Session 19: ncu (--clock-control none) on FlashAttention's grid shape where fa-tune stays
# furthest behind cuDNN with v14 (bf16, hd128, non-causal, N = 512, batch 32, 16 heads): two
# fa-tune tiles (call 4's winner m192n128s2pe and call 1's m128n176s2ovpe) and cuDNN's kernel
# through PyTorch SDPA, the same sections (session 17's ncu_pair.sh, non-causal).
# Usage: ncu_short.sh; needs build-gpu/fa-tune (bench/gpu_run.sh build).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
N=512 HD=128 H=16 B=32
SECT="--section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis"
SECT="$SECT --section Occupancy --section WarpStateStats --section SchedulerStats --section LaunchStats"
for V in fwd_sm90a_hd128_bf16_m192n128s2pe fwd_sm90a_hd128_bf16_m128n176s2ovpe fwd_sm90a_hd128_bf16_m128n128s2ovpe; do
    # shellcheck disable=SC2086
    ncu --clock-control none --target-processes all -k regex:fa_fwd --launch-skip 3 --launch-count 1 \
        $SECT build-gpu/fa-tune bench --variant "$V" --batch $B --seqlen-q $N --heads $H \
        --no-eager --min-reps 3 --max-reps 3 --max-seconds 1 >"$OUT/ncu_$V.txt" 2>&1
    echo "$V rc=$?"
done
cat >/tmp/sdpa_one.py <<PY
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
q, k, v = (torch.randn($B, $H, $N, $HD, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
    for _ in range(5):
        F.scaled_dot_product_attention(q, k, v)
torch.cuda.synchronize()
PY
# shellcheck disable=SC2086
ncu --clock-control none --target-processes all --launch-skip 3 --launch-count 4 $SECT \
    python3 /tmp/sdpa_one.py >"$OUT/ncu_cudnn.txt" 2>&1
echo "cuDNN rc=$?"
for f in "$OUT"/ncu_*.txt; do
    echo "== $(basename "$f")"
    grep -E '^  [a-zA-Z_].*\(|Duration|DRAM Throughput|Compute \(SM\) Throughput|Registers Per|Dynamic Shared|Grid Size|Achieved Occupancy|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Executed Ipc A' \
        "$f" | head -16
done
