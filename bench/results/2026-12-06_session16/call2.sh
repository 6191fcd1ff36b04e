#!/usr/bin/env bash
# Session 16, call 2 (issue 14): FlashAttention's grid tuned (halving, both families), the
# winners and the peers head to head (2 alternating rounds, clocks sampled) as before and with
# fa-tune timing after 100 us of GPU idle (--gap-us 100, the peers' protocol), then
# timing_gap.sh (three kernels timed by fa-tune bench with and without the gap).
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build info
(cd build-gpu && ctest -R harness_gpu_timing --output-on-failure | grep -E 'gap|ten timings|Passed|Failed')
bash bench/gpu_run.sh tune:256:halving tune:128:halving tune:64:halving h2h:2 h2h:2:100 compare
FA=build-gpu/fa-tune OUT=$OUT bash bench/results/2026-12-06_session16/timing_gap.sh \
    >"$OUT/timing_gap.txt" 2>&1
cat "$OUT/timing_gap.txt"
for t in h2h h2h_gap100; do echo "== $t"; tail -4 "$OUT/$t.md"; done
