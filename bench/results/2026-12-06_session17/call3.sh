#!/usr/bin/env bash
# Session 17, call 3 (issue 14): sm90a v12, O's 16-byte chunks stored with st.global.v4 in the
# staged epilogue (NVVM had split them into four 4-byte stores in most winners' SASS). The GPU
# checks of sm90a.gpu_modes at head dim 128 bf16 (every pipeline shape the test has there:
# plain, persistent, varlen, PackGQA, two blocks a multiprocessor), then an A/B against
# FA_SM90A_O_ST_V4 0 (the old stores; same SASS as main) on five FA-grid winners, 3 rounds.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build || exit 1
FA_SM90A_GPU_ONLY='hd128_bf16' sh tests/sm90a/test_sm90a_gpu.sh build-gpu/fa-tune >"$OUT/gpu_modes_hd128_bf16.txt" 2>&1
echo "gpu_modes hd128 bf16: rc=$?"
tail -3 "$OUT/gpu_modes_hd128_bf16.txt"
bash bench/ab_macro.sh templates/sm90a/fa_fwd_sm90a.cuh FA_SM90A_O_ST_V4 0 3 \
    "fwd_sm90a_hd64_bf16_causal_m128n128s2ovpe 32 32 512" \
    "fwd_sm90a_hd128_bf16_causal_m128n128s2ovpppe 16 16 1024" \
    "fwd_sm90a_hd128_bf16_m192n128s2pe 2 16 8192" \
    "fwd_sm90a_hd256_bf16_m128n80s2ovpp 4 8 4096" \
    "fwd_sm90a_hd64_bf16_causal_m128n64s2x2 16 32 1024" 2>&1 | tee "$OUT/ab_st_v4.txt"
