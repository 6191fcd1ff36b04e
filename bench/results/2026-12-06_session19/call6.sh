#!/usr/bin/env bash
# Session 19, call 6 (the last ~5 min of device time), on a tree with rescale_before_pv.patch
# applied (git apply; not on main): FA_SM90A_RESCALE_BEFORE_PV
# turned on in the device's copy: A/B against it off (v14) on three short-shape overlap winners,
# 3 rounds (each `fa-tune bench` also checks its output against the fp32 reference), then
# racecheck / synccheck on the pingpong overlap pipeline. No sm90a.gpu_modes run: not enough time.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
sed -i 's/^#define FA_SM90A_RESCALE_BEFORE_PV 0$/#define FA_SM90A_RESCALE_BEFORE_PV 1/' templates/sm90a/fa_fwd_sm90a.cuh
grep -q '^#define FA_SM90A_RESCALE_BEFORE_PV 1$' templates/sm90a/fa_fwd_sm90a.cuh || { echo "macro not found"; exit 1; }
bash bench/gpu_run.sh build >"$OUT/build.log" 2>&1 || { tail "$OUT/build.log"; exit 1; }
bash bench/ab_macro.sh templates/sm90a/fa_fwd_sm90a.cuh FA_SM90A_RESCALE_BEFORE_PV 0 3 \
    "fwd_sm90a_hd128_bf16_m128n128s2ovpe 32 16 512" \
    "fwd_sm90a_hd256_bf16_m128n80s2ovpp 8 8 2048" \
    "fwd_sm90a_hd128_bf16_causal_m128n128s2ovpppe 16 16 1024" 2>&1 | tee "$OUT/ab_rescale.txt" | tail -5
FA_SANITIZE_TIMEOUT=60 bash bench/gpu_run.sh --out "$OUT/san" \
    sanitize:fwd_sm90a_hd128_bf16_causal_m128n128s2ovpppe:300 2>&1 | grep -E "rc=|SUMMARY"
