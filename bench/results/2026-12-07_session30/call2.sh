#!/usr/bin/env bash
# Session 30, call 2 on whatever GPU comes.
# On an H200: session 29's call3.sh (issue 14's replication, then issue 18's sweeps, ~8.5 min).
# On any other GPU (~8 min): the module cache's sharing (module_share.patch: the kernels of one
# compile batch's cubin take their functions from one loaded module; each was loaded once per
# kernel before) against the cache before it, on one machine. Built twice (main, and a copy
# with the patch reversed), one kernel cache for both (the change is in the harness, not the
# kernels): the full default hd128 job with halving from a cold cache (new), then warm four
# times alternating base, new, base, new, every run with FA_PROFILE (the worker lines and the
# module counts are this session's). Then the harness's GPU tests on the new build, then the
# first new warm run's winners re-timed beside session 28's exhaustive run on an H100.
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
echo "$gpu" >"$OUT/gpu.txt"
case $gpu in
*H200*) exec bash bench/results/2026-12-07_session29/call3.sh ;;
esac
W=/tmp/s30c2 && mkdir -p $W
gunzip -c bench/results/2026-12-07_session28/call4_h100/exs.db.gz >exs4.db || exit 1
BASE=/tmp/s30base && rm -rf $BASE && mkdir -p $BASE
tar --exclude=./build-gpu --exclude=./.fa-cache-sweep --exclude=./.fa-cache -cf - . | tar -xf - -C $BASE
(cd $BASE && patch -R -p1 <bench/results/2026-12-07_session30/module_share.patch) >"$OUT/sweeps.log" 2>&1 || exit 1
sed -i 's/r->modules\.shared/0/' $BASE/harness/fa_runner.c # the old cache has no such count
ln -s "$ROOT/.fa-cache-sweep" $BASE/.fa-cache-sweep
bash bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
bash $BASE/bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
bash bench/gpu_run.sh --out $W sweep:128:halving:nc:cold >>"$OUT/sweeps.log" 2>&1
for r in bw1:$BASE nw1:$ROOT bw2:$BASE nw2:$ROOT; do
    bash "${r#*:}/bench/gpu_run.sh" --out $W "sweep:128:halving:${r%%:*}:warm" >>"$OUT/sweeps.log" 2>&1
done
grep -E "^=== |rc |wall|profile" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
(cd build-gpu && ctest -L gpu -R '^harness_gpu' --output-on-failure --timeout 300) \
    >"$OUT/gpu_tests.log" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$OUT/gpu_tests.log" | tail -8
timeout $((585 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs4:nw1 >"$OUT/recheck.log" 2>&1
echo "recheck nw1 rc=$?"
cp $W/strategies_exs4_nw1.md "$OUT/" 2>/dev/null
grep "same winner" "$OUT/recheck.log"
