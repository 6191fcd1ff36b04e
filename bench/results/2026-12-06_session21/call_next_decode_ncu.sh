#!/usr/bin/env bash
# For the next session (~3 min, any Hopper GPU; not run here: the device time was spent). Issue
# 16: where the last ~3% of a same-size copy goes in the hd128 32/8 decode shapes of 537 MB
# (README, section 3). ncu on the split kernel of 1 x 128k (m16n64w4s3k12: 96 CTAs) and of
# hd64 64 x 4k (m16n64w2s2k1: 512 CTAs, no combine), with PM sampling (DRAM throughput over the
# kernel's time: the ramp at the start, the tail at the end) and the memory sections; then the
# same bytes through the device copy for comparison (bench/peers.py measures it already).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out /tmp/ncu_next build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
FA=$PWD/build-gpu/fa-tune
prof() { # NAME VARIANT BATCH HEADS HEADS_KV SEQLEN_K
    # the 4th launch of the split kernel: after the check's runs and the warm-up
    local sec
    for sec in "SpeedOfLight MemoryWorkloadAnalysis Occupancy LaunchStats WarpStateStats" \
               PmSampling; do # PM sampling alone: an ncu without that section still gives the rest
        # shellcheck disable=SC2046
        ncu --clock-control none --target-processes all -k regex:fa_decode_splitkv \
            --launch-skip 3 --launch-count 1 $(printf -- '--section %s ' $sec) \
            "$FA" bench --variant "$2" --batch "$3" --heads "$4" --heads-kv "$5" --seqlen-q 1 \
            --seqlen-k "$6" --no-eager --min-reps 3 --max-reps 3 --max-seconds 1 \
            >>"$OUT/ncu_$1.txt" 2>&1
        echo "$1 ($sec): rc=$?"
    done
    grep -E "Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Waves Per SM|Grid Size|Stall Long Scoreboard|L2 Hit" \
        "$OUT/ncu_$1.txt" | head -12
}
prof 1x128k decode_splitkv_hd128_bf16_m16n64w4s3k12 1 32 8 131072
prof hd64_64x4k decode_splitkv_hd64_bf16_m16n64w2s2k1 64 32 8 4096
