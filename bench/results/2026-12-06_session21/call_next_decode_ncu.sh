#!/usr/bin/env bash
# For the next session (~5 min, any Hopper GPU; not run here: the device time was spent).
# Issue 16: compute-sanitizer on decode v4; then where the last ~3% of a same-size copy goes in
# the hd128 32/8 decode shapes of 537 MB (README, section 3): ncu on the split kernel of 1 x 128k
# (m16n64w4s3k12: 96 CTAs) and of hd64 64 x 4k (m16n64w2s2k1: 512 CTAs, no combine), the memory
# sections and PM sampling (DRAM throughput over the kernel's time: the ramp at the start, the
# tail at the end).
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
# compute-sanitizer on decode v4 (the early combine): session 21's call 1 tried this before
# `fa-tune bench` took decode variants, so nothing ran then. 3 splits with the combine, and 3
# fused, on a paged cache with uneven lengths.
for v in decode_splitkv_hd128_bf16_m16n64w4s3k3 decode_splitkv_hd128_bf16_m16n64w4s3k3f; do
    for tool in memcheck synccheck racecheck; do
        timeout 200 compute-sanitizer --tool $tool --error-exitcode 99 --target-processes all \
            "$FA" bench --variant $v --batch 2 --heads 32 --heads-kv 8 --seqlen-q 1 \
            --seqlen-k 8191 --page-size 64 --cache-lens uniform --no-eager --min-reps 1 \
            --max-reps 1 --max-seconds 0.1 --no-flush >"$OUT/sanitize_${tool}_$v.txt" 2>&1
        echo "$v $tool: rc=$? $(grep -E 'SUMMARY|: pass|mismatch|does not' \
            "$OUT/sanitize_${tool}_$v.txt" | tr '\n' ' ' | cut -c1-220)"
    done
done
prof 1x128k decode_splitkv_hd128_bf16_m16n64w4s3k12 1 32 8 131072
prof hd64_64x4k decode_splitkv_hd64_bf16_m16n64w2s2k1 64 32 8 4096
