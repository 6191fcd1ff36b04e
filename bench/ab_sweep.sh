#!/usr/bin/env bash
# bench/ab_sweep.sh -- A/B of a host-side patch on the full default sweep, on one GPU machine:
# "base" is a copy of this tree with PATCH reversed, "new" is the tree as it is (PATCH applied).
# Both are built (bench/gpu_run.sh build) and share one kernel cache; new runs cold once, then
# warm runs alternate base, new, base, new ... (FA_PROFILE on), and bench/ab_sweep_table.py
# prints each run's wall, GPU busy time, the worker parent's own time and peak memory, with
# whether the arms' warm ranges are apart. Optionally, new's first warm run's winners are
# re-timed beside an exhaustive run's (gpu_run.sh's recheck stage: halving within 2%?).
#
#   bash bench/ab_sweep.sh [--out DIR] [--hd HD] [--strategy S] [--rounds N]
#                          [--recheck EXH.db[.gz]] [--deadline S] [--prepare-only] PATCH
#
#   --rounds N      warm runs per arm (default 2)
#   --recheck DB    an exhaustive run's database (.gz is unpacked) for the recheck, started only
#                   while the script has been running less than --deadline seconds (default
#                   560: the device tool's limit is 600 a command); it is cut off at the deadline
#   --prepare-only  build both arms and stop (no GPU needed: checks that PATCH reverses)
#
# Output under DIR (default $OUT, else ./out): sweeps.log (every stage's lines), ab.md (the
# table), gpu.txt, recheck.log and strategies_*.md, sweeps.tgz (the runs' logs, no databases).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUTDIR=${OUT:-$ROOT/out} hd=128 strategy=halving rounds=2 recheck="" deadline=560 prep=0
usage() { { echo usage:; sed -n '10,11p' "$0" | cut -c2-; } >&2; exit 2; }
while [ $# -gt 1 ]; do
    case $1 in
    --out) OUTDIR=$2; shift 2 ;;
    --hd) hd=$2; shift 2 ;;
    --strategy) strategy=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --recheck) recheck=$2; shift 2 ;;
    --deadline) deadline=$2; shift 2 ;;
    --prepare-only) prep=1; shift ;;
    *) usage ;;
    esac
done
[ $# = 1 ] || usage
patch=$(realpath "$1") || exit 2
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "ab_sweep: --rounds wants a positive count" >&2; exit 2; }
mkdir -p "$OUTDIR" && OUTDIR=$(realpath "$OUTDIR")
if ! patch -R -p1 --dry-run -s <"$patch" >/dev/null; then
    echo "ab_sweep: $1 does not reverse on this tree (is it applied here?)" >&2
    exit 2
fi

# The base tree: this one without the patch, beside it, sharing the sweep's kernel cache.
BASE=/tmp/ab_sweep_base
rm -rf "$BASE" && mkdir -p "$BASE"
tar --exclude=./build-gpu --exclude=./build --exclude=./out --exclude=./.fa-cache-sweep \
    --exclude=./.fa-cache -cf - . | tar -xf - -C "$BASE"
(cd "$BASE" && patch -R -p1 -s <"$patch") || exit 1
mkdir -p "$ROOT/.fa-cache-sweep" && ln -s "$ROOT/.fa-cache-sweep" "$BASE/.fa-cache-sweep"

W=$OUTDIR/runs
mkdir -p "$W"
LOG=$OUTDIR/sweeps.log
: >"$LOG"
for tree in "$ROOT" "$BASE"; do
    bash "$tree/bench/gpu_run.sh" --out "$W" build >>"$LOG" 2>&1 || {
        echo "ab_sweep: the build of $tree failed" >&2
        tail -20 "$LOG" >&2
        exit 1
    }
done
if [ $prep = 1 ]; then
    echo "ab_sweep: both arms built (new: $ROOT/build-gpu, base: $BASE/build-gpu)"
    exit 0
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1 >"$OUTDIR/gpu.txt"
echo "GPU: $(cat "$OUTDIR/gpu.txt")"

bash bench/gpu_run.sh --out "$W" "sweep:$hd:$strategy:nc:cold" >>"$LOG" 2>&1
for i in $(seq 1 "$rounds"); do
    bash "$BASE/bench/gpu_run.sh" --out "$W" "sweep:$hd:$strategy:bw$i:warm" >>"$LOG" 2>&1
    bash bench/gpu_run.sh --out "$W" "sweep:$hd:$strategy:nw$i:warm" >>"$LOG" 2>&1
done
python3 bench/ab_sweep_table.py "$LOG" | tee "$OUTDIR/ab.md"
tar -czf "$OUTDIR/sweeps.tgz" -C "$W" --exclude='*.db*' .

if [ -n "$recheck" ]; then
    left=$((deadline - SECONDS))
    if [ $left -lt 60 ]; then
        echo "recheck: not started, $left s to the deadline"
        exit 0
    fi
    exh=$W/exhaustive.db
    case $recheck in
    *.gz) gunzip -c "$recheck" >"$exh" || exit 1 ;;
    *) cp "$recheck" "$exh" || exit 1 ;;
    esac
    timeout "$left" bash bench/gpu_run.sh --out "$W" "recheck:$hd:exhaustive:nw1" \
        >"$OUTDIR/recheck.log" 2>&1
    echo "recheck rc=$? ($left s allowed)"
    cp "$W"/strategies_exhaustive_nw1.md "$OUTDIR/" 2>/dev/null
    grep "same winner" "$OUTDIR/recheck.log"
fi
