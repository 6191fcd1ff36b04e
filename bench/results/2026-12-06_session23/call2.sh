#!/usr/bin/env bash
# Session 23, call 2 (~5 min, any Hopper GPU): issue 16. Does the decode split kernel gain from
# starting each (sequence, KV head)'s blocks at a different offset of its range (rotate.patch:
# block it = blk0 + (it + rot) % nblk, rot spread over the grid)? The guess: on bhsd caches
# every CTA reads at the same offset of a 4 MB-aligned range at once. A/B through
# bench/ab_bench.py, arm rot = FA_TUNE_TEMPLATES pointing at a patched copy of templates/;
# 3 rounds of 3 medians, the first run of each arm checked against the fp32 reference.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
S=bench/results/2026-12-06_session23
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out /tmp/s23c2 build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
rm -rf /tmp/rot_templates && cp -r templates /tmp/rot_templates
patch -d /tmp/rot_templates -p2 <$S/rotate.patch || (cd /tmp/rot_templates && git apply -p2 "$OLDPWD/$S/rotate.patch") || exit 1
python3 bench/ab_bench.py --rounds 3 --repeat 3 --arm base \
    --arm rot=FA_TUNE_TEMPLATES=/tmp/rot_templates --specs $S/rotate_specs.txt \
    --out "$OUT/ab_rotate.md" >"$OUT/ab_rotate.log" 2>&1
echo "ab_bench rc=$?"
cat "$OUT/ab_rotate.md"
