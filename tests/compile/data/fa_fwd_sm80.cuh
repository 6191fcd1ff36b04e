/*
 * fa_fwd_sm80.cuh (test stub) -- stands in for the real sm80 kernel in the compile engine's
 * pool, sweep and CLI tests, which point FA_TUNE_TEMPLATES / templates_dir at this folder.
 *
 * This file implements a kernel with the real template's parameter list (so variant name
 * expressions resolve) that compiles in a fraction of the real kernel's time. One point of
 * the space is rejected on purpose (BLOCK_N 48, 2 stages, Q in registers) so the tests see a
 * compile error come back as a result.
 */
#ifndef FA_FWD_SM80_STUB_CUH
#define FA_FWD_SM80_STUB_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "fa_stub_params.h"

template <typename Element, int HEAD_DIM, int BLOCK_M, int BLOCK_N, int WARPS, int STAGES,
          bool Q_IN_REGS, bool IS_CAUSAL, bool IS_VARLEN>
__global__ void __launch_bounds__(WARPS * 32) fa_fwd_sm80(const __grid_constant__ fa_stub_params p)
{
    static_assert(!(BLOCK_N == 48 && STAGES == 2 && Q_IN_REGS),
                  "stub: this variant is rejected on purpose");
    __shared__ float tile[BLOCK_M];
    Element *o = reinterpret_cast<Element *>(p.o);
    int i = threadIdx.x % BLOCK_M;
    tile[i] = static_cast<float>(o[i]) * (IS_CAUSAL ? 2.0f : 1.0f) + (IS_VARLEN ? 1.0f : 0.0f);
    __syncthreads();
    o[i] = static_cast<Element>(tile[BLOCK_M - 1 - i] + HEAD_DIM * BLOCK_N * STAGES);
}

#endif /* FA_FWD_SM80_STUB_CUH */
