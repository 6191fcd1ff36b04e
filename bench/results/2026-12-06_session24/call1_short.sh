#!/usr/bin/env bash
# Session 24, call 1 shortened (~4 min, any GPU; most of the session's device time went to
# refused starts): only what verifies decode v5 (block-cyclic splits, landed in session 23
# without a GPU). The GPU tests that run it: decode.gpu_check (fp32 reference, poisoned outputs
# and scratch, paged == contiguous bits), the emitted header's embedded decode example, and
# fa-tune bench's CLI test. Then compute-sanitizer (memcheck, synccheck, racecheck) on v5's
# cyclic path: bhsd caches, 3 splits with the combine kernel (contiguous) and 3 fused (64-row
# pages: refused, paged caches are bshd only; README.md), uneven cache lengths. The next call is
# ../2026-12-06_session23/call1.sh (issue 14 on an H200, issue 16's layouts with v5 elsewhere).
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
