/*
 * fa_sm90a_ptx.cuh -- inline-PTX wrappers of the sm90a (Hopper) flash-attention family.
 *
 * This file implements thin, force-inlined wrappers around the Hopper instructions the
 * warp-specialized kernel is built from, so the kernel reads like the algorithm:
 *
 *   mbarrier.init / arrive / arrive.expect_tx / try_wait.parity     (shared-memory barriers)
 *   cp.async.bulk.tensor.4d ... mbarrier::complete_tx::bytes       (TMA tile loads)
 *   prefetch.tensormap                                              (descriptor prefetch)
 *   wgmma.fence / commit_group / wait_group                         (async tensor cores;
 *                                                                    the MMAs: fa_wgmma.cuh)
 *   setmaxnreg.inc / dec                                            (register re-split)
 *   bar.sync id, n / bar.red.or.pred                                (named barriers)
 *
 * and the 64-bit wgmma shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor"):
 *   bits  0-13 start address >> 4      bits 16-29 leading-dimension byte offset >> 4
 *   bits 32-45 stride byte offset >> 4  bits 62-63 swizzle (1 = 128-byte)
 * Every operand tile here is the TMA 128-byte-swizzle image of a [rows][64] slab of 16-bit
 * elements: rows of 128 bytes, 16-byte chunk c of row r stored at chunk c ^ (r & 7), eight
 * rows (a 1024-byte swizzle atom) per 1024-byte-aligned block; a [rows][D] tile is D/64 such
 * slabs, slab stride rows*128 bytes.
 *   K-major operand (Q, K: the reduction dim is the contiguous one): SBO = 1024 (next 8
 *     rows), LBO unused (swizzled K-major); k-step kk of 16 elements starts at
 *     slab (kk / 4), byte 32 * (kk % 4) of the row.
 *   MN-major operand (V for O += P V: N = head dim contiguous, K = keys are rows):
 *     LBO = rows*128 (next 64-column slab along N), SBO = 1024 (next 8 keys along K);
 *     k-step kk starts 16 rows = 2048 bytes further.
 *
 * Everything here compiles under NVRTC (no standard headers) and nvcc, for sm_90a.
 */
#ifndef FA_SM90A_PTX_CUH
#define FA_SM90A_PTX_CUH

#include "fa_ptx.cuh" /* relative to templates/ */

namespace fa
{

/*
 * Opaque stand-in for the Driver API's CUtensorMap (128 bytes; TMA needs 64-byte alignment,
 * CUDA 13's cuda.h declares 128), so device
 * code needs no <cuda.h>. The host encodes it with cuTensorMapEncodeTiled and passes it by
 * value as a `const __grid_constant__` kernel parameter; TMA reads it from parameter space.
 */
struct __align__(128) sm90a_tmap
{
    unsigned long long opaque[16];
};

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count)
{
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

/* Makes the barrier inits visible to the async proxy (TMA) before any use. */
__device__ __forceinline__ void mbar_fence_init()
{
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

__device__ __forceinline__ void mbar_arrive(uint32_t bar)
{
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

/* Arrive once and announce `bytes` more transaction bytes that TMA will complete. */
__device__ __forceinline__ void mbar_arrive_expect_tx(uint32_t bar, uint32_t bytes)
{
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
                 : "memory");
}

/* Spin until the phase with parity `parity` has completed. A fresh barrier counts its
   (virtual) previous phase, parity 1, as completed: producers start waiting on parity 1. */
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity)
{
    uint32_t done;
    do {
        asm volatile("{\n .reg .pred p;\n"
                     " mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                     " selp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done)
                     : "r"(bar), "r"(parity)
                     : "memory");
    } while (!done);
}

__device__ __forceinline__ void tmap_prefetch(const sm90a_tmap *map)
{
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}

/* TMA: box at coordinates (c0 innermost .. c3) of a 4-d tensor map into shared memory at
   `dst`, completing `bar`'s transaction count. Out-of-bounds elements are zero-filled. */
__device__ __forceinline__ void tma_load_4d(uint32_t dst, const sm90a_tmap *map, uint32_t bar,
                                            int c0, int c1, int c2, int c3)
{
    asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%3, %4, %5, %6}], [%2];\n" ::"r"(dst),
                 "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
                 : "memory");
}

/* The 5-d load of PackGQA's Q map (fa_plan_sm90a.h): {column, head in group, row, kv head,
   batch}. */
__device__ __forceinline__ void tma_load_5d(uint32_t dst, const sm90a_tmap *map, uint32_t bar,
                                            int c0, int c1, int c2, int c3, int c4)
{
    asm volatile("cp.async.bulk.tensor.5d.shared::cluster.global.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%3, %4, %5, %6, %7}], [%2];\n" ::"r"(dst),
                 "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2), "r"(c3),
                 "r"(c4)
                 : "memory");
}

__device__ __forceinline__ void wgmma_fence()
{
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit()
{
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N> __device__ __forceinline__ void wgmma_wait()
{
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

/* Ties a register to this point of the program: the compiler may not move its reads or
   writes across (used around wgmma, whose accumulators change behind the compiler's back
   until wgmma_wait). */
__device__ __forceinline__ void reg_fence(float &x)
{
    asm volatile("" : "+f"(x)::"memory");
}
__device__ __forceinline__ void reg_fence(uint32_t &x)
{
    asm volatile("" : "+r"(x)::"memory");
}

template <int N> __device__ __forceinline__ void setmaxnreg_inc()
{
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N> __device__ __forceinline__ void setmaxnreg_dec()
{
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}

/* Named barrier `id` over `count` threads (a multiple of 32). */
__device__ __forceinline__ void named_bar_sync(int id, int count)
{
    asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}
__device__ __forceinline__ void named_bar_arrive(int id, int count)
{
    asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}
/* bar.sync with an OR reduction: whether `pred` was true in any of the `count` threads. */
__device__ __forceinline__ bool named_bar_any(int id, int count, bool pred)
{
    uint32_t any;
    asm volatile("{\n .reg .pred p, q;\n setp.ne.u32 p, %1, 0;\n"
                 " bar.red.or.pred q, %2, %3, p;\n selp.u32 %0, 1, 0, q;\n}\n"
                 : "=r"(any)
                 : "r"((uint32_t)pred), "r"(id), "r"(count)
                 : "memory");
    return any != 0;
}

/* Descriptor of a 128-byte-swizzled operand at shared address `addr` (see the file header). */
__device__ __forceinline__ uint64_t wgmma_desc(uint32_t addr, uint32_t lbo, uint32_t sbo)
{
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)(lbo >> 4) << 16) |
           ((uint64_t)(sbo >> 4) << 32) | (1ull << 62);
}

} // namespace fa

#endif /* FA_SM90A_PTX_CUH */
