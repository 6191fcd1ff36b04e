#!/bin/sh
# This file implements the GPU test of the splitkv decode kernels: bench/decode_check.cu built
# with nvcc for the device's arch and run without timing: every variant of its list against the
# fp32 reference (FlashAttention's criterion) over per-sequence cache lengths with 0 and 1,
# seqlen_q 1..16, GQA 1/4/8 and MQA, splits 1/3/auto, NaN-poisoned outputs and scratch, and
# paged runs (page sizes 16, 48, 64, 256, shuffled pages) bit-identical to the contiguous run.
# Exit 77 (skipped) without a GPU or nvcc.
# usage: test_decode_gpu.sh <source dir> <build dir>
set -u
SRC=$1
OUTDIR=$2
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 || {
    echo "no GPU: skipped" >&2
    exit 77
}
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$NVCC" ] || { echo "no nvcc: skipped" >&2; exit 77; }
CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
NVCC=$NVCC ARCH=sm_$CC OUT=$OUTDIR/decode_check bash "$SRC/bench/decode_check.sh" --no-time
