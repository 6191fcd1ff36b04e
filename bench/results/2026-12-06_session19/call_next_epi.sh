#!/usr/bin/env bash
# For the next session (~7 min, any Hopper GPU): FA_SM90A_EPILOGUE_UNDER_QK (landed off in session
# 19, compiled and read in SASS only) turned on in the device's copy: the GPU checks of the
# overlap persistent tiles (hd96 m128n128s2ovpe is the one of sm90a.gpu_modes it changes), then
# racecheck / synccheck on a launch with several tiles per block (the deferred epilogue runs
# only there: batch 4 x 8 heads x 1k rows = 256 tiles on at most 132 blocks), then an A/B
# against it off on the short non-causal shapes it is for, 4 rounds (each `fa-tune bench` also
# checks its output). Flip the default if all pass and the A/B favours it.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
sed -i 's/^#define FA_SM90A_EPILOGUE_UNDER_QK 0$/#define FA_SM90A_EPILOGUE_UNDER_QK 1/' templates/sm90a/fa_fwd_sm90a.cuh
grep -q '^#define FA_SM90A_EPILOGUE_UNDER_QK 1$' templates/sm90a/fa_fwd_sm90a.cuh || { echo "macro not found"; exit 1; }
bash bench/gpu_run.sh build >"$OUT/build.log" 2>&1 || { tail "$OUT/build.log"; exit 1; }
FA_SM90A_GPU_ONLY='ovpe$' sh tests/sm90a/test_sm90a_gpu.sh build-gpu/fa-tune >"$OUT/gpu_modes_epi.txt" 2>&1
echo "sm90a.gpu_modes (ovpe) with the epilogue under QK^T: rc=$?"
tail -1 "$OUT/gpu_modes_epi.txt"
for v in fwd_sm90a_hd128_bf16_m128n128s2ovpe fwd_sm90a_hd64_bf16_m128n160s2ovpe; do
    for tool in racecheck synccheck; do
        timeout 240 compute-sanitizer --tool $tool --error-exitcode 99 build-gpu/fa-tune bench \
            --variant $v --batch 4 --heads 8 --seqlen-q 1000 --no-eager --min-reps 1 \
            --max-reps 1 --max-seconds 0.1 --no-flush >"$OUT/san_${tool}_$v.txt" 2>&1
        echo "$v $tool: rc=$? $(grep -E 'SUMMARY' "$OUT/san_${tool}_$v.txt" | tr '\n' ' ')"
    done
done
bash bench/ab_macro.sh templates/sm90a/fa_fwd_sm90a.cuh FA_SM90A_EPILOGUE_UNDER_QK 0 4 \
    "fwd_sm90a_hd128_bf16_m128n128s2ovpe 32 16 512" \
    "fwd_sm90a_hd128_bf16_m128n128s2ovpe 16 16 1024" \
    "fwd_sm90a_hd128_bf16_m128n112s2ovpe 32 16 512" \
    "fwd_sm90a_hd64_bf16_m128n160s2ovpe 32 32 512" \
    "fwd_sm90a_hd64_bf16_m128n128s2ovpe 16 32 1024" 2>&1 | tee "$OUT/ab_epi.txt" | tail -7
