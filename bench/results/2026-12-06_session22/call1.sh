#!/usr/bin/env bash
# Session 22, call 1 (~7 min, any Hopper GPU): issue 16.
#  1. build; the bench CLI's GPU test (its --cache-lens uniform case has not run on a GPU yet)
#  2. compute-sanitizer (memcheck, synccheck, racecheck) on decode v4, the early combine: 3
#     splits with the combine kernel, and 3 fused, paged (64-row pages) with uneven lengths
#  3. A/B: the decode loads' L2 prefetch hint, cp.async ... .L2::128B (today) against .L2::256B
#     (a K/V row of hd128 is 256 bytes), same build, FA_TUNE_TEMPLATES pointing at a copy of
#     templates/ with that one change, alternated, 3 rounds of 3 medians each, on the decode
#     winners of session 21's call 5 for the shapes tied with cuDNN in peers.py's process
#  4. ncu with PM sampling on the 1 x 128k and hd64 64 x 4k split kernels
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out /tmp/s22c1 build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
FA=$PWD/build-gpu/fa-tune
(cd build-gpu && ctest -R harness_gpu_bench_cli --output-on-failure) >"$OUT/ctest_bench_cli.log" 2>&1
echo "ctest harness_gpu_bench_cli: rc=$?"; grep -E "tests passed|TB/s|FAIL" "$OUT/ctest_bench_cli.log" | head -8

for v in decode_splitkv_hd128_bf16_m16n64w4s3k3 decode_splitkv_hd128_bf16_m16n64w4s3k3f; do
    for tool in memcheck synccheck racecheck; do
        timeout 120 compute-sanitizer --tool $tool --error-exitcode 99 --target-processes all \
            "$FA" bench --variant $v --batch 2 --heads 32 --heads-kv 8 --seqlen-q 1 \
            --seqlen-k 8191 --page-size 64 --cache-lens uniform --no-eager --min-reps 1 \
            --max-reps 1 --max-seconds 0.1 --no-flush >"$OUT/sanitize_${tool}_$v.txt" 2>&1
        echo "$v $tool: rc=$? $(grep -E 'SUMMARY|: pass|mismatch|does not| ok ' \
            "$OUT/sanitize_${tool}_$v.txt" | tr '\n' ' ' | cut -c1-220)"
    done
done

T256=/tmp/tpl256 && rm -rf $T256 && cp -r templates $T256
sed -i 's/cp\.async\.cg\.shared\.global\.L2::128B/cp.async.cg.shared.global.L2::256B/' $T256/fa_ptx.cuh
grep -c "L2::256B" $T256/fa_ptx.cuh
ab() { # "VARIANT BATCH HEADS HEADS_KV SEQLEN_K"
    read -r v b h hk sk <<<"$1"
    for r in 1 2 3; do
        for pf in 128 256; do
            t=$(FA_TUNE_TEMPLATES=$([ $pf = 256 ] && echo $T256) "$FA" bench --variant "$v" \
                --batch "$b" --heads "$h" --heads-kv "$hk" --seqlen-q 1 --seqlen-k "$sk" \
                --no-eager --repeat 3 --json 2>>"$OUT/ab.err" | python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
rows=[x for x in rows if "repeat" in x]
ms=[x["median_ms"] for x in rows if x.get("median_ms")]
print(" ".join("%.2f" % (1000*m) for m in ms) + " (" + rows[0]["status"] + ")" if ms else "none")')
            echo "$v b$b h$h/$hk k$sk L2::${pf}B round $r: $t us"
        done
    done
}
for spec in "decode_splitkv_hd128_bf16_m16n64w4s3k0 16 32 8 16384" \
            "decode_splitkv_hd128_bf16_m16n64w4s3k16 1 32 8 131072" \
            "decode_splitkv_hd128_bf16_m32n64w4s2k0 64 32 8 4096" \
            "decode_splitkv_hd128_bf16_m16n64w4s2k0f 128 32 8 1024" \
            "decode_splitkv_hd64_bf16_m16n64w2s2k0 64 32 8 4096"; do
    ab "$spec"
done | tee "$OUT/ab_l2prefetch.txt"

prof() { # NAME VARIANT BATCH HEADS HEADS_KV SEQLEN_K
    local sec
    for sec in "SpeedOfLight MemoryWorkloadAnalysis Occupancy LaunchStats WarpStateStats" \
               PmSampling; do
        # shellcheck disable=SC2046
        timeout 100 ncu --clock-control none --target-processes all -k regex:fa_decode_splitkv \
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
