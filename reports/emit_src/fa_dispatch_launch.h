/*
 * fa_dispatch_launch.h -- the launcher of a header emitted with --embed-cubin: plain C over
 * the CUDA Driver API (load the cubins of the device's arch, look the variant up, launch it).
 * Needs cuda.h, fa_dispatch_lookup.h and the tables before it (FA_DISPATCH_MAX_KERNELS
 * among them), and the launch of each other family the header holds
 * (fa_dispatch_plan_<family>.h, which the renderer puts at the "family launchers" line).
 * Copied between the marker lines as fa_dispatch_types.h says.
 */
/* fa-tune emit: begin */

/* ---- launching the embedded cubins (CUDA Driver API, plain C) -------------------- */
/*
 * Needs cuda.h and libcuda only. After cuInit(0) and with a context current:
 *
 *   fa_dispatch_module mod;
 *   CUresult r = fa_dispatch_load(&mod, 0);     (0: the current context)
 *   fa_fwd_params p;
 *   fa_dispatch_params_bshd(&p, q, k, v, o, lse, batch, hq, hkv, sq, sk, d, scale);
 *   r = fa_dispatch_launch(&mod, FA_DISPATCH_BF16, causal, varlen, &p, stream, 0);
 *   (or fa_dispatch_launch_kernel(&mod, kernel, &p, stream) to run a kernel of your choice)
 *   ...
 *   fa_dispatch_unload(&mod);
 *
 * load picks the arch whose cubins run on the context's device (the exact cc, else the
 * highest arch of the same major below it; cubins never cross a major version), loads
 * each of its cubins once and opts each kernel in to its dynamic shared memory. launch
 * looks the variant up for that arch and runs it asynchronously on stream; it returns
 * CUDA_ERROR_NOT_FOUND when the lookup lands on tiles the header has no cubin for
 * (a mode or head dim that was not tuned: see the lookup order above) and
 * CUDA_ERROR_INVALID_VALUE for an unsupported head dim, dtype or head counts. A module
 * belongs to one context: launch from any thread on which that context is current.
 * A launch allocates nothing, copies nothing and waits for nothing, so it can be captured
 * into a CUDA graph (cuStreamBeginCapture on your stream): the capture fixes the kernel, the
 * grid, the pointers and sizes in p; each replay reads the buffers' contents (and cu_seqlens)
 * as they are then.
 */
#if defined(__GNUC__) && !defined(__cplusplus)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic" /* cuda.h: anonymous unions in C99 */
#endif
#include <cuda.h>
#if defined(__GNUC__) && !defined(__cplusplus)
#pragma GCC diagnostic pop
#endif
/* fa-tune emit: family launchers */

typedef struct fa_dispatch_module {
    CUcontext ctx; /* the context the modules live in */
    int arch;      /* index into fa_dispatch_archs() of the loaded cubins; -1 if none */
    int cc;        /* the device's compute capability * 10 */
    int loaded;    /* modules loaded */
    CUmodule modules[FA_DISPATCH_MAX_KERNELS];
    CUfunction functions[FA_DISPATCH_MAX_KERNELS]; /* by kernel index - first_kernel */
    /* fa-tune emit: if families|decode */
    int multiprocessors; /* the device's (persistent grids, auto decode splits) */
    /* fa-tune emit: endif */
    /* fa-tune emit: if decode */
    int decode_loaded; /* decode modules loaded */
    CUmodule decode_modules[FA_DISPATCH_MAX_DECODE_KERNELS];
    CUfunction decode_split[FA_DISPATCH_MAX_DECODE_KERNELS]; /* by kernel - first_kernel */
    CUfunction decode_combine[FA_DISPATCH_MAX_DECODE_KERNELS];
    /* fa-tune emit: endif */
} fa_dispatch_module;

/* The arch whose cubins run on compute capability cc: exact, else the highest of the
   same major below cc. -1 if none. */
static inline int fa_dispatch_select_cubin_arch(int cc)
{
    int n, i, best = -1;
    const fa_dispatch_arch *a = fa_dispatch_archs(&n);
    for (i = 0; i < n; i++)
        if (a[i].cc == cc)
            return i;
    for (i = 0; i < n; i++)
        if (a[i].cc / 10 == cc / 10 && a[i].cc < cc)
            best = i;
    return best;
}

/* fa-tune emit: if decode */
/* Load arch a's decode cubins into m (the current context): the split and the combine kernel
   of each. On failure m->decode_loaded says what to unload. */
