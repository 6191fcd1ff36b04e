/*
 * fa_check_ref.cuh -- the fp32 reference attention and input helpers shared by the
 * standalone kernel checkers (bench/kernel_check.cu, bench/sm90a_check.cu,
 * bench/decode_check.cu).
 *
 * This file implements, for nvcc-built host programs: fill_normal (random normal 16-bit
 * inputs, never exactly zero), ref_attention (one thread block per query row, fp32 math,
 * causal bottom-right aligned, varlen and GQA as in fa_params.h, rows that see nothing
 * give O = 0 and LSE = -inf; per-sequence cache lengths for decode; `lowp` rounds S, P and O
 * to the input dtype like eager attention in that dtype) and h2f (16-bit bits to float on the
 * host).
 */
#ifndef FA_CHECK_REF_CUH
#define FA_CHECK_REF_CUH

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include <cmath>
#include <cstring>

#include "fa_params.h"

/* ---- device helpers --------------------------------------------------------------- */

__device__ __forceinline__ float to_f(__half x)
{
    return __half2float(x);
}
__device__ __forceinline__ float to_f(__nv_bfloat16 x)
{
    return __bfloat162float(x);
}
template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ __half from_f<__half>(float x)
{
    return __float2half_rn(x);
}
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x)
{
    return __float2bfloat16_rn(x);
}
template <typename T> __device__ __forceinline__ float round_t(float x)
{
    return to_f(from_f<T>(x));
}

__device__ __forceinline__ uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Standard normal values (Box-Muller on a counter hash), never exactly zero. */
template <typename T> __global__ void fill_normal(T *x, size_t n, uint32_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        uint32_t a = hash32((uint32_t)i * 2u + seed * 0x9E3779B9u);
        uint32_t b = hash32(a ^ 0x5bd1e995u ^ (uint32_t)(i >> 31));
        float u1 = ((a >> 8) + 1) * (1.0f / 16777217.0f);
        float u2 = (b >> 8) * (1.0f / 16777216.0f);
        float z = sqrtf(-2.f * logf(u1)) * cospif(2.f * u2);
        if (to_f(from_f<T>(z)) == 0.f)
            z = 0.03125f;
        x[i] = from_f<T>(z);
    }
}

/*
 * fp32 reference: one block per (query row i, head h, batch b). Writes o_ref densely as
 * [row_global][hq][D] with row_global = q_start + i (varlen) or b*max_sq + i, and lse_ref
 * as [row_global][hq]. lowp rounds S, P and O to T like eager attention in T.
 *
 * Decode (bench/decode_check.cu): cache_lens (device, one per sequence) gives sequence b's
 * key count over a fixed-stride cache (B, seqlen_k, Hkv, D), not packed like varlen; causal
 * is then bottom-right within it, and lse_bhs writes lse_ref as [b][hq][seqlen_q] (the decode
 * kernels' layout). Dynamic shared memory: (D + seqlen_k + 32) floats.
 */
template <typename T>
__global__ void ref_attention(fa_fwd_params p, bool causal, bool varlen, bool lowp, float *o_ref,
                              float *lse_ref, const int *cache_lens = nullptr, bool lse_bhs = false)
{
    extern __shared__ float sh[]; /* q[D], s[sk], red[32] */
    const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, D = p.head_dim;
    int sq, sk, q0 = 0, k0 = 0;
    if (cache_lens) {
        sq = p.seqlen_q;
        sk = cache_lens[b];
    } else if (varlen) {
        const int *cq = (const int *)p.cu_seqlens_q, *ck = (const int *)p.cu_seqlens_k;
        q0 = cq[b];
        k0 = ck[b];
        sq = cq[b + 1] - q0;
        sk = ck[b + 1] - k0;
    } else {
        sq = p.seqlen_q;
        sk = p.seqlen_k;
    }
    if (i >= sq)
        return;
    const int hk = h / (p.heads_q / p.heads_kv);
    auto off = [&](int64_t bs, int64_t rs, int64_t hs, int start, int row, int head) {
        return varlen ? (int64_t)(start + row) * rs + (int64_t)head * hs
                      : (int64_t)b * bs + (int64_t)row * rs + (int64_t)head * hs;
    };
    const T *q = (const T *)p.q + off(p.q_batch_stride, p.q_row_stride, p.q_head_stride, q0, i, h);
    float *qs = sh, *s = sh + D, *red = s + sk;
    for (int d = threadIdx.x; d < D; d += blockDim.x)
        qs[d] = to_f(q[d]);
    __syncthreads();
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < sk; j += blockDim.x) {
        const T *k =
            (const T *)p.k + off(p.k_batch_stride, p.k_row_stride, p.k_head_stride, k0, j, hk);
        float acc = 0.f;
        for (int d = 0; d < D; ++d)
            acc += qs[d] * to_f(k[d]);
        if (lowp)
            acc = round_t<T>(acc);
        float v = acc * p.softmax_scale;
        if (causal && j > i + sk - sq)
            v = -INFINITY;
        s[j] = v;
        mx = fmaxf(mx, v);
    }
    for (int o = 16; o > 0; o >>= 1)
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    if ((threadIdx.x & 31) == 0)
        red[threadIdx.x >> 5] = mx;
    __syncthreads();
    mx = -INFINITY;
    for (int w = 0; w < (int)(blockDim.x >> 5); ++w)
        mx = fmaxf(mx, red[w]);
    __syncthreads();
    float sum = 0.f;
    for (int j = threadIdx.x; j < sk; j += blockDim.x) {
        float e = mx == -INFINITY ? 0.f : expf(s[j] - mx);
        s[j] = e;
        sum += e;
    }
    for (int o = 16; o > 0; o >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, o);
    if ((threadIdx.x & 31) == 0)
        red[threadIdx.x >> 5] = sum;
    __syncthreads();
    sum = 0.f;
    for (int w = 0; w < (int)(blockDim.x >> 5); ++w)
        sum += red[w];
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    for (int j = threadIdx.x; j < sk; j += blockDim.x)
        s[j] = lowp ? round_t<T>(s[j] * inv) : s[j] * inv;
    __syncthreads();
    const int64_t row_g = varlen ? (int64_t)q0 + i : (int64_t)b * p.seqlen_q + i;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.f;
        for (int j = 0; j < sk; ++j) {
            const T *v =
                (const T *)p.v + off(p.v_batch_stride, p.v_row_stride, p.v_head_stride, k0, j, hk);
            acc += s[j] * to_f(v[d]);
        }
        o_ref[(row_g * p.heads_q + h) * D + d] = lowp ? round_t<T>(acc) : acc;
    }
    if (threadIdx.x == 0)
        lse_ref[lse_bhs ? ((int64_t)b * p.heads_q + h) * sq + i : row_g * p.heads_q + h] =
            sum > 0.f ? mx + logf(sum) : -INFINITY;
}

static float h2f(uint16_t x, bool bf16)
{
    if (bf16) {
        uint32_t u = (uint32_t)x << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    __half_raw r;
    r.x = x;
    return __half2float(__half(r));
}

/* Launches fill_normal on x[0..n); returns the launch's error status. */
template <typename T> static cudaError_t fill(void *x, size_t n, uint32_t seed)
{
    fill_normal<T><<<1024, 256>>>((T *)x, n, seed);
    return cudaGetLastError();
}

#endif /* FA_CHECK_REF_CUH */
