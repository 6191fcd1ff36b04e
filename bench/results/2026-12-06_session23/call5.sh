#!/usr/bin/env bash
# Session 23, call 5 (~5 min, any Hopper GPU): issue 16. Block-cyclic splits (cyclic.patch:
# split s takes blocks s, s + S, s + 2S, ..., so a sequence's splits stream one window side by
# side instead of S separate ranges), A/B against the unchanged templates through
# bench/ab_bench.py (arm cyclic = FA_TUNE_TEMPLATES pointing at a patched copy), 3 rounds of 3
# medians, each arm's first run checked against the fp32 reference. Two specs with one split
# are controls (same blocks both arms: the noise).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
S=bench/results/2026-12-06_session23
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh --out /tmp/s23c5 build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
rm -rf /tmp/cyc_templates && cp -r templates /tmp/cyc_templates
patch -d /tmp/cyc_templates -p2 <$S/cyclic.patch || exit 1
python3 bench/ab_bench.py --rounds 3 --repeat 3 --arm base \
    --arm cyclic=FA_TUNE_TEMPLATES=/tmp/cyc_templates --specs $S/cyclic_specs.txt \
    --out "$OUT/ab_cyclic.md" >"$OUT/ab_cyclic.log" 2>&1
echo "ab_bench rc=$?"
cat "$OUT/ab_cyclic.md"
