/*
 * fa_ptx.cuh -- inline-PTX wrappers used by the sm80 flash-attention family.
 *
 * This file implements thin, force-inlined wrappers around the handful of sm80+
 * instructions the FA2-style kernel is built from, so the kernel reads like the
 * algorithm and every instruction choice is visible in one place:
 *
 *   mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32   (tensor cores)
 *   ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16                   (smem -> fragments)
 *   cp.async.cg.shared.global 16 B, src-size form (zero-fill tails)     (gmem -> smem)
 *   cp.async.commit_group / cp.async.wait_group N
 *   ex2.approx.ftz.f32                                                  (softmax)
 *   cvt.rn.{f16x2,bf16x2}.f32                                           (P -> 16-bit)
 *   griddepcontrol.{launch_dependents,wait}        (programmatic dependent launch, sm_90+)
 *
 * Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16"), with
 * g = lane / 4 (groupID) and t = lane % 4 (thread in group):
 *   A 16x16 row-major, 4 x b32: a0 (g,   2t..2t+1)  a1 (g+8, 2t..2t+1)
 *                               a2 (g, 2t+8..2t+9)  a3 (g+8, 2t+8..2t+9)
 *   B 16x8 (k x n),    2 x b32: b0 (k = 2t..2t+1, n = g)  b1 (k = 2t+8..2t+9, n = g)
 *   C/D 16x8 fp32,     4 x f32: c0,c1 (g, 2t..2t+1)  c2,c3 (g+8, 2t..2t+1)
 * In every packed b32 the lower column index sits in the low 16 bits.
 *
 * ldmatrix .x4: lanes 8i..8i+7 give the eight row addresses of matrix i; register i of
 * lane L receives row L/4, columns 2(L%4), 2(L%4)+1 of matrix i (with .trans: column
 * L/4, rows 2(L%4), 2(L%4)+1).
 *
 * Everything here compiles under NVRTC (no standard headers) and nvcc.
 */
#ifndef FA_PTX_CUH
#define FA_PTX_CUH

#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include "fa_params.h"

namespace fa
{

/* Shared-memory address of a generic pointer into shared memory (32-bit). */
__device__ __forceinline__ uint32_t smem_u32(const void *ptr)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(ptr));
}

/* blockIdx read through volatile asm: a fresh S2R wherever it is called, so a value needed
   only before and after a long loop need not stay live in a register across it. */
__device__ __forceinline__ int ctaid_x()
{
    int v;
    asm volatile("mov.u32 %0, %%ctaid.x;\n" : "=r"(v));
    return v;
}
__device__ __forceinline__ int ctaid_y()
{
    int v;
    asm volatile("mov.u32 %0, %%ctaid.y;\n" : "=r"(v));
    return v;
}
__device__ __forceinline__ int ctaid_z()
{
    int v;
    asm volatile("mov.u32 %0, %%ctaid.z;\n" : "=r"(v));
    return v;
}

/* Element type traits: which mma / cvt variant a 16-bit type uses. */
template <typename Element> struct elem_traits;
template <> struct elem_traits<__half> {
    static constexpr bool is_bf16 = false;
};
template <> struct elem_traits<__nv_bfloat16> {
    static constexpr bool is_bf16 = true;
};

/* D = A * B + D, m16n8k16, fp32 accumulators, A row-major, B column-major. */
template <typename Element>
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                          uint32_t b1)
{
    if constexpr (elem_traits<Element>::is_bf16) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                     "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                     "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

/* Four 8x8 b16 matrices from shared memory; this lane supplies one row address. */
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t smem_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr));
}

/* Same, each 8x8 matrix transposed on the way into registers. */
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t smem_addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr));
}

/*
 * ldmatrix.x4 (optionally .trans) from address (base ^ x) + off. Callers pass x and off
 * that are constants after unrolling. The xor sits inside the same asm statement as the
 * ldmatrix so the compiler front end cannot hoist it out of the KV loop or share it
 * between k-steps: each swizzled address costs one LOP3 and no long-lived register.
 * x must only touch bits that are zero in the tile base.
 */
