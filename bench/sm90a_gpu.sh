#!/usr/bin/env bash
# sm90a_gpu.sh -- one GPU session of the sm90a family: build, check, sanitize, time.
#
#   bash bench/sm90a_gpu.sh [STAGE...]     stages: check (list 0, correctness), sanitize
#                                          (racecheck + synccheck on a tiny case), time
#                                          (list 1: check + time); default: all three
# Logs go to $LOGDIR (default $OUT when set, else build-sm90a/logs); each stage is bounded by
# `timeout` so a hung kernel costs at most that stage. Prints a short table last.
set -uo pipefail
cd "$(dirname "$0")/.."
LOGDIR=${LOGDIR:-${OUT:-build-sm90a/logs}}
mkdir -p "$LOGDIR"
STAGES=${*:-check sanitize time}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
(FA_CHECK_LIST=0 BUILD_ONLY=1 OUT=build-sm90a/l0 bash bench/sm90a_check.sh) 2>"$LOGDIR/build0.txt" &
(FA_CHECK_LIST=1 BUILD_ONLY=1 OUT=build-sm90a/l1 bash bench/sm90a_check.sh) 2>"$LOGDIR/build1.txt" &
wait
cut -c1-120 "$LOGDIR/build0.txt" "$LOGDIR/build1.txt" | grep -v "^building" | sort -u | head -40
rc=0
for st in $STAGES; do
    case $st in
    check)
        timeout 100 build-sm90a/l0 --no-time >"$LOGDIR/check.txt" 2>"$LOGDIR/check.err"
        r=$?; echo "check rc=$r"; [ $r -ne 0 ] && rc=$r
        grep -E "FAIL|error|variant" "$LOGDIR/check.err" | head -40
        tail -1 "$LOGDIR/check.txt" ;;
    sanitize)
        for tool in synccheck racecheck; do
            timeout 45 compute-sanitizer --tool $tool build-sm90a/l0 --no-time \
                --only "bfloat16,128,128,2,2,true,true,true,true" --shape q257 >"$LOGDIR/$tool.txt" 2>&1
            echo "$tool rc=$?"; grep -E "ERROR SUMMARY|Hazard|hazard|passed" "$LOGDIR/$tool.txt" | head -5
        done ;;
    time)
        timeout 100 build-sm90a/l1 >"$LOGDIR/time.txt" 2>"$LOGDIR/time.err"
        r=$?; echo "time rc=$r"; [ $r -ne 0 ] && rc=$r
        grep -E "FAIL|error" "$LOGDIR/time.err" | head -20
        grep -E "time_N|passed" "$LOGDIR/time.txt" | awk '{print $1, $2, $NF}' ;;
    esac
done
exit $rc
