#!/usr/bin/env bash
# Timing noise (~3 min): why the same fa-tune kernel reads up to 7% apart between protocols
# (session 19 call 4: hd128 non-causal 8k m192n128s2pe 669 / 677 / 724 TFLOP/s) while cuDNN's
# numbers agree within 0.5%. Per shape: 6 separate `fa-tune bench` processes with fresh input
# values (as h2hb / h2hs run it), 6 with one fixed --check-seed, one process with --repeat 6,
# then SDPA cuDNN 3 times (peers.py, one shape each).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
[ -x build-gpu/fa-tune ] || bash bench/gpu_run.sh build >"$OUT/build.log" 2>&1
FA=build-gpu/fa-tune
tf() { python3 -c 'import json,sys; print(round(json.loads(sys.stdin.readline())["tflops"], 1))'; }
for spec in "fwd_sm90a_hd128_bf16_m192n128s2pe 2 8192" "fwd_sm90a_hd128_bf16_m192n128s2pe 32 512" \
    "fwd_sm90a_hd256_bf16_m128n80s2ov 2 8192"; do
    read -r v b n <<<"$spec"
    hd=$(echo "$v" | sed -E 's/.*_hd([0-9]+)_.*/\1/'); heads=$((2048 / hd))
    sh="--batch $b --heads $heads --seqlen-q $n"
    $FA bench --variant $v $sh --no-eager --min-reps 3 --max-reps 3 >/dev/null 2>&1 # compile
    fresh=""; fixed=""
    for i in 1 2 3 4 5 6; do
        fresh="$fresh $($FA bench --variant $v $sh --no-eager --json 2>/dev/null | tf)"
        fixed="$fixed $($FA bench --variant $v $sh --no-eager --json --check-seed 1 2>/dev/null | tf)"
    done
    echo "$v N=$n fresh-seed processes:$fresh"
    echo "$v N=$n fixed-seed processes:$fixed"
    $FA bench --variant $v $sh --no-eager --repeat 6 2>&1 | grep -iE "repeat|CV of|medians" | head -3
    for i in 1 2 3; do
        python3 bench/peers.py --headdims $hd --seqlens $n --causal 0 \
            --peers torch_sdpa_cudnn -o - 2>/dev/null | python3 -c '
import json,sys
for l in sys.stdin:
    try: d=json.loads(l)
    except Exception: continue
    if d.get("peer") == "torch_sdpa_cudnn" and d.get("tflops"): print("cudnn", round(d["tflops"], 1))'
    done
done 2>&1 | tee "$OUT/noise.txt"
