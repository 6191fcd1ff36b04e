#!/usr/bin/env bash
# kernel_check.sh -- build bench/kernel_check.cu with nvcc and run it on the local GPU.
#
#   bash bench/kernel_check.sh                  # list 0 (coverage), check + time
#   FA_CHECK_LIST=1 bash bench/kernel_check.sh  # FA2 seed tiles, check + time
#   bash bench/kernel_check.sh --no-time        # correctness only
#   bash bench/kernel_check.sh --only ',128,'   # variants whose name contains the string
#
# Env: ARCH (default sm_90), FA_CHECK_LIST (0 coverage, 1 FA2 seeds, 2 hd128 tiles),
#      NVCC (default nvcc), OUT (binary path, default build-kernel-check/kernel_check).
# Exit status is the checker's: 0 all pass, 3 numerical mismatch, 1 CUDA error.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${ARCH:-sm_90}
LIST=${FA_CHECK_LIST:-0}
NVCC=${NVCC:-nvcc}
OUT=${OUT:-build-kernel-check/kernel_check_l${LIST}_${ARCH}}
mkdir -p "$(dirname "$OUT")"
echo "building $OUT (arch $ARCH, list $LIST)" >&2
"$NVCC" -std=c++17 -O2 -arch="$ARCH" -lineinfo -Itemplates -DFA_CHECK_LIST="$LIST" \
    bench/kernel_check.cu -o "$OUT"
exec "$OUT" "$@"
