#!/usr/bin/env bash
# Session 29, call 1 on whatever GPU comes.
# On an H200 (~9 min): session 26's call3.sh (issue 14's replication, then issue 18's sweeps).
# On any other GPU (~7 min): the rounds of halving's interleaved re-timings, for replaying stop
# rules offline (bench/retime_replay.py): the full default hd128 job halving from a cold cache,
# then warm (the baseline warm time), each with FA_TUNE_RETIME_TRACE; then warm with racing off
# (--race 0: every rung-1 member runs the group's rounds, so the trace is not cut short by the
# racing a replay changes); then the warm run's winners re-timed beside session 28's exhaustive
# run on an H100 (call4_h100/exs.db.gz).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-07_session26/call3.sh; exit ;;
esac
W=/tmp/s29c1 && mkdir -p $W
gunzip -c bench/results/2026-12-07_session28/call4_h100/exs.db.gz >exs4.db || exit 1
sweep() { # NAME STAGE: one gpu_run.sh stage, its re-timings traced to W/trace_NAME.txt
    FA_TUNE_RETIME_TRACE=$W/trace_$1.txt bash bench/gpu_run.sh --out $W "$2" >>"$OUT/sweeps.log" 2>&1
}
bash bench/gpu_run.sh --out $W build >"$OUT/sweeps.log" 2>&1
sweep hvc sweep:128:halving:hvc:cold
sweep hvw sweep:128:halving:hvw:warm
sweep hvu "sweep:128:halving:hvu:warm:--race 0"
grep -E "^=== |rc |wall|not compiled|profile" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' --exclude='trace_*' .
tar -czf "$OUT/traces.tgz" -C $W trace_hvc.txt trace_hvw.txt trace_hvu.txt
gzip -c $W/hvw.db >"$OUT/hvw.db.gz"
timeout $((585 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs4:hvw >"$OUT/recheck.log" 2>&1
echo "recheck rc=$?"
tail -3 "$OUT/recheck.log"
cp $W/strategies_exs4_hvw.md "$OUT/" 2>/dev/null
