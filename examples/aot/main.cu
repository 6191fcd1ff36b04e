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
 * reference by fa-tune's criterion (examples/common/fa_example_ref.h). A varlen kernel runs
 * instead on 6 packed sequences (an empty query, an empty key range, length 1, seqlen_q <
 * seqlen_k and > seqlen_k, ragged tiles; cu_seqlens on the device), through the lookup and then
 * on that kernel's instance with GQA 2, each sequence checked against its own fp32 reference
 * (examples/common/fa_example_varlen.h, the case examples/embedded runs too).
 *
 * A header with sm90a winners lists them as X_SM90A instances. A build configured with
 * -DFA_AOT_SM90A=ON (sm_90a code only; CMakeLists.txt) instantiates them from
 * sm90a/fa_fwd_sm90a.cuh and launches them as sm90a/fa_plan_sm90a.h says: the Q/K/V tensor
 * maps encoded from the problem's pointers and strides (fa_plan_sm90a_tmaps, then libcuda's
 * cuTensorMapEncodeTiled; a varlen instance's maps are the ragged ones over the packed tensors),
 * a 1-d grid of tiles (persistent: one block per multiprocessor).
 * Other builds leave them out and skip their kernels. PackGQA instances (X_SM90A_PACK_GQA:
 * fa_fwd_sm90a_pack_gqa, a tile holding the query heads of one KV head) get a rank-5 Q map
 * (fa_plan_sm90a_tmaps_gqa) and the (token block, KV head, batch) grid
 * (fa_plan_sm90a_grid_gqa); a problem whose query heads per KV head fit no tile runs the
 * kernel's fallback (its fallback column: the same tiles without PackGQA), as the embedded
 * launcher does. Each PackGQA kernel also runs GQA 4 and block_m + 8 query heads over one KV
 * head (the fallback's case).
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
#include "../common/fa_example_varlen.h"

/* A header of one family (sm80) has no family columns. */
#ifdef FA_DISPATCH_FAMILY_SM90A
#define FA_AOT_HAVE_FAMILIES 1
#define FA_AOT_FAMILY(x) ((x).family)
#define FA_AOT_PACK_GQA(x) ((x).pack_gqa)
#define FA_AOT_AXES(x) (x).overlap, (x).pingpong, (x).persistent, (x).pack_gqa, (x).ctas
#else
#define FA_AOT_HAVE_FAMILIES 0
#define FA_DISPATCH_FAMILY_SM80 0
#define FA_DISPATCH_FAMILY_SM90A 1
#define FA_AOT_FAMILY(x) FA_DISPATCH_FAMILY_SM80
#define FA_AOT_PACK_GQA(x) 0
#define FA_AOT_AXES(x) 0, 0, 0, 0, 1
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
    int family, overlap, pingpong, persistent, pack_gqa, ctas;
};

static instance make_instance(int dtype, int d, int m, int n, int w, int s, int q, int c, int v,
                              const void *kernel)
{
    instance i = {dtype, d, m, n, w, s, q, c, v, kernel, FA_DISPATCH_FAMILY_SM80, 0, 0, 0, 0, 1};
    return i;
}

/* Taking each instance's address instantiates it, for every arch of CMAKE_CUDA_ARCHITECTURES;
 * nothing else of the template is compiled. */
#define FA_AOT_INSTANCE(T, D, M, N, W, S, Q, C, V)                                                 \
    make_instance(dtype_of<T>::value, D, M, N, W, S, Q, C, V,                                      \
                  (const void *)&fa_fwd_sm80<T, D, M, N, W, S, (Q) != 0, (C) != 0, (V) != 0>),
#if FA_AOT_SM90A
/* One row of an sm90a kernel K (fa_fwd_sm90a, fa_fwd_sm90a_pack_gqa and their _x2 twins: the
 * same template arguments), PG its pack_gqa flag, X its blocks a multiprocessor (ctas). warps:
 * the table's threads / 32 (a producer and BLOCK_M / 64 consumer warpgroups). */
#define FA_AOT_SM90A_ROW(K, PG, X, T, D, M, N, S, O, P, E, C, V)                                   \
    {dtype_of<T>::value,                                                                           \
     D,                                                                                            \
     M,                                                                                            \
     N,                                                                                            \
     4 * ((M) / 64 + 1),                                                                           \
     S,                                                                                            \
     0,                                                                                            \
     C,                                                                                            \
     V,                                                                                            \
     (const void *)&K<T, D, N, (M) / 64, S, (C) != 0, (O) != 0, (P) != 0, (E) != 0, (V) != 0>,     \
     FA_DISPATCH_FAMILY_SM90A,                                                                     \
     O,                                                                                            \
     P,                                                                                            \
     E,                                                                                            \
     PG,                                                                                           \
     X},
