/*
 * This file implements the ahead-of-time consumer of an emitted dispatch header: a CUDA
 * program that instantiates exactly the winning template instances the header lists
 * (FA_DISPATCH_FOR_EACH_VARIANT) from fa-tune's installed kernel templates, chooses one per
 * problem with fa_dispatch_lookup for the GPU it runs on, and launches it with the CUDA
 * runtime.
 *
 * For every kernel the header holds for this GPU's arch it runs two small problems on random
 * inputs in the kernel's mode -- equal lengths with a ragged last tile (the lookup picks the
 * instance), and GQA with seqlen_q != seqlen_k (bottom-right causal) on that kernel's
 * instance -- and checks O and LSE against an fp32 CPU
 * reference by fa-tune's criterion (examples/common/fa_example_ref.h).
 *
 * A header with sm90a winners lists them as X_SM90A instances. A build configured with
 * -DFA_AOT_SM90A=ON (sm_90a code only; CMakeLists.txt) instantiates them from
 * sm90a/fa_fwd_sm90a.cuh and launches them as sm90a/fa_plan_sm90a.h says: the Q/K/V tensor
 * maps encoded from the problem's pointers and strides (fa_plan_sm90a_tmaps, then libcuda's
 * cuTensorMapEncodeTiled), a 1-d grid of tiles (persistent: one block per multiprocessor).
 * Other builds leave them out and skip their kernels.
 *
 * Exit: 0 all match, 3 a numerical mismatch, 1 a CUDA error, 77 no CUDA device (skipped).
 */
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

#include "fa_fwd_sm80.cuh" /* from find_package(fa_tune): fa_tune::templates */
#include "fa_plan_sm80.h"  /* the sm80 family's grid, the one copy fa-tune uses too */

#include "fa_dispatch.h"

#ifndef FA_AOT_SM90A
#define FA_AOT_SM90A 0 /* CMakeLists.txt sets it for -DFA_AOT_SM90A=ON */
#endif
#if FA_AOT_SM90A
#include <cuda.h> /* cuTensorMapEncodeTiled (libcuda) */

#include "sm90a/fa_fwd_sm90a.cuh"
#include "sm90a/fa_plan_sm90a.h"
#endif

#include "../common/fa_example_ref.h"

/* A header of one family (sm80) has no family columns. */
#ifdef FA_DISPATCH_FAMILY_SM90A
#define FA_AOT_HAVE_FAMILIES 1
#define FA_AOT_FAMILY(x) ((x).family)
#define FA_AOT_AXES(x) (x).overlap, (x).pingpong, (x).persistent
#else
#define FA_AOT_HAVE_FAMILIES 0
#define FA_DISPATCH_FAMILY_SM80 0
#define FA_DISPATCH_FAMILY_SM90A 1
#define FA_AOT_FAMILY(x) FA_DISPATCH_FAMILY_SM80
#define FA_AOT_AXES(x) 0, 0, 0
#endif

/* ---- the winners, instantiated ------------------------------------------------------------ */

template <typename T> struct dtype_of;
template <> struct dtype_of<__half> {
    static constexpr int value = FA_DISPATCH_FP16;
};
template <> struct dtype_of<__nv_bfloat16> {
    static constexpr int value = FA_DISPATCH_BF16;
};

struct instance {
    int dtype, head_dim, block_m, block_n, warps, stages, q_in_regs, causal, varlen;
    const void *kernel; /* host stub of the __global__ instance */
    int family, overlap, pingpong, persistent;
};

static instance make_instance(int dtype, int d, int m, int n, int w, int s, int q, int c, int v,
                              const void *kernel)
{
    instance i = {dtype, d, m, n, w, s, q, c, v, kernel, FA_DISPATCH_FAMILY_SM80, 0, 0, 0};
    return i;
}

/* Taking each instance's address instantiates it, for every arch of CMAKE_CUDA_ARCHITECTURES;
 * nothing else of the template is compiled. */
