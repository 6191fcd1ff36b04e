#!/usr/bin/env bash
# Session 24, call 1 for the next session on whatever GPU comes (~5 min). What verifies decode
# v5 has run (call1_short.sh, this folder). On an H200: issue 14's replication (session 20's
# call8.sh stages: the grid tuned, fa-tune inside peers.py's process 3 times, then h2hs). On any
# other GPU: issue 16 with v5, both sides on both cache layouts, each in one process (session
# 22's call_next_layout.sh).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s24c1 && mkdir -p $W
bash bench/gpu_run.sh --out $W build >"$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
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
