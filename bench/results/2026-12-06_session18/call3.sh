#!/usr/bin/env bash
# Session 18, call 3 (~6 min): issue 18's stage gate on the full default hd128 job. (1) cold
# exhaustive with both gates at their defaults (family 1.25, stage 1.10): the wall time against
# the 120 s bar; (2) the same job with --stage-gate 0 on the warm cache (compiles only what the
# gate held back): every variant timed, the baseline; (3) both runs' winners re-timed side by
# side (recheck, 30 rounds: the gate must lose nothing, within 2% on every problem). The
# databases come back for stage_gate_sim.py (which gate values would have lost what).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
bash bench/gpu_run.sh build sweep:128:exhaustive:exs:cold "sweep:128:exhaustive:exf:warm:--stage-gate 0" \
    recheck:128:exs:exf >"$OUT/call.log" 2>&1
echo "rc=$?"
grep -E "^=== |wall|not compiled|same winner" "$OUT/call.log" | tail -20
tar -czf /tmp/call3.tgz -C "$OUT" . && mv /tmp/call3.tgz "$OUT/"
find "$OUT" -mindepth 1 ! -name call3.tgz ! -name 'strategies*.md' ! -name call.log -delete