static inline CUresult fa_dispatch_load_decode(fa_dispatch_module *m, int a)
{
    int n, i;
    CUresult r = CUDA_SUCCESS;
    const fa_dispatch_decode_arch *da = fa_dispatch_decode_archs(&n);
    const fa_dispatch_decode_kernel *k = fa_dispatch_decode_kernels(&n);
    for (i = 0; r == CUDA_SUCCESS && i < da[a].num_kernels; i++) {
        const fa_dispatch_decode_kernel *kk = &k[da[a].first_kernel + i];
        r = cuModuleLoadData(&m->decode_modules[i], kk->cubin);
        if (r != CUDA_SUCCESS)
            break;
        m->decode_loaded = i + 1;
        r = cuModuleGetFunction(&m->decode_split[i], m->decode_modules[i], kk->symbol);
        if (r == CUDA_SUCCESS)
            r = cuModuleGetFunction(&m->decode_combine[i], m->decode_modules[i],
                                    kk->combine_symbol);
        if (r == CUDA_SUCCESS)
            r = cuFuncSetAttribute(m->decode_split[i],
                                   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, kk->smem_bytes);
    }
    return r;
}

/* fa-tune emit: endif */
/* Unload what fa_dispatch_load loaded; safe on a module whose load failed. */
static inline void fa_dispatch_unload(fa_dispatch_module *m)
{
    CUcontext prev;
    int i, pushed;
    /* Nothing loaded: arch < 0 (loaded alone cannot say: a header of decode winners alone
       loads decode modules only). */
    if (!m || m->arch < 0) {
        if (m)
            m->arch = -1;
        return;
    }
    pushed = cuCtxPushCurrent(m->ctx) == CUDA_SUCCESS;
    for (i = 0; i < m->loaded; i++)
        (void)cuModuleUnload(m->modules[i]);
    /* fa-tune emit: if decode */
    for (i = 0; i < m->decode_loaded; i++)
        (void)cuModuleUnload(m->decode_modules[i]);
    m->decode_loaded = 0;
    /* fa-tune emit: endif */
    if (pushed)
        (void)cuCtxPopCurrent(&prev);
    m->loaded = 0;
    m->arch = -1;
}

/* Load the cubins for ctx's device (ctx 0: the current context) into m. On failure m
   holds nothing (unloading it is a no-op) and the CUresult says why:
   CUDA_ERROR_NO_BINARY_FOR_GPU when the header has no arch for the device. */
static inline CUresult fa_dispatch_load(fa_dispatch_module *m, CUcontext ctx)
{
    CUresult r;
    CUcontext prev;
    CUdevice dev = 0;
    int n, i, a = -1, major = 0, minor = 0, pushed = 0;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    const fa_dispatch_kernel *k = fa_dispatch_kernels(&n);
    if (!m)
        return CUDA_ERROR_INVALID_VALUE;
    m->ctx = 0;
    m->arch = -1;
    m->cc = 0;
    m->loaded = 0;
    /* fa-tune emit: if families|decode */
    m->multiprocessors = 0;
    /* fa-tune emit: endif */
    /* fa-tune emit: if decode */
    m->decode_loaded = 0;
    /* fa-tune emit: endif */
    if (ctx) {
        r = cuCtxPushCurrent(ctx);
        pushed = r == CUDA_SUCCESS;
    } else {
        r = cuCtxGetCurrent(&ctx);
        if (r == CUDA_SUCCESS && !ctx)
            r = CUDA_ERROR_INVALID_CONTEXT;
    }
    if (r == CUDA_SUCCESS)
        r = cuCtxGetDevice(&dev);
    if (r == CUDA_SUCCESS)
        r = cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
    if (r == CUDA_SUCCESS)
        r = cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
    /* fa-tune emit: if families|decode */
    if (r == CUDA_SUCCESS)
        r = cuDeviceGetAttribute(&m->multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                 dev);
    /* fa-tune emit: endif */
    if (r == CUDA_SUCCESS) {
        m->ctx = ctx;
        m->cc = major * 10 + minor;
        a = fa_dispatch_select_cubin_arch(m->cc);
        if (a < 0)
            r = CUDA_ERROR_NO_BINARY_FOR_GPU;
    }
    for (i = 0; r == CUDA_SUCCESS && i < archs[a].num_kernels; i++) {
        const fa_dispatch_kernel *kk = &k[archs[a].first_kernel + i];
        r = cuModuleLoadData(&m->modules[i], kk->cubin);
        if (r != CUDA_SUCCESS)
            break;
        m->loaded = i + 1;
        r = cuModuleGetFunction(&m->functions[i], m->modules[i], kk->symbol);
        // clang-format off
        if (r == CUDA_SUCCESS)
            r = cuFuncSetAttribute(m->functions[i],
                                   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                   kk->smem_bytes);
        // clang-format on
    }
    /* fa-tune emit: if decode */
    if (r == CUDA_SUCCESS)
        r = fa_dispatch_load_decode(m, a);
    /* fa-tune emit: endif */
    if (r == CUDA_SUCCESS) {
        m->arch = a;
    } else {
        for (i = 0; i < m->loaded; i++)
            (void)cuModuleUnload(m->modules[i]);
        m->loaded = 0;
        /* fa-tune emit: if decode */
        for (i = 0; i < m->decode_loaded; i++)
            (void)cuModuleUnload(m->decode_modules[i]);
        m->decode_loaded = 0;
        /* fa-tune emit: endif */
    }
    if (pushed)
        (void)cuCtxPopCurrent(&prev);
    return r;
}

