#!/usr/bin/env bash
# For the next session (one H100 or H200 call, ~8 min): sm90a v13 (FA_SM90A_WG_UNIFORM, landed
# switched off in session 17 with no device time left to check it). Turns it on in the device's
# copy of the tree, builds, runs every check of sm90a.gpu_modes (257), then an A/B against it
# off (bench/ab_macro.sh: B = FA_SM90A_WG_UNIFORM 0, the kernels of main) on FlashAttention-grid
# winners, 4 rounds each. If every check passes and the A/B favours it, flip the default in
# templates/sm90a/fa_fwd_sm90a.cuh and re-run session 16's call4.sh for the grid.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
sed -i 's/^#define FA_SM90A_WG_UNIFORM 0$/#define FA_SM90A_WG_UNIFORM 1/' templates/sm90a/fa_fwd_sm90a.cuh
grep -q '^#define FA_SM90A_WG_UNIFORM 1$' templates/sm90a/fa_fwd_sm90a.cuh || { echo "macro not found"; exit 1; }
bash bench/gpu_run.sh build || exit 1
sh tests/sm90a/test_sm90a_gpu.sh build-gpu/fa-tune >"$OUT/gpu_modes_wg_uniform.txt" 2>&1
echo "sm90a.gpu_modes with FA_SM90A_WG_UNIFORM 1: rc=$?"
tail -2 "$OUT/gpu_modes_wg_uniform.txt"
bash bench/ab_macro.sh templates/sm90a/fa_fwd_sm90a.cuh FA_SM90A_WG_UNIFORM 0 4 \
    "fwd_sm90a_hd64_bf16_causal_m128n128s2ovpe 32 32 512" \
    "fwd_sm90a_hd64_bf16_causal_m128n64s2x2 16 32 1024" \
    "fwd_sm90a_hd128_bf16_causal_m128n128s2pe 32 16 512" \
    "fwd_sm90a_hd128_bf16_causal_m128n128s2ovpppe 16 16 1024" \
    "fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe 16 8 1024" \
    "fwd_sm90a_hd128_bf16_m192n128s2pe 2 16 8192" \
    "fwd_sm90a_hd256_bf16_m128n80s2ovpp 4 8 4096" \
    "fwd_sm90a_hd64_bf16_m192n192s2pepg 1 32 16384" 2>&1 | tee "$OUT/ab_wg_uniform.txt" | tail -10
