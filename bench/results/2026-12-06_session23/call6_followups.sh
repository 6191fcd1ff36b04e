#!/usr/bin/env bash
# Session 23, call 6's two follow-ups (run on the same warm machine right after call6.sh).
# 1: the four placement shapes tuned with the cyclic templates (cyclic.patch, everywhere),
#    their winners in peers.py's process, then call 3's v4 database in peers.py's process again.
S=bench/results/2026-12-06_session23
FA_TUNE_TEMPLATES=/tmp/cyc_templates bash bench/gpu_run.sh --out /tmp/s23c7 \
    decode:halving:$S/placement_shapes.txt decodep:$S/placement_shapes.txt >$OUT/cyc_stages.log 2>&1
cp /tmp/s23c7/decode_placement_shapes.md /tmp/s23c7/decode_placement_shapesp.md $OUT/
bash bench/gpu_run.sh --out /tmp/s23c3 decodep:$S/placement_shapes.txt >/dev/null 2>&1
cp /tmp/s23c3/decode_placement_shapesp.md $OUT/base_again_p.md
# 2: the 14 bhsd shapes tuned and timed in process with the cyclic templates, then with v4's
S=bench/decode_shapes_bhsd.txt
FA_TUNE_TEMPLATES=/tmp/cyc_templates bash bench/gpu_run.sh --out /tmp/s23c8 decode:halving:$S \
    decodep:$S >$OUT/cyc14.log 2>&1
cp /tmp/s23c8/decode_decode_shapes_bhsd.md $OUT/cyc14_decode.md
cp /tmp/s23c8/decode_decode_shapes_bhsdp.md $OUT/cyc14_p.md
bash bench/gpu_run.sh --out /tmp/s23c9 decode:halving:$S decodep:$S >$OUT/base14.log 2>&1
cp /tmp/s23c9/decode_decode_shapes_bhsdp.md $OUT/base14_p.md
