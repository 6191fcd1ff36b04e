#!/bin/bash
# ofc_bench.sh -- CPU seconds of NVRTC on 6 programs of 8 sm80 hd64 bf16/fp16 variants each
# (sm80_hd64_exprs.txt: 48 of the 252 compiled variants of `fa-tune compile --arch sm80
# --headdim 64`, drawn with Python's random.seed(7)), with fa-tune's options and with
# -Ofc=min / -Ofc=mid added, interleaved, 2 rounds. NVRTC alone: the probe nvrtc_one.c of
# ../2026-12-03_cpu_compile_lean (build it as its header says); TPLDIR holds the templates
# (templates/ of this commit plus an empty fa_half_types.cuh).
#   bash ofc_bench.sh /tmp/one /tmp/tpl > ofc_sm80_hd64.txt
ONE=$1 TPL=$2
mapfile -t E < "$(dirname "$0")/sm80_hd64_exprs.txt"
for round in 1 2; do
    for b in 0 1 2 3 4 5; do
        batch=("${E[@]:$((b * 8)):8}")
        for o in none min mid; do
            if [ $o = none ]; then extra=(); else extra=(-- "-Ofc=$o"); fi
            r=$(REPS=1 "$ONE" "$TPL" sm_80 fa_fwd_sm80.cuh /tmp/ofc_$o.cubin "${batch[@]}" "${extra[@]}" 2>&1 | tail -1)
            echo "round $round batch $b $o $r"
        done
    done
done