#define FA_AOT_INSTANCE_SM90A(T, D, M, N, S, O, P, E, C, V)                                        \
    FA_AOT_SM90A_ROW(fa_fwd_sm90a, 0, 1, T, D, M, N, S, O, P, E, C, V)
#define FA_AOT_INSTANCE_SM90A_PACK_GQA(T, D, M, N, S, O, P, E, C, V)                               \
    FA_AOT_SM90A_ROW(fa_fwd_sm90a_pack_gqa, 1, 1, T, D, M, N, S, O, P, E, C, V)
#define FA_AOT_INSTANCE_SM90A_X2(T, D, M, N, S, O, P, E, C, V)                                     \
    FA_AOT_SM90A_ROW(fa_fwd_sm90a_x2, 0, 2, T, D, M, N, S, O, P, E, C, V)
#define FA_AOT_INSTANCE_SM90A_PACK_GQA_X2(T, D, M, N, S, O, P, E, C, V)                            \
    FA_AOT_SM90A_ROW(fa_fwd_sm90a_pack_gqa_x2, 1, 2, T, D, M, N, S, O, P, E, C, V)
#else
#define FA_AOT_INSTANCE_SM90A(T, D, M, N, S, O, P, E, C, V) /* not an sm_90a build */
#define FA_AOT_INSTANCE_SM90A_PACK_GQA(T, D, M, N, S, O, P, E, C, V)
#define FA_AOT_INSTANCE_SM90A_X2(T, D, M, N, S, O, P, E, C, V)
#define FA_AOT_INSTANCE_SM90A_PACK_GQA_X2(T, D, M, N, S, O, P, E, C, V)
#endif
static const instance instances[] = {FA_DISPATCH_FOR_EACH_VARIANT(FA_AOT_INSTANCE)};

