#!/usr/bin/env bash
# Session 23, call 1's follow-up (run on the same warm machine right after call1.sh): two more
# processes of each in-process layout run, on call 1's databases (/tmp/layout_next).
W=/tmp/layout_next; S=bench/decode_shapes_bhsd.txt
for i in 1 2; do
    bash bench/gpu_run.sh --out $W decodep:$S >/dev/null 2>&1
    cp $W/decode_decode_shapes_bhsdp.md $OUT/bhsdp_rep$i.md
    tail -16 $W/decode_decode_shapes_bhsdp.md | cut -d'|' -f2,4,5,8,9
    bash bench/gpu_run.sh --out $W decodep:::bshd >/dev/null 2>&1
    cp $W/decodep_bshd.md $OUT/bshdp_rep$i.md
    tail -16 $W/decodep_bshd.md | cut -d'|' -f2,4,5,8,9
done
