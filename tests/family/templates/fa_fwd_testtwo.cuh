/*
 * fa_fwd_testtwo.cuh (test family) -- the template of "testtwo", a kernel family made only to
 * test the family seam (tests/family). Two kernels per variant, like a split-KV design: a
 * split kernel that writes one partial row per (split, query row) into scratch, and a combine
 * kernel that folds the splits into O. The arithmetic is a stand-in (it compiles fast and
 * touches every argument); it is never timed.
 */
#ifndef FA_FWD_TESTTWO_CUH
#define FA_FWD_TESTTWO_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "fa_params.h"

/* The one argument of both kernels: the problem's tensors and the plan's scratch. */
struct fa_testtwo_args {
    fa_fwd_params p;
    unsigned long long scratch; /* float[splits][batch][heads_q][seqlen_q] */
    int splits;
    int pad;
};
#define FA_TESTTWO_ARGS_SIZE (FA_FWD_PARAMS_SIZE + 16)
static_assert(sizeof(fa_testtwo_args) == FA_TESTTWO_ARGS_SIZE, "fa_testtwo_args drifted");

template <typename Element, int HEAD_DIM, int TILE, int SPLITS, int LANES, bool IS_CAUSAL,
          bool IS_VARLEN>
__global__ void __launch_bounds__(LANES) fa_testtwo_split(const __grid_constant__ fa_testtwo_args a)
{
    const int row = blockIdx.x * TILE + threadIdx.x % TILE;
    const int split = blockIdx.z % SPLITS, b = blockIdx.z / SPLITS;
    if (row >= a.p.seqlen_q)
        return;
    const Element *q = reinterpret_cast<const Element *>(a.p.q) + b * a.p.q_batch_stride +
                       row * a.p.q_row_stride + blockIdx.y * a.p.q_head_stride;
    float s = 0.f;
    for (int d = split; d < HEAD_DIM; d += SPLITS)
        s += static_cast<float>(q[d]) * (IS_CAUSAL ? 0.5f : 1.f) + (IS_VARLEN ? 1.f : 0.f);
    float *out = reinterpret_cast<float *>(a.scratch);
    out[((split * a.p.batch + b) * a.p.heads_q + blockIdx.y) * a.p.seqlen_q + row] = s;
}

template <typename Element, int HEAD_DIM, int SPLITS, bool IS_CAUSAL, bool IS_VARLEN>
__global__ void __launch_bounds__(128) fa_testtwo_combine(const __grid_constant__ fa_testtwo_args a)
{
    const int row = blockIdx.x * 128 + threadIdx.x;
    if (row >= a.p.seqlen_q)
        return;
    const float *part = reinterpret_cast<const float *>(a.scratch);
    float s = 0.f;
    for (int k = 0; k < SPLITS; k++)
        s += part[((k * a.p.batch + blockIdx.z) * a.p.heads_q + blockIdx.y) * a.p.seqlen_q + row];
    Element *o = reinterpret_cast<Element *>(a.p.o) + blockIdx.z * a.p.o_batch_stride +
                 row * a.p.o_row_stride + blockIdx.y * a.p.o_head_stride;
    for (int d = 0; d < HEAD_DIM; d++)
        o[d] = static_cast<Element>(s);
}

#endif /* FA_FWD_TESTTWO_CUH */
