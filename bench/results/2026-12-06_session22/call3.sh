#!/usr/bin/env bash
# Session 22, call 3 (~4 min, any Hopper GPU): issue 16, the in-process gap. peers.py hands SDPA
# and fa-tune's header launcher PyTorch-layout caches, bhsd (each KV head's keys contiguous);
# fa-tune tuned and timed its winners on bshd caches (FlashAttention's layout), the only layout
# decode problems took until this call. Call 2 ruled out the stream.
#  1. build; the bench CLI's GPU test (a bhsd decode case is new); A/B of the layout:
#     `fa-tune bench --layout bshd` against `--layout bhsd` (new for decode) on call 2's winners
#     of three of the five shapes tied in-process (the device time left is short), alternated,
#     3 rounds of 3 medians each (each run also checks the output against the fp32 reference)
#  2. bench/decode_shapes_bhsd.txt (the contiguous decode shapes, layout=bhsd) tuned through the
#     product beside the peers, then its winners in peers.py's process (decodep; a second
#     process with SECOND=1)
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
FINAL=$OUT && OUT=/tmp/s22c3_out && mkdir -p $OUT # 8 files come back: the rest in one archive
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s22c3 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
FA=$PWD/build-gpu/fa-tune
(cd build-gpu && ctest -R harness_gpu_bench_cli --output-on-failure) \
    >"$OUT/ctest.log" 2>&1
echo "ctest harness_gpu_bench_cli (new: a bhsd decode case): rc=$?"
grep -E "tests passed|Test +#" "$OUT/ctest.log"
ab() { # "VARIANT BATCH HEADS HEADS_KV SEQLEN_K"
    read -r v b h hk sk <<<"$1"
    for r in 1 2 3; do
        for lay in bshd bhsd; do
            t=$("$FA" bench --variant "$v" --layout $lay --batch "$b" --heads "$h" \
                --heads-kv "$hk" --seqlen-q 1 --seqlen-k "$sk" --no-eager --repeat 3 --json \
                2>>"$OUT/ab.err" | python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
rows=[x for x in rows if "repeat" in x]
ms=[x["median_ms"] for x in rows if x.get("median_ms")]
print(" ".join("%.2f" % (1000*m) for m in ms) + " (" + rows[0]["status"] + ")" if ms else "none")')
            echo "$v b$b h$h/$hk k$sk $lay round $r: $t us"
        done
    done
}
for spec in "decode_splitkv_hd128_bf16_m16n64w4s3k12 1 32 8 131072" \
            "decode_splitkv_hd128_bf16_m16n64w4s3k3 4 32 8 65536" \
            "decode_splitkv_hd128_bf16_m16n128w4s2k0f 16 32 8 16384"; do
    ab "$spec"
done | tee "$OUT/ab_layout.txt" "$FINAL/ab_layout.txt" # in FINAL now: a run cut short keeps it
S=bench/decode_shapes_bhsd.txt
bash bench/gpu_run.sh --out $W decode:halving:$S decodep:$S >"$OUT/decode_bhsd.log" 2>&1
grep -E "^=== |rc |wall|copy on" "$OUT/decode_bhsd.log" | cut -c1-250
cp $W/decode_decode_shapes_bhsd.md "$OUT/decode_bhsd.md"
cp $W/decode_decode_shapes_bhsdp.md "$OUT/decodep_bhsd_1.md"
cp $W/decode_decode_shapes_bhsdp.jsonl "$OUT/decodep_bhsd_1.jsonl"
if [ "${SECOND:-0}" = 1 ]; then # a second process, when the device time allows
    bash bench/gpu_run.sh --out $W decodep:$S >"$OUT/decodep_bhsd_2.log" 2>&1
    cp $W/decode_decode_shapes_bhsdp.md "$OUT/decodep_bhsd_2.md"
    cp $W/decode_decode_shapes_bhsdp.jsonl "$OUT/decodep_bhsd_2.jsonl"
fi
cp $W/decode_decode_shapes_bhsd.db "$OUT/"
cat "$OUT/decode_bhsd.md"
for f in "$OUT"/decodep_bhsd_?.md; do tail -17 "$f"; done
cp "$OUT/decode_bhsd.md" "$OUT"/decodep_bhsd_?.md "$OUT/gpu.txt" "$FINAL/"
tar -czf "$FINAL/call3_rest.tgz" -C "$OUT" .