#define FA_AOT_INSTANCE(T, D, M, N, W, S, Q, C, V)                                                 \
    make_instance(dtype_of<T>::value, D, M, N, W, S, Q, C, V,                                      \
                  (const void *)&fa_fwd_sm80<T, D, M, N, W, S, (Q) != 0, (C) != 0, (V) != 0>),
#if FA_AOT_SM90A
/* warps: the table's threads / 32 (a producer and BLOCK_M / 64 consumer warpgroups). */
#define FA_AOT_INSTANCE_SM90A(T, D, M, N, S, O, P, E, C, V)                                        \
    {dtype_of<T>::value,                                                                           \
     D,                                                                                            \
     M,                                                                                            \
     N,                                                                                            \
     4 * ((M) / 64 + 1),                                                                           \
     S,                                                                                            \
     0,                                                                                            \
     C,                                                                                            \
     V,                                                                                            \
     (const void                                                                                   \
          *)&fa_fwd_sm90a<T, D, N, (M) / 64, S, (C) != 0, (O) != 0, (P) != 0, (E) != 0, (V) != 0>, \
     FA_DISPATCH_FAMILY_SM90A,                                                                     \
     O,                                                                                            \
     P,                                                                                            \
     E},
#else
#define FA_AOT_INSTANCE_SM90A(T, D, M, N, S, O, P, E, C, V) /* not an sm_90a build */
#endif
static const instance instances[] = {FA_DISPATCH_FOR_EACH_VARIANT(FA_AOT_INSTANCE)};

static bool fa_aot_same_axes(const instance &i, const fa_dispatch_choice &c)
{
    const int axes[3] = {FA_AOT_AXES(c)};
    return i.overlap == axes[0] && i.pingpong == axes[1] && i.persistent == axes[2];
}

static const instance *find_instance(const fa_dispatch_choice &c)
{
    for (const instance &i : instances)
        if (i.dtype == c.dtype && i.head_dim == c.head_dim && i.block_m == c.block_m &&
            i.block_n == c.block_n && i.warps == c.warps && i.stages == c.stages &&
            i.q_in_regs == c.q_in_regs && i.causal == c.causal && i.varlen == c.varlen &&
            i.family == FA_AOT_FAMILY(c) && fa_aot_same_axes(i, c))
            return &i;
    return nullptr;
}

#define CHECK_CUDA(call)                                                                           \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,              \
                         cudaGetErrorString(e_));                                                  \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* ---- launching --------------------------------------------------------------------------- */

