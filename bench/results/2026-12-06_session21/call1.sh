#!/usr/bin/env bash
# Session 21, call 1 (~4 min, any Hopper GPU): the decode family's combine kernel launched as a
# programmatic dependent of the split kernel (templates/decode/fa_decode_splitkv.cuh v4, 8.).
# Build; the GPU tests that launch decode plans (harness and emitted header) and the harness's
# timing test with the read flush; memcheck and synccheck on a split decode; then an A/B of the
# early launch on the same build (FA_NO_PDL=1 launches in plain stream order), alternated.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s21c1 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
FA=$PWD/build-gpu/fa-tune
(cd build-gpu && ctest -L gpu -R "decode|emit.example_embedded|harness_gpu" --output-on-failure \
    --timeout 300) >"$OUT/gpu_tests.log" 2>&1
grep -E "Test +#|tests passed" "$OUT/gpu_tests.log"
V=decode_splitkv_hd128_bf16_m16n64w4s3k0
for tool in memcheck synccheck racecheck; do
    timeout 200 compute-sanitizer --tool $tool --error-exitcode 99 "$FA" bench --variant $V \
        --batch 2 --heads 32 --heads-kv 8 --seqlen-q 1 --seqlen-k 8191 --no-eager --min-reps 1 \
        --max-reps 1 --max-seconds 0.1 --no-flush >"$OUT/sanitize_$tool.txt" 2>&1
    echo "$tool: rc=$? $(grep -E 'SUMMARY|^ok|mismatch' "$OUT/sanitize_$tool.txt" | tr '\n' ' ' | cut -c1-200)"
done
# A/B: "VARIANT BATCH HEADS HEADS_KV SEQLEN_K" (the call-3 winners of session 20 with a combine)
ab() {
    read -r v b h hk sk <<<"$1"
    for r in 1 2 3; do
        for pdl in 1 0; do
            [ $pdl = 1 ] && nopdl=0 || nopdl=1
            t=$(FA_NO_PDL=$nopdl "$FA" bench --variant "$v" --batch "$b" --heads "$h" \
                --heads-kv "$hk" --seqlen-q 1 --seqlen-k "$sk" --no-eager --repeat 3 --json \
                2>>"$OUT/ab.err" | python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
rows=[x for x in rows if "repeat" in x]
ms=[x["median_ms"] for x in rows if x.get("median_ms")]
print(" ".join("%.2f" % (1000*m) for m in ms) + " (" + rows[0]["status"] + ")" if ms else "none")')
            echo "$v b$b h$h/$hk k$sk pdl=$pdl round $r: $t us"
        done
    done
}
for spec in "decode_splitkv_hd128_bf16_m16n64w4s3k0 1 32 8 131072" \
            "decode_splitkv_hd128_bf16_m16n64w4s2k0 128 32 8 1024" \
            "decode_splitkv_hd128_bf16_m16n64w4s3k4 32 32 1 8192"; do
    ab "$spec"
done | tee "$OUT/ab_pdl.txt"
