#!/usr/bin/env bash
# decode_gpu.sh -- one GPU session of the splitkv decode family: build, check, sanitize, time,
# and PyTorch SDPA (cuDNN, flash) on the same decode shapes when torch is there.
#
#   bash bench/decode_gpu.sh [STAGE...]   stages: check, sanitize (compute-sanitizer on one
#                                         variant: $SANITIZE_TOOLS, default memcheck), time,
#                                         peers; default: all four
# Logs go to $LOGDIR (default $OUT when set, else build-decode/logs); each stage is bounded by
# `timeout`. Prints the tables last.
set -uo pipefail
cd "$(dirname "$0")/.."
LOGDIR=${LOGDIR:-${OUT:-build-decode/logs}}
mkdir -p "$LOGDIR"
STAGES=${*:-check sanitize time peers}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv,noheader
OUT=build-decode/decode_check BUILD_ONLY=1 bash bench/decode_check.sh 2>"$LOGDIR/build.txt"
rc=$?
grep -v "spill=0" "$LOGDIR/build.txt" | head -20
[ $rc -ne 0 ] && exit $rc
rc=0
for st in $STAGES; do
    case $st in
    check)
        timeout 90 build-decode/decode_check --no-time >"$LOGDIR/check.txt" 2>"$LOGDIR/check.err"
        r=$?; echo "check rc=$r"; [ $r -ne 0 ] && rc=$r
        grep -E "FAIL|error" "$LOGDIR/check.err" | head -30
        tail -1 "$LOGDIR/check.txt" ;;
    sanitize)
        for tool in ${SANITIZE_TOOLS:-memcheck}; do
            timeout 90 compute-sanitizer --tool $tool build-decode/decode_check --no-time \
                --only "128,m16n64w4s3,true" >"$LOGDIR/$tool.txt" 2>&1
            echo "$tool rc=$? $(grep -E "ERROR SUMMARY|RACECHECK SUMMARY|check:" "$LOGDIR/$tool.txt" | tr '\n' ' ')"
        done ;;
    time)
        timeout 120 build-decode/decode_check --no-check --reps ${REPS:-12} >"$LOGDIR/time.txt" 2>"$LOGDIR/time.err"
        r=$?; echo "time rc=$r"; [ $r -ne 0 ] && rc=$r
        grep -E "error" "$LOGDIR/time.err" | head -10
        cat "$LOGDIR/time.txt" ;;
    peers)
        timeout 120 python3 bench/peers.py --decode --shapes bench/decode_shapes.txt \
            -o "$LOGDIR/peers.jsonl" 2>"$LOGDIR/peers.txt"
        echo "peers rc=$?"; cat "$LOGDIR/peers.txt" ;;
    esac
done
exit $rc
