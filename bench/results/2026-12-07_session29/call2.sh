#!/usr/bin/env bash
# Session 29, call 2 on whatever GPU comes (~4 min). Interleaved racing's new 2-round rule (out
# when over the margin in both of its first 2 rounds: two_min.patch) against the rules before
# it, on the same GPU: the full default hd128 job halving from a cold cache (new build), then
# warm, alternating base, new, base, new (both builds share the kernel cache: the change is in
# the harness, not the kernels); then the first new warm run's winners re-timed beside session
# 28's exhaustive run on an H100. Every run is traced (FA_TUNE_RETIME_TRACE) with rung 0's own
# timings, for bench/retime_replay.py.
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OUT=${OUT:-out}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
W=/tmp/s29c2 && mkdir -p $W
gunzip -c bench/results/2026-12-07_session28/call4_h100/exs.db.gz >exs4.db || exit 1
BASE=/tmp/s29base && rm -rf $BASE && mkdir -p $BASE
tar --exclude=./build-gpu --exclude=./.fa-cache-sweep --exclude=./.fa-cache -cf - . | tar -xf - -C $BASE
(cd $BASE && patch -R -p1 <bench/results/2026-12-07_session29/two_min.patch) >"$OUT/sweeps.log" 2>&1 || exit 1
ln -s "$ROOT/.fa-cache-sweep" $BASE/.fa-cache-sweep
sweep() { # TREE NAME STAGE: one gpu_run.sh stage of TREE, traced to W/trace_NAME.txt
    FA_TUNE_RETIME_TRACE=$W/trace_$2.txt bash "$1/bench/gpu_run.sh" --out $W "$3" >>"$OUT/sweeps.log" 2>&1
}
bash bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
bash $BASE/bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
sweep "$ROOT" nc sweep:128:halving:nc:cold
sweep $BASE bw1 sweep:128:halving:bw1:warm
sweep "$ROOT" nw1 sweep:128:halving:nw1:warm
sweep $BASE bw2 sweep:128:halving:bw2:warm
sweep "$ROOT" nw2 sweep:128:halving:nw2:warm
grep -E "^=== |rc |wall|profile \(engine|profile \(device" "$OUT/sweeps.log" | cut -c1-260
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' --exclude='trace_*' .
tar -czf "$OUT/traces.tgz" -C $W $(cd $W && ls trace_*.txt)
for r in nw1; do
    timeout $((585 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs4:$r >>"$OUT/recheck.log" 2>&1
    echo "recheck $r rc=$?"
    cp $W/strategies_exs4_$r.md "$OUT/" 2>/dev/null
done
grep "same winner" "$OUT/recheck.log"