/* Launch inst on p as its family's plan says; multiprocessors caps a persistent grid. */
static cudaError_t launch(const instance &inst, const fa_dispatch_choice &c, const fa_fwd_params &p,
                          int multiprocessors)
{
    cudaError_t e = cudaFuncSetAttribute(inst.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         c.smem_bytes);
    if (e != cudaSuccess)
        return e;
#if FA_AOT_SM90A
    if (inst.family == FA_DISPATCH_FAMILY_SM90A) {
        fa::sm90a_args a;
        fa_sm90a_tmap_desc d[3];
        fa::sm90a_tmap *maps[3] = {&a.tm_q, &a.tm_k, &a.tm_v};
        a.p = p;
        fa_plan_sm90a_tmaps(&p, inst.block_m, inst.block_n, inst.varlen, d);
        for (int i = 0; i < 3; i++) {
            cuuint64_t dims[4], strides[3];
            cuuint32_t box[4], elem[4] = {1, 1, 1, 1};
            for (int j = 0; j < 4; j++) {
                dims[j] = d[i].dims[j];
                box[j] = d[i].box[j];
                if (j < 3)
                    strides[j] = d[i].strides[j];
            }
            CUresult r = cuTensorMapEncodeTiled(
                reinterpret_cast<CUtensorMap *>(maps[i]),
                inst.dtype == FA_DISPATCH_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                               : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                FA_SM90A_TMAP_RANK, reinterpret_cast<void *>(static_cast<uintptr_t>(d[i].base)),
                dims, strides, box, elem, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
            if (r != CUDA_SUCCESS) {
                std::fprintf(stderr, "cuTensorMapEncodeTiled failed: %d\n", (int)r);
                return cudaErrorInvalidValue;
            }
        }
        void *args[] = {&a};
        unsigned grid = fa_plan_sm90a_grid(p.seqlen_q, p.heads_q, p.batch, inst.block_m / 64,
                                           inst.persistent, multiprocessors);
        return cudaLaunchKernel(inst.kernel, dim3(grid), dim3(c.threads), args, c.smem_bytes, 0);
    }
#endif
    (void)multiprocessors;
    void *args[] = {const_cast<fa_fwd_params *>(&p)};
    unsigned g[3];
    fa_plan_sm80_grid(p.seqlen_q, p.heads_q, p.batch, c.block_m, g);
    return cudaLaunchKernel(inst.kernel, dim3(g[0], g[1], g[2]), dim3(c.threads), args,
                            c.smem_bytes, 0);
}

/* ---- one problem ---------------------------------------------------------------------------- */

/* Run one problem: with kernel == nullptr the lookup chooses the instance, else that kernel of
 * the table runs. Returns 0 pass, 3 mismatch, 1 CUDA error. */
static int run_case(int cc, int multiprocessors, const fa_ex_shape &sh,
                    const fa_dispatch_kernel *kernel, uint64_t seed)
{
    const size_t nq = (size_t)sh.batch * sh.seqlen_q * sh.heads_q * sh.head_dim;
    const size_t nk = (size_t)sh.batch * sh.seqlen_k * sh.heads_kv * sh.head_dim;
    const size_t nl = (size_t)sh.batch * sh.heads_q * sh.seqlen_q;
    std::vector<uint16_t> q(nq), k(nk), v(nk), o(nq);
    std::vector<float> lse(nl), o_ref(nq), o_low(nq), l_ref(nl), l_low(nl), s(sh.seqlen_k);
    fa_ex_fill(q.data(), nq, sh.dtype, seed);
    fa_ex_fill(k.data(), nk, sh.dtype, seed + 1);
    fa_ex_fill(v.data(), nk, sh.dtype, seed + 2);

    fa_dispatch_choice c =
        fa_dispatch_lookup(cc, sh.dtype, sh.head_dim, sh.causal, 0, sh.heads_q / sh.heads_kv,
                           sh.seqlen_q > sh.seqlen_k ? sh.seqlen_q : sh.seqlen_k);
    const char *how = fa_dispatch_source_name(c.source);
    const char *name = c.entry ? c.entry->name : "(default tiles)";
    if (kernel) { /* this kernel's tiles instead of the lookup's */
        c.block_m = kernel->block_m;
        c.block_n = kernel->block_n;
        c.warps = kernel->warps;
        c.stages = kernel->stages;
        c.q_in_regs = kernel->q_in_regs;
        c.threads = kernel->threads;
        c.smem_bytes = kernel->smem_bytes;
#if FA_AOT_HAVE_FAMILIES
        c.family = kernel->family;
        c.overlap = kernel->overlap;
        c.pingpong = kernel->pingpong;
        c.persistent = kernel->persistent;
#endif
        how = "chosen";
        name = kernel->name;
    }
    const instance *inst = find_instance(c);
    if (!inst) {
        std::fprintf(stderr, "no instance for %dx%d w%d s%d (lookup: %s)\n", c.block_m, c.block_n,
                     c.warps, c.stages, fa_dispatch_source_name(c.source));
        return 1;
    }

    void *dq, *dk, *dv, *dout, *dl;
    CHECK_CUDA(cudaMalloc(&dq, nq * 2));
    CHECK_CUDA(cudaMalloc(&dk, nk * 2));
    CHECK_CUDA(cudaMalloc(&dv, nk * 2));
    CHECK_CUDA(cudaMalloc(&dout, nq * 2));
    CHECK_CUDA(cudaMalloc(&dl, nl * 4));
    CHECK_CUDA(cudaMemcpy(dq, q.data(), nq * 2, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dk, k.data(), nk * 2, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dv, v.data(), nk * 2, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemset(dout, 0xff, nq * 2)); /* NaN poison */
    CHECK_CUDA(cudaMemset(dl, 0xff, nl * 4));

    fa_fwd_params p;
    fa_dispatch_params_bshd(&p, (uint64_t)dq, (uint64_t)dk, (uint64_t)dv, (uint64_t)dout,
                            (uint64_t)dl, sh.batch, sh.heads_q, sh.heads_kv, sh.seqlen_q,
                            sh.seqlen_k, sh.head_dim, sh.scale);
    CHECK_CUDA(launch(*inst, c, p, multiprocessors));
    CHECK_CUDA(cudaDeviceSynchronize());
    CHECK_CUDA(cudaMemcpy(o.data(), dout, nq * 2, cudaMemcpyDeviceToHost));
    CHECK_CUDA(cudaMemcpy(lse.data(), dl, nl * 4, cudaMemcpyDeviceToHost));
    cudaFree(dq);
    cudaFree(dk);
    cudaFree(dv);
    cudaFree(dout);
    cudaFree(dl);

    fa_ex_reference(&sh, q.data(), k.data(), v.data(), 0, o_ref.data(), l_ref.data(), s.data());
    fa_ex_reference(&sh, q.data(), k.data(), v.data(), 1, o_low.data(), l_low.data(), s.data());
    fa_ex_check chk = fa_ex_compare(&sh, o.data(), lse.data(), o_ref.data(), l_ref.data(),
                                    o_low.data(), l_low.data());
    std::printf("%-4s %-44s b%d h%d/%d q%d k%d (%s): max|O-ref| %.3g <= %.3g, max|LSE-ref| "
                "%.3g <= %.3g%s\n",
                chk.pass ? "ok" : "FAIL", name, sh.batch, sh.heads_q, sh.heads_kv, sh.seqlen_q,
                sh.seqlen_k, how, chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
                chk.bad ? ", non-finite or unwritten values" : "");
    return chk.pass ? 0 : 3;
}

int main()
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        std::printf("no CUDA device: skipped\n");
        return 77;
    }
    cudaDeviceProp prop;
    CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
    const int cc = prop.major * 10 + prop.minor;
    int n;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    const fa_dispatch_kernel *kernels = fa_dispatch_kernels(&n);
    const fa_dispatch_arch &arch = archs[fa_dispatch_select_arch(cc)];
    std::printf("%s (cc %d): table of %s, %d instances compiled in\n", prop.name, cc, arch.name,
                (int)(sizeof instances / sizeof instances[0]));

    int worst = 0;
    for (int i = arch.first_kernel; i < arch.first_kernel + arch.num_kernels; i++) {
        const fa_dispatch_kernel &kk = kernels[i];
        if (kk.varlen) {
            std::printf("skip %s: varlen is not exercised by this example\n", kk.name);
            continue;
        }
        fa_ex_shape a;
        a.dtype = kk.dtype;
        a.batch = 2;
        a.heads_q = 4;
        a.heads_kv = 4;
        a.seqlen_q = a.seqlen_k = 200;
        a.head_dim = kk.head_dim;
        a.causal = kk.causal;
        a.scale = 1.0f / sqrtf((float)kk.head_dim);
        fa_ex_shape b = a;
        b.batch = 1;
        b.heads_kv = 2;
        b.seqlen_q = 77;
        b.seqlen_k = 333;
        /* a: the lookup chooses (here the kernel of this mode); b: this kernel, directly. */
        if (FA_AOT_FAMILY(kk) == FA_DISPATCH_FAMILY_SM90A && !FA_AOT_SM90A) {
            std::printf("skip %s: sm90a instances need a build with -DFA_AOT_SM90A=ON\n", kk.name);
            continue;
        }
        int rc = run_case(cc, prop.multiProcessorCount, a, nullptr, 1000u + (uint64_t)i * 16u);
        if (rc == 0)
            rc = run_case(cc, prop.multiProcessorCount, b, &kk, 2000u + (uint64_t)i * 16u);
        if (rc == 1)
            return 1;
        if (rc > worst)
            worst = rc;
    }
    std::printf("%s\n", worst ? "MISMATCH" : "all kernels match the fp32 reference");
    return worst;
}
