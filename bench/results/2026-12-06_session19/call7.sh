#!/usr/bin/env bash
# Session 19, call 7 (the last ~4.5 min of device time): a second run that times every sm90a
# variant of the full default hd128 job (exhaustive, cold, --stage-gate 0, the sm90a family
# only), exported as times and replayed by session 18's axis_gate_sim.py: the pingpong gate's
# lead needed a second run's evidence. The sweep is cut at 170 s so the export always runs.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
S=bench/results/2026-12-06_session18
W=/tmp/call7 && mkdir -p $W
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
bash bench/gpu_run.sh build >"$OUT/build.log" 2>&1 || { tail "$OUT/build.log"; exit 1; }
timeout 170 bash bench/gpu_run.sh --out $W "sweep:128:exhaustive:exf:cold:--stage-gate 0 --family sm90a" \
    >"$OUT/sweep.log" 2>&1
echo "sweep rc=$?"
grep -E "rc |wall|not compiled" "$OUT/sweep.log" | cut -c1-300
python3 $S/stage_gate_sim.py --export $W/exf.db "$OUT/exf_times.tsv.xz"
python3 $S/axis_gate_sim.py "$OUT/exf_times.tsv.xz" | tee "$OUT/axis_gate_sim.md"
