#!/usr/bin/env bash
# Session 30, call 3 on whatever GPU comes, with about 490 s of device time left.
# On an H200: issue 14's replication alone (session 29's call3.sh with I18=0, ~4.5 min), then
# the harness's GPU tests on this session's worker.
# On any other GPU (~5 min): the worker's cubin store (cubin_store.patch: a cubin crosses the
# socket once per child instead of with every job) against the worker before it, on one
# machine, as call 2 did for the module cache: built twice, one kernel cache, the full default
# hd128 job with halving cold (new), then warm base, new, base, new with FA_PROFILE; then the
# harness's GPU tests on the new build; then, if time is left, the first new warm run's winners
# re-timed beside session 28's exhaustive run on an H100.
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
echo "$gpu" >"$OUT/gpu.txt"
gpu_tests() {
    (cd build-gpu && ctest -L gpu -R '^harness_gpu' --output-on-failure --timeout 300) \
        >"$OUT/gpu_tests.log" 2>&1
    grep -E "tests passed|Failed|\*\*\*" "$OUT/gpu_tests.log" | tail -8
}
case $gpu in
*H200*)
    I18=0 bash bench/results/2026-12-07_session29/call3.sh
    gpu_tests
    exit 0
    ;;
esac
W=/tmp/s30c3 && mkdir -p $W
gunzip -c bench/results/2026-12-07_session28/call4_h100/exs.db.gz >exs4.db || exit 1
BASE=/tmp/s30base3 && rm -rf $BASE && mkdir -p $BASE
tar --exclude=./build-gpu --exclude=./.fa-cache-sweep --exclude=./.fa-cache -cf - . | tar -xf - -C $BASE
(cd $BASE && patch -R -p1 <bench/results/2026-12-07_session30/cubin_store.patch) >"$OUT/sweeps.log" 2>&1 || exit 1
ln -s "$ROOT/.fa-cache-sweep" $BASE/.fa-cache-sweep
bash bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
bash $BASE/bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
bash bench/gpu_run.sh --out $W sweep:128:halving:nc:cold >>"$OUT/sweeps.log" 2>&1
for r in bw1:$BASE nw1:$ROOT bw2:$BASE nw2:$ROOT; do
    bash "${r#*:}/bench/gpu_run.sh" --out $W "sweep:128:halving:${r%%:*}:warm" >>"$OUT/sweeps.log" 2>&1
done
grep -E "^=== |rc |wall|profile" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
gpu_tests
timeout $((440 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs4:nw1 >"$OUT/recheck.log" 2>&1
echo "recheck nw1 rc=$?"
cp $W/strategies_exs4_nw1.md "$OUT/" 2>/dev/null
grep "same winner" "$OUT/recheck.log"
