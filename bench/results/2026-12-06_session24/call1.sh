#!/usr/bin/env bash
# Session 24, call 1 on whatever GPU comes (~5 min). First, decode v5 (block-cyclic splits,
# landed in session 23 without a GPU) through the GPU tests that run it: decode.gpu_check (fp32
# reference, poisoned outputs and scratch, paged == contiguous bits), the emitted header's
# embedded decode example, and fa-tune bench. Then on an H200: issue 14's replication (session
# 20's call8.sh stages). On any other GPU: issue 16 with v5, both sides on both cache layouts in
# one process (session 22's call_next_layout.sh). Before either: compute-sanitizer (memcheck,
# synccheck, racecheck) on v5's cyclic path: bhsd caches, 3 splits with the combine kernel
# (contiguous) and 3 fused (64-row pages), uneven cache lengths.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s24c1 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
(cd build-gpu &&
 ctest -R "decode.gpu_check|embed_decode|embedded_decode|harness_gpu_bench_cli" \
     --output-on-failure --timeout 300) >"$OUT/decode_tests.log" 2>&1
grep -E "Test +#|tests passed|Failed|\*\*\*" "$OUT/decode_tests.log" | cut -c1-160
for vp in "decode_splitkv_hd128_bf16_m16n64w4s3k3 0" "decode_splitkv_hd128_bf16_m16n64w4s3k3f 64"; do
    read -r v pg <<<"$vp"
    for tool in memcheck synccheck racecheck; do
        timeout 90 compute-sanitizer --tool $tool --error-exitcode 99 --target-processes all \
            build-gpu/fa-tune bench --variant $v --layout bhsd --batch 2 --heads 32 \
            --heads-kv 8 --seqlen-q 1 --seqlen-k 8191 --page-size $pg --cache-lens uniform \
            --no-eager --min-reps 1 --max-reps 1 --max-seconds 0.1 --no-flush \
            >$W/sanitize_${tool}_$v.txt 2>&1
        echo "$v pages $pg $tool: rc=$? $(grep -E 'SUMMARY|: pass|mismatch|does not| ok ' \
            $W/sanitize_${tool}_$v.txt | tr '\n' ' ' | cut -c1-220)"
    done
done
tar -czf "$OUT/sanitize.tgz" -C $W $(cd $W && ls sanitize_*)
case $gpu in
*H200*)
    bash bench/gpu_run.sh --out $W info tune:256:halving tune:128:halving tune:64:halving \
        h2hp:3 h2hs:1 >"$OUT/grid.log" 2>&1
    grep -E "^=== |rc |wall|round|geomean|bar|FAIL" "$OUT/grid.log" | cut -c1-250
    tar -czf "$OUT/grid.tgz" -C $W --exclude='*.db*' .
    cp $W/h2hp.md $W/h2hs.md "$OUT/" 2>/dev/null
    cat $W/h2hp.md
    ;;
*)
    S=bench/decode_shapes_bhsd.txt
    bash bench/gpu_run.sh --out $W decode decodep:::bshd decode:halving:$S decodep:$S \
        >"$OUT/layout.log" 2>&1
    grep -E "^=== |rc |wall|copy on" "$OUT/layout.log" | cut -c1-250
    cp $W/decode.md $W/decodep_bshd.md $W/decode_decode_shapes_bhsd.md \
        $W/decode_decode_shapes_bhsdp.md "$OUT/" 2>/dev/null
    tail -17 $W/decodep_bshd.md
    tail -17 $W/decode_decode_shapes_bhsdp.md
    ;;
esac
