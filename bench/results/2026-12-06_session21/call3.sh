#!/usr/bin/env bash
# Session 21, call 3 (~4 min, any Hopper GPU): `fa-tune bench` on decode variants (new: the op
# and --page-size from the variant, TB/s), its GPU test; an A/B of the combine's early launch
# (programmatic dependent launch) on one build, FA_NO_PDL=0 / 1 alternated, 3 rounds of 3
# medians each; then call 2's decode winners (its database, carried as out/s21_call2_decode.db)
# timed in peers.py's process twice more (decodep), for the spread of the in-process ratios.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s21c3 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
FA=$PWD/build-gpu/fa-tune
(cd build-gpu && ctest -R harness_gpu_bench_cli --output-on-failure) >"$OUT/bench_cli.log" 2>&1
grep -E "Test +#|tests passed|TB/s|FAIL" "$OUT/bench_cli.log" | head
ab() { # "VARIANT BATCH HEADS HEADS_KV SEQLEN_K"
    read -r v b h hk sk <<<"$1"
    for r in 1 2 3; do
        for nopdl in 0 1; do
            t=$(FA_NO_PDL=$nopdl "$FA" bench --variant "$v" --batch "$b" --heads "$h" \
                --heads-kv "$hk" --seqlen-q 1 --seqlen-k "$sk" --no-eager --repeat 3 --json \
                2>>"$OUT/ab.err" | python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
rows=[x for x in rows if "repeat" in x]
ms=[x["median_ms"] for x in rows if x.get("median_ms")]
print(" ".join("%.2f" % (1000*m) for m in ms) + " (" + rows[0]["status"] + ")" if ms else "none")')
            echo "$v b$b h$h/$hk k$sk FA_NO_PDL=$nopdl round $r: $t us"
        done
    done
}
for spec in "decode_splitkv_hd128_bf16_m16n64w4s3k12 1 32 8 131072" \
            "decode_splitkv_hd128_bf16_m16n64w4s3k3 32 32 1 8192" \
            "decode_splitkv_hd128_bf16_m16n64w4s3k3 4 32 8 65536"; do
    ab "$spec"
done | tee "$OUT/ab_pdl.txt"
for i in 1 2; do
    mkdir -p $W/p$i && cp out/s21_call2_decode.db $W/p$i/decode.db
    bash bench/gpu_run.sh --out $W/p$i decodep >"$OUT/decodep$i.log" 2>&1
    cp $W/p$i/decodep.md "$OUT/decodep$i.md"; cp $W/p$i/decodep.jsonl "$OUT/decodep$i.jsonl"
    tail -18 "$OUT/decodep$i.md"
done
