/*
 * fa_decode_splitkv.cuh (test stub) -- stands in for the real decode kernels in the compile
 * pool's test: the real template's two kernels and parameter lists, so decode variant name
 * expressions resolve, compiled in a fraction of the real kernels' time. Decode's splits and
 * fused-combine axes are not template parameters here either: 26 variants share one cubin.
 */
#ifndef FA_DECODE_SPLITKV_STUB_CUH
#define FA_DECODE_SPLITKV_STUB_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "fa_stub_params.h"

template <typename Element, int HEAD_DIM, int BLOCK_M, int BLOCK_N, int WARPS, int STAGES,
          bool IS_CAUSAL>
__global__ void __launch_bounds__(WARPS * 32)
    fa_decode_splitkv(const __grid_constant__ fa_stub_params p)
{
    Element *o = reinterpret_cast<Element *>(p.o);
    const int i = threadIdx.x % BLOCK_M;
    o[i] = static_cast<Element>(static_cast<float>(o[i]) * (IS_CAUSAL ? 2.0f : 1.0f) +
                                HEAD_DIM * BLOCK_N * STAGES);
}

template <typename Element, int HEAD_DIM>
__global__ void fa_decode_combine(const __grid_constant__ fa_stub_params p)
{
    Element *o = reinterpret_cast<Element *>(p.o);
    o[threadIdx.x] = static_cast<Element>(static_cast<float>(o[threadIdx.x]) + HEAD_DIM);
}

#endif /* FA_DECODE_SPLITKV_STUB_CUH */
