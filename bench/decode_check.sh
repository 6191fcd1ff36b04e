#!/usr/bin/env bash
# decode_check.sh -- build bench/decode_check.cu with nvcc and run it on the local GPU.
#
#   bash bench/decode_check.sh                      # check + time
#   bash bench/decode_check.sh --no-time            # correctness only
#   bash bench/decode_check.sh --only m16n64w4s3    # variants whose name contains the string
#   BUILD_ONLY=1 bash bench/decode_check.sh         # compile (and print ptxas resources) only
#
# Env: NVCC (default nvcc), ARCH (default sm_90; sm_80 works too: mma.sync/cp.async only),
#      OUT (binary, default build-decode/decode_check), REBUILD=0 to reuse a binary.
# Exit status is the checker's: 0 all pass, 3 numerical mismatch, 1 CUDA error, 77 no device.
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-nvcc}
ARCH=${ARCH:-sm_90}
OUT=${OUT:-build-decode/decode_check}
mkdir -p "$(dirname "$OUT")"
if [ "${REBUILD:-1}" != 0 ] || [ ! -x "$OUT" ]; then
    echo "building $OUT ($ARCH)" >&2
    LOG="$OUT.build.log"
    if ! "$NVCC" -std=c++17 -O3 -arch="$ARCH" -lineinfo -Xptxas=-v -Itemplates -Ibench \
        bench/decode_check.cu -o "$OUT" >"$LOG" 2>&1; then
        grep -v "^ptxas info" "$LOG" >&2
        exit 1
    fi
    # one line per kernel: template arguments, spills, registers
    grep -A3 "entry function '_Z17fa_decode" "$LOG" | grep -E "entry|Used|spill" | paste - - - |
        sed -E "s/.*_Z17fa_decode_([a-z]*)I([^']*)EEv.*spill stores, ([0-9]+) bytes spill loads.*Used ([0-9]+) registers.*/\1 \2 spill=\3 regs=\4/" >&2 || true
fi
[ -n "${BUILD_ONLY:-}" ] && exit 0
exec "$OUT" "$@"
