#!/usr/bin/env bash
# Session 19, calls 2 and 3 (~9 min). Call 2 ran this script without the third sanitizer case on
# v14's first version (the PV waits in the branches of the warp vote alone, whose per-warp
# branches made synccheck report warps of one warpgroup waiting at different PCs); call 3 ran it
# as it is on v14 as landed (the branch on a warpgroup-wide barrier reduction, bar.red.or).
# Builds, runs every sm90a.gpu_modes check, then an A/B against the v13 code (bench/ab_macro.sh:
# B = FA_SM90A_PV_WAIT_IN_BRANCH 0) on the overlap winners of call 1's FlashAttention grid, 4
# rounds each, then racecheck / synccheck on three overlap pipelines (persistent non-causal;
# causal with pingpong and the half-width first block; three consumer warpgroups).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
grep -q '^#define FA_SM90A_PV_WAIT_IN_BRANCH 1$' templates/sm90a/fa_fwd_sm90a.cuh || { echo "macro not 1"; exit 1; }
bash bench/gpu_run.sh build >"$OUT/build.log" 2>&1 || { tail "$OUT/build.log"; exit 1; }
sh tests/sm90a/test_sm90a_gpu.sh build-gpu/fa-tune >"$OUT/gpu_modes_v14.txt" 2>&1
echo "sm90a.gpu_modes with v14: rc=$?"
tail -1 "$OUT/gpu_modes_v14.txt"
bash bench/ab_macro.sh templates/sm90a/fa_fwd_sm90a.cuh FA_SM90A_PV_WAIT_IN_BRANCH 0 4 \
    "fwd_sm90a_hd128_bf16_m128n176s2ovpe 32 16 512" \
    "fwd_sm90a_hd128_bf16_m128n176s2ovpe 16 16 1024" \
    "fwd_sm90a_hd256_bf16_m128n80s2ov 8 8 2048" \
    "fwd_sm90a_hd256_bf16_m128n80s2ov 1 8 16384" \
    "fwd_sm90a_hd256_bf16_m128n80s2ovpp 16 8 1024" \
    "fwd_sm90a_hd128_bf16_causal_m128n128s2ovpppe 16 16 1024" \
    "fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe 16 8 1024" \
    "fwd_sm90a_hd128_bf16_m128n128s2ov 4 16 4096" 2>&1 | tee "$OUT/ab_v14.txt" | tail -10
FA_SANITIZE_TIMEOUT=120 bash bench/gpu_run.sh --out "$OUT/san" \
    sanitize:fwd_sm90a_hd128_bf16_m128n176s2ovpe:300 \
    sanitize:fwd_sm90a_hd128_bf16_causal_m128n128s2ovpppe:300 \
    sanitize:fwd_sm90a_hd64_bf16_m192n128s3ovpe:300 2>&1 | grep -E "rc=|SUMMARY"
tar -czf "$OUT/san.tgz" -C "$OUT" san && rm -rf "$OUT/san"