/* Run kernel (an index into fa_dispatch_kernels() of the loaded arch) on p: device pointers,
   strides and sizes as fa_fwd_params above says, p->head_dim the kernel's head dim,
   varlen: p->seqlen_q/k the longest sequences. Asynchronous on stream. A zero
   softmax_scale_log2 is taken as softmax_scale * log2(e). A PackGQA kernel (pack_gqa) whose
   tile the problem's heads_q / heads_kv do not fit runs its fallback kernel instead
   (CUDA_ERROR_NOT_FOUND if it has none). */
// clang-format off
static inline CUresult fa_dispatch_launch_kernel(
    const fa_dispatch_module *m, int kernel, const fa_fwd_params *p, CUstream stream)
// clang-format on
{
    fa_fwd_params args;
    void *argv[1];
    int n;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    const fa_dispatch_kernel *k = fa_dispatch_kernels(&n);
    if (!m || !p || m->arch < 0)
        return CUDA_ERROR_INVALID_HANDLE;
    if (kernel < archs[m->arch].first_kernel ||
        kernel >= archs[m->arch].first_kernel + archs[m->arch].num_kernels)
        return CUDA_ERROR_NOT_FOUND;
    if (p->head_dim != k[kernel].head_dim || p->heads_q < 1 || p->heads_kv < 1 ||
        p->heads_q % p->heads_kv != 0 || p->batch < 0 || p->seqlen_q < 0 || p->seqlen_k < 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (p->batch == 0 || p->seqlen_q == 0)
        return CUDA_SUCCESS;
    args = *p;
    if (args.softmax_scale_log2 == 0.0f)
        args.softmax_scale_log2 = args.softmax_scale * 1.44269504088896340736f;
    /* fa-tune emit: if sm90a */
    /* A PackGQA kernel serves the problems whose query heads per KV head fit its tile; the
       others run its fallback (the same tiles without PackGQA). */
    if (k[kernel].family == FA_DISPATCH_FAMILY_SM90A && k[kernel].pack_gqa &&
        fa_plan_sm90a_pack_tokens(k[kernel].block_m, p->heads_q, p->heads_kv) < 1) {
        kernel = k[kernel].fallback;
        if (kernel < archs[m->arch].first_kernel ||
            kernel >= archs[m->arch].first_kernel + archs[m->arch].num_kernels)
            return CUDA_ERROR_NOT_FOUND;
    }
    if (k[kernel].family == FA_DISPATCH_FAMILY_SM90A)
        return fa_dispatch_launch_sm90a(m->functions[kernel - archs[m->arch].first_kernel],
                                        &k[kernel], &args, m->multiprocessors, stream);
    /* fa-tune emit: endif */
    argv[0] = &args;
    // clang-format off
    return cuLaunchKernel(m->functions[kernel - archs[m->arch].first_kernel],
                          (unsigned)(((int64_t)p->seqlen_q + k[kernel].block_m - 1) /
                                     k[kernel].block_m),
                          (unsigned)p->heads_q, (unsigned)p->batch, (unsigned)k[kernel].threads,
                          1, 1, (unsigned)k[kernel].smem_bytes, stream, argv, 0);
    // clang-format on
}

/* Run attention on p (as for fa_dispatch_launch_kernel) with the variant the lookup picks for
   the loaded arch and the mode (dtype, causal, varlen). *chosen (may be 0) gets the
   lookup's answer, also on CUDA_ERROR_NOT_FOUND. */
// clang-format off
static inline CUresult fa_dispatch_launch(
    const fa_dispatch_module *m, int dtype, int causal, int varlen, const fa_fwd_params *p,
    CUstream stream, fa_dispatch_choice *chosen)
// clang-format on
{
    fa_dispatch_choice c;
    int n;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    if (!m || !p || m->arch < 0)
        return CUDA_ERROR_INVALID_HANDLE;
    if (p->heads_q < 1 || p->heads_kv < 1 || p->heads_q % p->heads_kv != 0)
        return CUDA_ERROR_INVALID_VALUE;
    // clang-format off
    c = fa_dispatch_lookup(archs[m->arch].cc, dtype, p->head_dim, causal, varlen,
        p->heads_q / p->heads_kv, p->seqlen_q > p->seqlen_k ? p->seqlen_q : p->seqlen_k);
    // clang-format on
    if (chosen)
        *chosen = c;
    if (c.source == FA_DISPATCH_UNSUPPORTED)
        return CUDA_ERROR_INVALID_VALUE;
    if (c.kernel < 0)
        return CUDA_ERROR_NOT_FOUND;
    return fa_dispatch_launch_kernel(m, c.kernel, p, stream);
}
/* fa-tune emit: end */
