#!/usr/bin/env bash
# Session 31, call 4 on whatever GPU comes, with about 418 s of device time left.
# On an H200 (~3.5 min): issue 14's replication alone (session 25's call2.sh).
# On any other GPU (~3.5 min): the tune engine with engine_share.patch (one copy of each
# distinct cubin: a compile batch's siblings, and their cache hits, share it) against the engine
# before it, on one machine: built twice, one kernel cache, the full default hd128 job with
# halving cold (new), then warm base, new, base, new with FA_PROFILE (its session line now has
# the tuner's peak memory); then the first new warm run's winners re-timed beside session 28's
# exhaustive run on an H100.
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
    OUT=$OUT timeout 380 bash bench/results/2026-12-06_session25/call2.sh
    exit 0
    ;;
esac
W=/tmp/s31c4 && mkdir -p $W
gunzip -c bench/results/2026-12-07_session28/call4_h100/exs.db.gz >exs4.db || exit 1
BASE=/tmp/s31base4 && rm -rf $BASE && mkdir -p $BASE
tar --exclude=./build-gpu --exclude=./.fa-cache-sweep --exclude=./.fa-cache -cf - . | tar -xf - -C $BASE
(cd $BASE && patch -R -p1 <bench/results/2026-12-07_session31/engine_share.patch) >"$OUT/sweeps.log" 2>&1 || exit 1
mkdir -p "$ROOT/.fa-cache-sweep" && ln -s "$ROOT/.fa-cache-sweep" $BASE/.fa-cache-sweep
bash bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
bash $BASE/bench/gpu_run.sh --out $W build >>"$OUT/sweeps.log" 2>&1
bash bench/gpu_run.sh --out $W sweep:128:halving:nc:cold >>"$OUT/sweeps.log" 2>&1
for r in bw1:$BASE nw1:$ROOT bw2:$BASE nw2:$ROOT; do
    bash "${r#*:}/bench/gpu_run.sh" --out $W "sweep:128:halving:${r%%:*}:warm" >>"$OUT/sweeps.log" 2>&1
done
grep -E "^=== |rc |wall|profile" "$OUT/sweeps.log" | cut -c1-300
tar -czf "$OUT/sweeps.tgz" -C $W --exclude='*.db*' .
timeout $((390 - SECONDS)) bash bench/gpu_run.sh --out $W recheck:128:exs4:nw1 >"$OUT/recheck.log" 2>&1
echo "recheck nw1 rc=$?"
cp $W/strategies_exs4_nw1.md "$OUT/" 2>/dev/null
grep "same winner" "$OUT/recheck.log"
