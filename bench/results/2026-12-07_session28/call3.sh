#!/usr/bin/env bash
# Session 28, call 3. On an H200 (~9 min): issue 14's replication, then issue 18's sweeps
# (session 26's call3.sh). On any other GPU (~4 min): compute-sanitizer (memcheck, racecheck,
# synccheck) on the emitted header's three embedded examples, whose CUDA-graph cases (call 1:
# all replays passed on an H100) capture the launchers, replay the graphs on new lengths and
# contents, and launch the decode combine with programmatic dependent launch.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case $gpu in
*H200*) OUT="$OUT" bash bench/results/2026-12-07_session26/call3.sh; exit ;;
esac
bash bench/gpu_run.sh --out /tmp/s28c3 build >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
(cd build-gpu && ctest -R 'emit\.(embed|embed_mixed|embed_decode|example_embedded(_mixed|_decode)?\.build)$' \
    --output-on-failure) >"$OUT/headers.log" 2>&1 || { tail -30 "$OUT/headers.log"; exit 1; }
for ex in embedded embedded_decode embedded_mixed; do
    b=build-gpu/tests/emit/example_$ex/fa_embedded_example
    for tool in memcheck synccheck racecheck; do
        timeout 150 compute-sanitizer --tool $tool --error-exitcode 9 "$b" \
            >"/tmp/san_${ex}_$tool.txt" 2>&1
        rc=$?
        printf '%-16s %-9s exit %3d  %3d graph replays ok  %s\n' "$ex" "$tool" $rc \
            "$(grep -c '^ok .*graph replay' /tmp/san_${ex}_$tool.txt)" \
            "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' /tmp/san_${ex}_$tool.txt | tail -1)" |
            tee -a "$OUT/sanitize.txt"
    done
done
tail -c 20000 /tmp/san_embedded_decode_racecheck.txt >"$OUT/san_decode_racecheck_tail.txt"
grep -h -B2 -A12 -m3 '=========.*\(Invalid\|Race\|Barrier\|error\)' /tmp/san_*.txt | head -80 >"$OUT/san_first_errors.txt"
