#!/usr/bin/env bash
# Session 31, call 1 on whatever GPU comes.
# On an H200 (~8.5 min): issue 14's replication, then issue 18's sweeps (session 29's
# call3.sh), since both issues' bars are stated for an H200 and none has come since session 17.
# On any other GPU (~5.5 min): the worker with hash_once.patch (a cubin's content hash computed
# once per compile output and carried by its jobs; the child's loaded modules keyed by it, no
# byte compare, no second copy) against the worker before it, on one machine, as session 30's
# call 3 did: built twice, one kernel cache, the full default hd128 job with halving cold (new),
# then warm base, new, base, new with FA_PROFILE; the harness's GPU tests on the new build; then,
# if time is left, the first new warm run's winners re-timed beside session 28's exhaustive run
# on an H100.
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OUT=${OUT:-out}
mkdir -p "$OUT"
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "GPU: $gpu"
echo "$gpu" >"$OUT/gpu.txt"
case $gpu in
*H200*)
    OUT=$OUT bash bench/results/2026-12-07_session29/call3.sh
    exit 0
    ;;
esac
W=/tmp/s31c1 && mkdir -p $W
gunzip -c bench/results/2026-12-07_session28/call4_h100/exs.db.gz >exs4.db || exit 1
BASE=/tmp/s31base && rm -rf $BASE && mkdir -p $BASE
tar --exclude=./build-gpu --exclude=./.fa-cache-sweep --exclude=./.fa-cache -cf - . | tar -xf - -C $BASE
(cd $BASE && patch -R -p1 <bench/results/2026-12-07_session31/hash_once.patch) >"$OUT/sweeps.log" 2>&1 || exit 1
mkdir -p "$ROOT/.fa-cache-sweep" && ln -s "$ROOT/.fa-cache-sweep" $BASE/.fa-cache-sweep
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
timeout $((560 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs4:nw1 >"$OUT/recheck.log" 2>&1
echo "recheck nw1 rc=$?"
cp $W/strategies_exs4_nw1.md "$OUT/" 2>/dev/null
grep "same winner" "$OUT/recheck.log"