template <bool TRANS>
__device__ __forceinline__ void ldmatrix_x4_xor(uint32_t (&r)[4], uint32_t base, uint32_t x,
                                                uint32_t off)
{
    if constexpr (TRANS)
        asm volatile("{\n .reg .b32 t;\n xor.b32 t, %4, %5;\n add.u32 t, t, %6;\n"
                     " ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [t];\n}\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                     : "r"(base), "r"(x), "r"(off));
    else
        asm volatile("{\n .reg .b32 t;\n xor.b32 t, %4, %5;\n add.u32 t, t, %6;\n"
                     " ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [t];\n}\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                     : "r"(base), "r"(x), "r"(off));
}

/*
 * 16-byte asynchronous copy global -> shared, bypassing L1 (.cg). When `valid` is false
 * the source size is 0: nothing is read and the 16 destination bytes are zero-filled.
 * The caller still passes a dereferenceable address so no tool ever flags it.
 */
__device__ __forceinline__ void cp_async_16(uint32_t smem_addr, const void *gmem, bool valid)
{
    const int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\n" ::"r"(smem_addr),
                 "l"(gmem), "r"(src_bytes)
                 : "memory");
}

__device__ __forceinline__ void cp_async_commit()
{
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}

/* Wait until at most N of this thread's committed groups are still in flight. */
template <int N> __device__ __forceinline__ void cp_async_wait()
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* 2^x, flush-to-zero approximate (what exp2f becomes under fast math): ex2(-inf) = 0. */
__device__ __forceinline__ float exp2_approx(float x)
{
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

/* Round two floats to the 16-bit Element and pack them: `lo` in bits 0..15. */
template <typename Element> __device__ __forceinline__ uint32_t pack2(float lo, float hi)
{
    uint32_t r;
    /* cvt packs its first source operand into the UPPER half. */
    if constexpr (elem_traits<Element>::is_bf16) {
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    } else {
        asm("cvt.rn.f16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    }
    return r;
}

__device__ __forceinline__ void st_shared_u32(uint32_t smem_addr, uint32_t v)
{
    asm volatile("st.shared.u32 [%0], %1;\n" ::"r"(smem_addr), "r"(v) : "memory");
}

__device__ __forceinline__ uint4 ld_shared_v4(uint32_t smem_addr)
{
    uint4 v;
    asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "r"(smem_addr)
                 : "memory");
    return v;
}

/* threadIdx.x through an asm volatile read: code derived from it stays where it is written
   (the compiler cannot hoist it out of a loop and keep it live across the loop). */
__device__ __forceinline__ int tid_x_opaque()
{
    int t;
    asm volatile("mov.u32 %0, %%tid.x;\n" : "=r"(t));
    return t;
}

/* 16 bytes to global memory (ptr 16-byte aligned) as one st.global.v4: NVVM split some
   uint4 stores of the sm90a epilogue into four 4-byte ones. */
__device__ __forceinline__ void st_global_v4(void *ptr, uint4 v)
{
    asm volatile("st.global.v4.u32 [%0], {%1, %2, %3, %4};\n" ::"l"(ptr), "r"(v.x), "r"(v.y),
                 "r"(v.z), "r"(v.w)
                 : "memory");
}

/* Programmatic dependent launch (PTX ISA, "griddepcontrol"; sm_90 and later, compiled out below).
   A kernel launched with the programmatic-stream-serialization attribute may start before the
   kernel ahead of it on the stream has finished; grid_dependency_wait() blocks until that kernel
   has completed and its memory writes are visible. grid_launch_dependents() lets the dependent
   kernel be scheduled once every CTA of this one has called it (or exited). Both are no-ops in
   a launch without the attribute, so a kernel that uses them is correct launched either way. */
__device__ __forceinline__ void grid_dependency_wait()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void grid_launch_dependents()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" :::);
#endif
}

} // namespace fa

#endif /* FA_PTX_CUH */