static bool fa_aot_same_axes(const instance &i, const fa_dispatch_choice &c)
{
    const int axes[5] = {FA_AOT_AXES(c)};
    return i.overlap == axes[0] && i.pingpong == axes[1] && i.persistent == axes[2] &&
           i.pack_gqa == axes[3] && i.ctas == axes[4];
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
        if (inst.pack_gqa && fa_plan_sm90a_pack_tokens(inst.block_m, p.heads_q, p.heads_kv) < 1)
            return cudaErrorInvalidValue; /* run_on_device runs the fallback instead */
        fa_plan_sm90a_tmaps_gqa(&p, inst.block_m, inst.block_n, inst.varlen, inst.pack_gqa, d);
        for (int i = 0; i < 3; i++) {
            /* each map of its own rank: 4, or 5 for PackGQA's Q */
            cuuint64_t dims[FA_SM90A_TMAP_RANK_PACK_GQA], strides[FA_SM90A_TMAP_RANK_PACK_GQA - 1];
            cuuint32_t box[FA_SM90A_TMAP_RANK_PACK_GQA], elem[FA_SM90A_TMAP_RANK_PACK_GQA];
            for (int j = 0; j < d[i].rank; j++) {
                dims[j] = d[i].dims[j];
                box[j] = d[i].box[j];
                elem[j] = 1;
                if (j < d[i].rank - 1)
                    strides[j] = d[i].strides[j];
            }
            CUresult r = cuTensorMapEncodeTiled(
                reinterpret_cast<CUtensorMap *>(maps[i]),
                inst.dtype == FA_DISPATCH_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                               : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                (cuuint32_t)d[i].rank, reinterpret_cast<void *>(static_cast<uintptr_t>(d[i].base)),
                dims, strides, box, elem, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
            if (r != CUDA_SUCCESS) {
                std::fprintf(stderr, "cuTensorMapEncodeTiled failed: %d\n", (int)r);
                return cudaErrorInvalidValue;
            }
        }
        void *args[] = {&a};
        unsigned grid =
            fa_plan_sm90a_grid_gqa(p.seqlen_q, p.heads_q, p.heads_kv, p.batch, inst.block_m / 64,
                                   inst.persistent, inst.pack_gqa, multiprocessors);
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

/* Device buffers, freed when they go out of scope. */
struct device_buffer {
    void *p = nullptr;
    device_buffer() = default;
    device_buffer(const device_buffer &) = delete;
    device_buffer &operator=(const device_buffer &) = delete;
    ~device_buffer() { cudaFree(p); }
    uint64_t addr() const { return (uint64_t)(uintptr_t)p; }
};

/* One forward problem's tensors on the host: random q, k, v; o and lse as the kernel wrote them. */
struct fwd_host {
    std::vector<uint16_t> q, k, v, o;
    std::vector<float> lse;
    fwd_host(int dtype, size_t nq, size_t nk, size_t nl, uint64_t seed)
        : q(nq), k(nk), v(nk), o(nq), lse(nl)
    {
        fa_ex_fill(q.data(), nq, dtype, seed);
        fa_ex_fill(k.data(), nk, dtype, seed + 1);
        fa_ex_fill(v.data(), nk, dtype, seed + 2);
    }
};

/* Kernel k's tiles and launch geometry in c (in place of the lookup's). */
static void use_kernel_tiles(fa_dispatch_choice &c, const fa_dispatch_kernel &k)
{
    c.block_m = k.block_m;
    c.block_n = k.block_n;
    c.warps = k.warps;
    c.stages = k.stages;
    c.q_in_regs = k.q_in_regs;
    c.threads = k.threads;
    c.smem_bytes = k.smem_bytes;
#if FA_AOT_HAVE_FAMILIES
    c.family = k.family;
    c.overlap = k.overlap;
    c.pingpong = k.pingpong;
    c.persistent = k.persistent;
    c.pack_gqa = k.pack_gqa;
    c.ctas = k.ctas;
#endif
}

/* The choice for a problem of sh's mode (varlen: sh's lengths the longest): with kernel ==
 * nullptr the lookup's, else that kernel's tiles. *how and *name say which and why. */
static fa_dispatch_choice choose(int cc, const fa_ex_shape &sh, int varlen,
                                 const fa_dispatch_kernel *kernel, const char **how,
                                 const char **name)
{
    fa_dispatch_choice c =
        fa_dispatch_lookup(cc, sh.dtype, sh.head_dim, sh.causal, varlen, sh.heads_q / sh.heads_kv,
                           sh.seqlen_q > sh.seqlen_k ? sh.seqlen_q : sh.seqlen_k);
    *how = fa_dispatch_source_name(c.source);
    *name = c.entry ? c.entry->name : "(default tiles)";
    if (kernel) { /* this kernel's tiles instead of the lookup's */
        use_kernel_tiles(c, *kernel);
        *how = "chosen";
        *name = kernel->name;
    }
#if FA_AOT_HAVE_FAMILIES
    /* A PackGQA kernel serves the problems whose query heads per KV head fit its tile; the
       others run its fallback (the same tiles without PackGQA), as the embedded launcher
       does. */
    if (c.pack_gqa && fa_plan_sm90a_pack_tokens(c.block_m, sh.heads_q, sh.heads_kv) < 1) {
        const int f = kernel          ? kernel->fallback
                      : c.kernel >= 0 ? fa_dispatch_kernels(0)[c.kernel].fallback
                                      : -1;
        if (f >= 0) {
            static char buf[160];
            const fa_dispatch_kernel &fk = fa_dispatch_kernels(0)[f];
            use_kernel_tiles(c, fk);
            c.kernel = f;
            std::snprintf(buf, sizeof buf, "fallback %s", fk.name);
            *how = buf;
        }
    }
#endif
    return c;
}

/* Upload io's inputs to q, k, v, poison o and lse (0xFF bytes: NaN in fp16, bf16 and fp32),
 * launch the instance c names on p (its pointers those buffers), wait and read O and LSE back
 * into io. 0, or 1 on a CUDA error or a choice with no instance (said on stderr). */
static int run_on_device(const fa_dispatch_choice &c, int multiprocessors, fa_fwd_params &p,
                         fwd_host &io, device_buffer &dq, device_buffer &dk, device_buffer &dv,
                         device_buffer &dout, device_buffer &dl)
{
    const instance *inst = find_instance(c);
    if (!inst) {
        std::fprintf(stderr, "no instance for %dx%d w%d s%d%s (lookup: %s)\n", c.block_m, c.block_n,
                     c.warps, c.stages, c.varlen ? " varlen" : "",
                     fa_dispatch_source_name(c.source));
        return 1;
    }
    const size_t nq = io.q.size(), nk = io.k.size(), nl = io.lse.size();
    CHECK_CUDA(cudaMalloc(&dq.p, nq * 2 + 2));
    CHECK_CUDA(cudaMalloc(&dk.p, nk * 2 + 2));
    CHECK_CUDA(cudaMalloc(&dv.p, nk * 2 + 2));
    CHECK_CUDA(cudaMalloc(&dout.p, nq * 2 + 2));
    CHECK_CUDA(cudaMalloc(&dl.p, nl * 4 + 4));
    CHECK_CUDA(cudaMemcpy(dq.p, io.q.data(), nq * 2, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dk.p, io.k.data(), nk * 2, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dv.p, io.v.data(), nk * 2, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemset(dout.p, 0xff, nq * 2));
    CHECK_CUDA(cudaMemset(dl.p, 0xff, nl * 4));
    p.q = dq.addr();
    p.k = dk.addr();
    p.v = dv.addr();
    p.o = dout.addr();
    p.lse = dl.addr();
    CHECK_CUDA(launch(*inst, c, p, multiprocessors));
    CHECK_CUDA(cudaDeviceSynchronize());
    CHECK_CUDA(cudaMemcpy(io.o.data(), dout.p, nq * 2, cudaMemcpyDeviceToHost));
    CHECK_CUDA(cudaMemcpy(io.lse.data(), dl.p, nl * 4, cudaMemcpyDeviceToHost));
    return 0;
}

/* Run one problem: with kernel == nullptr the lookup chooses the instance, else that kernel of
 * the table runs. Returns 0 pass, 3 mismatch, 1 CUDA error. */
static int run_case(int cc, int multiprocessors, const fa_ex_shape &sh,
                    const fa_dispatch_kernel *kernel, uint64_t seed)
{
    const size_t nq = (size_t)sh.batch * sh.seqlen_q * sh.heads_q * sh.head_dim;
    const size_t nk = (size_t)sh.batch * sh.seqlen_k * sh.heads_kv * sh.head_dim;
    const size_t nl = (size_t)sh.batch * sh.heads_q * sh.seqlen_q;
    fwd_host io(sh.dtype, nq, nk, nl, seed);
    std::vector<float> o_ref(nq), o_low(nq), l_ref(nl), l_low(nl), s(sh.seqlen_k);
    const char *how, *name;
    fa_dispatch_choice c = choose(cc, sh, 0, kernel, &how, &name);

    device_buffer dq, dk, dv, dout, dl;
    fa_fwd_params p;
    fa_dispatch_params_bshd(&p, 0, 0, 0, 0, 0, sh.batch, sh.heads_q, sh.heads_kv, sh.seqlen_q,
                            sh.seqlen_k, sh.head_dim, sh.scale);
    if (run_on_device(c, multiprocessors, p, io, dq, dk, dv, dout, dl))
        return 1;

    fa_ex_reference(&sh, io.q.data(), io.k.data(), io.v.data(), 0, o_ref.data(), l_ref.data(),
                    s.data());
    fa_ex_reference(&sh, io.q.data(), io.k.data(), io.v.data(), 1, o_low.data(), l_low.data(),
                    s.data());
    fa_ex_check chk = fa_ex_compare(&sh, io.o.data(), io.lse.data(), o_ref.data(), l_ref.data(),
                                    o_low.data(), l_low.data());
    std::printf("%-4s %-44s b%d h%d/%d q%d k%d (%s): max|O-ref| %.3g <= %.3g, max|LSE-ref| "
                "%.3g <= %.3g%s\n",
                chk.pass ? "ok" : "FAIL", name, sh.batch, sh.heads_q, sh.heads_kv, sh.seqlen_q,
                sh.seqlen_k, how, chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
                chk.bad ? ", non-finite or unwritten values" : "");
    return chk.pass ? 0 : 3;
}

/* One varlen problem of kk's mode with heads_q / heads_kv heads: the 6 packed sequences of
 * fa_ex_varlen_default (an empty query, an empty key range, length 1, seqlen_q < seqlen_k and >
 * seqlen_k, ragged tiles), cu_seqlens on the device; with kernel == nullptr the lookup (varlen
 * = 1) chooses, else kk's instance runs. Each sequence is checked against the fp32 reference of
 * its own batch-1 problem (fa_ex_varlen_compare). Returns 0 pass, 3 mismatch, 1 CUDA error. */
static int run_varlen_case(int cc, int multiprocessors, const fa_dispatch_kernel &kk, bool direct,
                           int heads_q, int heads_kv, uint64_t seed)
{
    fa_ex_varlen vl;
    fa_ex_varlen_default(&vl);
    fa_ex_shape sh;
    sh.dtype = kk.dtype;
    sh.batch = vl.n;
    sh.heads_q = heads_q;
    sh.heads_kv = heads_kv;
    sh.seqlen_q = vl.max_q;
    sh.seqlen_k = vl.max_k;
    sh.head_dim = kk.head_dim;
    sh.causal = kk.causal;
    sh.scale = 1.0f / sqrtf((float)kk.head_dim);
    const int D = kk.head_dim;
    fwd_host io(kk.dtype, (size_t)vl.total_q * heads_q * D, (size_t)vl.total_k * heads_kv * D,
                (size_t)heads_q * vl.total_q, seed);
    const char *how, *name;
    fa_dispatch_choice c = choose(cc, sh, 1, direct ? &kk : nullptr, &how, &name);

    device_buffer dq, dk, dv, dout, dl, dcq, dck;
    const size_t cu_bytes = sizeof(int) * (size_t)(vl.n + 1);
    CHECK_CUDA(cudaMalloc(&dcq.p, cu_bytes));
    CHECK_CUDA(cudaMalloc(&dck.p, cu_bytes));
    CHECK_CUDA(cudaMemcpy(dcq.p, vl.cu_q, cu_bytes, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dck.p, vl.cu_k, cu_bytes, cudaMemcpyHostToDevice));
    fa_fwd_params p;
    fa_dispatch_params_bshd(&p, 0, 0, 0, 0, 0, vl.n, heads_q, heads_kv, vl.max_q, vl.max_k, D,
                            sh.scale);
    fa_ex_varlen_params(&p, &vl, dcq.addr(), dck.addr());
    if (run_on_device(c, multiprocessors, p, io, dq, dk, dv, dout, dl))
        return 1;

    fa_ex_check chk;
    if (fa_ex_varlen_compare(&vl, &sh, io.q.data(), io.k.data(), io.v.data(), io.o.data(),
                             io.lse.data(), &chk)) {
        std::fprintf(stderr, "out of host memory\n");
        return 1;
    }
    std::printf("%-4s %-44s varlen %d seqs h%d/%d max q%d k%d (%s): max|O-ref| %.3g <= %.3g, "
                "max|LSE-ref| %.3g <= %.3g%s\n",
                chk.pass ? "ok" : "FAIL", name, vl.n, heads_q, heads_kv, vl.max_q, vl.max_k, how,
                chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
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
        int rc;
        if (kk.varlen) { /* the lookup picks (MHA); then this kernel with GQA 2 */
            rc = run_varlen_case(cc, prop.multiProcessorCount, kk, false, 4, 4,
                                 3000u + (uint64_t)i * 16u);
            if (rc == 0)
                rc = run_varlen_case(cc, prop.multiProcessorCount, kk, true, 4, 2,
                                     4000u + (uint64_t)i * 16u);
        } else {
            rc = run_case(cc, prop.multiProcessorCount, a, nullptr, 1000u + (uint64_t)i * 16u);
            if (rc == 0)
                rc = run_case(cc, prop.multiProcessorCount, b, &kk, 2000u + (uint64_t)i * 16u);
        }
        /* PackGQA: GQA 4, then block_m + 8 query heads over one KV head (its fallback runs). */
        const int pack = FA_AOT_PACK_GQA(kk);
        if (rc == 0 && pack && kk.varlen) {
            rc = run_varlen_case(cc, prop.multiProcessorCount, kk, true, 8, 2,
                                 5000u + (uint64_t)i * 16u);
            if (rc == 0)
                rc = run_varlen_case(cc, prop.multiProcessorCount, kk, true, kk.block_m + 8, 1,
                                     6000u + (uint64_t)i * 16u);
        } else if (rc == 0 && pack) {
            b.heads_q = 8;
            rc = run_case(cc, prop.multiProcessorCount, b, &kk, 5000u + (uint64_t)i * 16u);
            b.heads_q = kk.block_m + 8;
            b.heads_kv = 1;
            b.seqlen_q = 5;
            b.seqlen_k = 17;
            if (rc == 0)
                rc = run_case(cc, prop.multiProcessorCount, b, &kk, 6000u + (uint64_t)i * 16u);
        }
        if (rc == 1)
            return 1;
        if (rc > worst)
            worst = rc;
    }
    std::printf("%s\n", worst ? "MISMATCH" : "all kernels match the fp32 reference");
    return worst;
}
