#!/usr/bin/env bash
# sm90a_gpu.sh -- one GPU session of the sm90a family: build, check, sanitize, time.
#
#   bash bench/sm90a_gpu.sh [STAGE...]     stages: check (list 0, correctness), modes (list 3:
#                                          varlen, head dims 32 and 96, packed QKV), sanitize
#                                          (racecheck + synccheck on a tiny case), time
#                                          (list 1: check + time), time2 (list 2: check +
#                                          time); default: check modes sanitize time
# Logs go to $LOGDIR (default $OUT when set, else build-sm90a/logs); each stage is bounded by
# `timeout` so a hung kernel costs at most that stage. Prints a short table last.
set -uo pipefail
cd "$(dirname "$0")/.."
LOGDIR=${LOGDIR:-${OUT:-build-sm90a/logs}}
mkdir -p "$LOGDIR"
STAGES=${*:-check modes sanitize time}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
lists=""
case " $STAGES " in *" check "* | *" sanitize "*) lists="$lists 0" ;; esac
case " $STAGES " in *" modes "*) lists="$lists 3" ;; esac
case " $STAGES " in *" time "*) lists="$lists 1" ;; esac
case " $STAGES " in *" time2 "*) lists="$lists 2" ;; esac
for l in $lists; do
    (FA_CHECK_LIST=$l BUILD_ONLY=1 OUT=build-sm90a/l$l bash bench/sm90a_check.sh) 2>"$LOGDIR/build$l.txt" &
done
wait
for l in $lists; do cut -c1-120 "$LOGDIR/build$l.txt" | grep -v "^building" | grep -v " 0 bytes spill stores"; done
rc=0
for st in $STAGES; do
    case $st in
    check)
        timeout 100 build-sm90a/l0 --no-time >"$LOGDIR/check.txt" 2>"$LOGDIR/check.err"
        r=$?; echo "check rc=$r"; [ $r -ne 0 ] && rc=$r
        grep -E "FAIL|error|variant" "$LOGDIR/check.err" | head -40
        tail -1 "$LOGDIR/check.txt" ;;
    modes)
        timeout 100 build-sm90a/l3 --no-time >"$LOGDIR/modes.txt" 2>"$LOGDIR/modes.err"
        r=$?; echo "modes rc=$r"; [ $r -ne 0 ] && rc=$r
        grep -E "FAIL|error" "$LOGDIR/modes.err" | head -40
        tail -1 "$LOGDIR/modes.txt" ;;
    sanitize)
        # one small case (24 tiles) per pipeline shape: 2wg overlap+pingpong persistent with
        # staged O, 3wg plain persistent, 2wg overlap persistent with direct O stores,
        # 4 stages, 1 stage non-persistent
        for v in "bfloat16,128,128,2,2,true,true,true,true" "half,128,128,3,2,false,false,false,true" \
            "bfloat16,256,80,2,2,true,true,false,true" "half,64,192,2,4,false,true,true,true" \
            "half,64,128,2,1,false,true,false,false"; do
            for tool in synccheck racecheck; do
                timeout 45 compute-sanitizer --tool $tool build-sm90a/l0 --no-time --only "$v" \
                    --shape q257 >"$LOGDIR/$tool.txt" 2>&1
                echo "$tool $v rc=$? $(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$LOGDIR/$tool.txt")"
            done
        done ;;
    time | time2)
        l=1; [ "$st" = time2 ] && l=2
        timeout 100 build-sm90a/l$l >"$LOGDIR/$st.txt" 2>"$LOGDIR/$st.err"
        r=$?; echo "$st rc=$r"; [ $r -ne 0 ] && rc=$r
        grep -E "FAIL|error" "$LOGDIR/$st.err" | head -20
        grep -E "time_N|passed" "$LOGDIR/$st.txt" | awk '{print $1, $2, $NF}' ;;
    esac
done
exit $rc
