#!/usr/bin/env bash
# sm90a_check.sh -- build bench/sm90a_check.cu with nvcc for sm_90a and run it on the local GPU.
#
#   bash bench/sm90a_check.sh                  # list 0 (coverage), check + time
#   FA_CHECK_LIST=1 bash bench/sm90a_check.sh  # bf16 timing seeds, check + time
#   bash bench/sm90a_check.sh --no-time        # correctness only
#   bash bench/sm90a_check.sh --only ',128,'   # variants whose name contains the string
#   BUILD_ONLY=1 bash bench/sm90a_check.sh     # compile (and print ptxas resources) only
#
# Env: FA_CHECK_LIST (0 coverage, 1 timing seeds, 2 tile exploration, 3 modes: varlen, head
#      dims 32 and 96, packed QKV), NVCC (default nvcc),
#      OUT (binary path, default build-sm90a/sm90a_check_l<list>), REBUILD=0 to reuse a binary.
# The -gencode form is deliberate: with CUDA 13.0, -arch=sm_90a also ran a plain sm_90 pass
# that rejects wgmma and setmaxnreg.
# Exit status is the checker's: 0 all pass, 3 numerical mismatch, 1 CUDA error.
set -euo pipefail
cd "$(dirname "$0")/.."
LIST=${FA_CHECK_LIST:-0}
NVCC=${NVCC:-nvcc}
OUT=${OUT:-build-sm90a/sm90a_check_l${LIST}}
mkdir -p "$(dirname "$OUT")"
if [ "${REBUILD:-1}" != 0 ] || [ ! -x "$OUT" ]; then
    echo "building $OUT (sm_90a, list $LIST)" >&2
    LOG="$OUT.build.log"
    if ! "$NVCC" -std=c++17 -O2 -gencode=arch=compute_90a,code=sm_90a -lineinfo -Xptxas=-v \
        -Itemplates -Ibench -DFA_CHECK_LIST="$LIST" bench/sm90a_check.cu -o "$OUT" >"$LOG" 2>&1; then
        grep -v "^ptxas info" "$LOG" >&2
        exit 1
    fi
    # one line per kernel: name, registers, spills; any ptxas warning (wgmma serialization)
    grep -A3 "entry function '_Z12fa_fwd_sm90a" "$LOG" | grep -E "entry|Used|spill" |
        paste - - - | sed -E "s/.*fa_fwd_sm90aI([^']*)EEv.*for 'sm_90a'/\1/" >&2 || true
    grep -i "warn\|Performance" "$LOG" >&2 || true
fi
[ -n "${BUILD_ONLY:-}" ] && exit 0
exec "$OUT" "$@"
