/*
 * fa_dispatch_launch_decode.h -- the decode launcher of a header emitted with --embed-cubin
 * that holds decode winners: the scratch a problem needs and the launches of the splitkv
 * family's plan (the split kernel, then the combine kernel when there is more than one
 * split and the winner does not fuse it into the split kernel), over the Driver API. Needs
 * fa_dispatch_launch.h (the module, loaded with the decode cubins) and fa_dispatch_decode.h before
 * it; the grids, block sizes, shared memory and scratch come from fa_plan_splitkv.h, the functions
 * fa-tune's family plans with. Copied between the marker lines as fa_dispatch_types.h says.
 */
/* fa-tune emit: begin */

#include <string.h> /* memset */

/* ---- launching the decode op (split, then combine or fused) --------------------- */
/*
 *   fa_fwd_params p;                      (q, k, v, o, lse and strides as above; then
 *   p.seqused_k = lens;                    int32[batch] cache lengths, 0 allowed
 *   p.block_table = table;                 int32[batch][stride], or 0: contiguous caches
 *   p.block_table_stride = stride; p.page_size = 64;)
 *   uint64_t bytes = fa_dispatch_decode_scratch_bytes(&mod, FA_DISPATCH_BF16, causal, &p);
 *   (allocate bytes of device memory when bytes > 0: scratch, and zero it once:
 *    cuMemsetD8(scratch, 0, bytes))
 *   r = fa_dispatch_launch_decode(&mod, FA_DISPATCH_BF16, causal, &p, scratch, bytes, stream,
 *                                 0);
 *
 * The scratch may be reused by the next launch on the same stream without clearing it again:
 * the partials are written before they are read, and the fused combine's counters in the
 * scratch header (FA_DECODE_COUNTERS .. FA_DECODE_SCRATCH_HEADER) must be zero before a launch
 * and are left zero by it. Launches that may run at the same time (on two streams) need a
 * scratch each. Auto splits resolve with the module's device's multiprocessors, so
 * the size holds for launches through that module. Captured into a CUDA graph, the launch keeps
 * the split count of the captured seqlen_k; each replay reads the cache lengths (each at most
 * that seqlen_k), the block table and the caches as they are then.
 */

/* Bytes of device scratch fa_dispatch_launch_decode needs for the problem p (sizes only) with
   the decode variant the lookup picks for m's arch, dtype and causal; 0 when it needs none or
   the problem cannot be launched (the launch says why). */
static inline uint64_t fa_dispatch_decode_scratch_bytes(const fa_dispatch_module *m, int dtype,
                                                        int causal, const fa_fwd_params *p)
{
    fa_dispatch_decode_choice c;
    int n;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    if (!m || !p || m->arch < 0 || p->heads_q < 1 || p->heads_kv < 1 ||
        p->heads_q % p->heads_kv != 0)
        return 0;
    c = fa_dispatch_lookup_decode(archs[m->arch].cc, dtype, p->head_dim, causal,
                                  p->heads_q / p->heads_kv, p->seqlen_q, p->seqlen_k, p->page_size);
    return fa_dispatch_decode_plan_scratch(&c, p, m->multiprocessors);
}

/* 1 when the combine kernel may be launched early (programmatic dependent launch): the device
   has it (cc >= 90) and the loaded cubins were compiled for sm_90 or later, so their combine
   waits for the split kernel (griddepcontrol.wait). Code compiled for an older arch has that
   wait compiled out, and an early launch of it could read partials not yet written. */
static inline int fa_dispatch_decode_early_combine(int cubin_cc, int device_cc)
{
    return cubin_cc >= 90 && device_cc >= 90;
}

/* The combine kernel f over grid blocks on stream. With early (fa_dispatch_decode_early_combine)
   it is a programmatic dependent of the split kernel launched just before it: the split kernel
   lets it be scheduled while it runs, and it waits inside until the split kernel's partials
   are complete, so its launch leaves the critical path. Otherwise, with CUDA headers before
   12.0, or where the driver refuses the attribute: a plain launch, which the stream orders. */
static inline CUresult fa_dispatch_decode_launch_combine(CUfunction f, unsigned grid, int early,
                                                         CUstream stream, void **argv)
{
#if defined(CUDA_VERSION) && CUDA_VERSION >= 12000
    if (early) {
        CUlaunchAttribute at;
        CUlaunchConfig cfg;
        CUresult r;
        memset(&at, 0, sizeof at);
        memset(&cfg, 0, sizeof cfg);
        at.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
        at.value.programmaticStreamSerializationAllowed = 1;
        cfg.gridDimX = grid;
        cfg.gridDimY = cfg.gridDimZ = 1;
        cfg.blockDimX = 32 * FA_DECODE_COMBINE_ROWS;
        cfg.blockDimY = cfg.blockDimZ = 1;
        cfg.hStream = stream;
        cfg.attrs = &at;
        cfg.numAttrs = 1;
        r = cuLaunchKernelEx(&cfg, f, argv, 0);
        if (r != CUDA_ERROR_NOT_SUPPORTED)
            return r;
    }
#else
    (void)early;
#endif
    return cuLaunchKernel(f, grid, 1, 1, 32 * FA_DECODE_COMBINE_ROWS, 1, 1, 0, stream, argv, 0);
}

/* Run decode kernel `kernel` (an index into fa_dispatch_decode_kernels() of the loaded arch)
   with splits (0: auto) and fuse on p, asynchronously on stream: the split kernel, then, when
   the plan has more than one split, the combine kernel over scratch (scratch_bytes of device
   memory, at least fa_dispatch_decode_plan_scratch's; else CUDA_ERROR_INVALID_VALUE), or with
   fuse the split kernel merges the splits itself (fa_plan_splitkv_fused: no combine launch).
   p->seqlen_k is the longest cache, p->seqused_k the lengths (0: all seqlen_k). */
static inline CUresult fa_dispatch_launch_decode_fused(const fa_dispatch_module *m, int kernel,
                                                       int splits, int fuse, const fa_fwd_params *p,
                                                       CUdeviceptr scratch, uint64_t scratch_bytes,
                                                       CUstream stream)
{
    fa_decode_args args;
    fa_dispatch_decode_choice c;
    void *argv[1];
    int n, s, i, fused;
    uint64_t ctas, rows; /* the split kernel's grid.x; the output rows (b, h, i) */
    CUresult r;
    const fa_dispatch_decode_arch *da = fa_dispatch_decode_archs(&n);
    const fa_dispatch_decode_kernel *k = fa_dispatch_decode_kernels(&n);
    if (!m || !p || m->arch < 0)
        return CUDA_ERROR_INVALID_HANDLE;
    if (kernel < da[m->arch].first_kernel ||
        kernel >= da[m->arch].first_kernel + da[m->arch].num_kernels)
        return CUDA_ERROR_NOT_FOUND;
    if (p->head_dim != k[kernel].head_dim || p->heads_q < 1 || p->heads_kv < 1 ||
        p->heads_q % p->heads_kv != 0 || p->batch < 0 || p->seqlen_q < 0 || p->seqlen_k < 0 ||
        p->page_size < 0 || (p->page_size > 0 && !p->block_table) || splits < 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (p->batch == 0 || p->seqlen_q == 0)
        return CUDA_SUCCESS;
    i = kernel - da[m->arch].first_kernel;
    /* The split kernel's grid.x and the combine's rows must fit a grid (the family's limits).
       The product of the first two factors is checked against the same bound before the third
       (>= 1) multiplies it: the same answer as the whole product's, and none wraps (< 2^64). */
    ctas =
        (uint64_t)fa_plan_splitkv_mblocks(p->heads_q, p->heads_kv, p->seqlen_q, k[kernel].block_m) *
        (uint64_t)p->batch;
    rows = (uint64_t)p->batch * (uint64_t)p->heads_q;
    if (ctas > 0x7fffffffu || (ctas *= (uint64_t)p->heads_kv) > 0x7fffffffu ||
        rows / FA_DECODE_COMBINE_ROWS >= 0x7fffffffu ||
        (rows *= (uint64_t)p->seqlen_q) / FA_DECODE_COMBINE_ROWS >= 0x7fffffffu)
        return CUDA_ERROR_INVALID_VALUE;
    memset(&c, 0, sizeof c);
    c.block_m = k[kernel].block_m;
    c.block_n = k[kernel].block_n;
    c.splits = splits;
    s = fa_dispatch_decode_plan_splits(&c, p, m->multiprocessors);
    if (s > 1 && (!scratch || scratch_bytes < fa_plan_splitkv_scratch(s, p->batch, p->heads_q,
                                                                      p->seqlen_q, p->head_dim)))
        return CUDA_ERROR_INVALID_VALUE;
    memset(&args, 0, sizeof args);
    args.p = *p;
    if (args.p.softmax_scale_log2 == 0.0f)
        args.p.softmax_scale_log2 = args.p.softmax_scale * 1.44269504088896340736f;
    args.scratch = s > 1 ? (uint64_t)scratch : 0;
    fused =
        fa_plan_splitkv_fused(fuse, s, p->batch, p->heads_q, p->heads_kv, p->seqlen_q, c.block_m);
    args.fused = (uint32_t)fused;
    argv[0] = &args;
    r = cuLaunchKernel(
        m->decode_split[i], (unsigned)ctas, (unsigned)s, 1,
        fa_plan_splitkv_threads(k[kernel].warps), 1, 1,
        fa_plan_splitkv_smem(p->head_dim, c.block_m, c.block_n, k[kernel].warps, k[kernel].stages),
        stream, argv, 0);
    if (r != CUDA_SUCCESS || s <= 1 || fused)
        return r;
    return fa_dispatch_decode_launch_combine(
        m->decode_combine[i],
        (unsigned)((rows + FA_DECODE_COMBINE_ROWS - 1) / FA_DECODE_COMBINE_ROWS),
        fa_dispatch_decode_early_combine(fa_dispatch_archs(&n)[m->arch].cc, m->cc), stream, argv);
}

/* fa_dispatch_launch_decode_fused without the fused combine (the split kernel, then the
   combine kernel when there is more than one split). */
static inline CUresult fa_dispatch_launch_decode_kernel(const fa_dispatch_module *m, int kernel,
                                                        int splits, const fa_fwd_params *p,
                                                        CUdeviceptr scratch, uint64_t scratch_bytes,
                                                        CUstream stream)
{
    return fa_dispatch_launch_decode_fused(m, kernel, splits, 0, p, scratch, scratch_bytes, stream);
}

/* Run decode attention on p with the variant fa_dispatch_lookup_decode picks for the loaded
   arch, dtype and causal (bottom-right within the new tokens), as
   fa_dispatch_launch_decode_fused says. *chosen (may be 0) gets the lookup's answer, also on
   CUDA_ERROR_NOT_FOUND (tiles the header has no cubin for). */
static inline CUresult fa_dispatch_launch_decode(const fa_dispatch_module *m, int dtype, int causal,
                                                 const fa_fwd_params *p, CUdeviceptr scratch,
                                                 uint64_t scratch_bytes, CUstream stream,
                                                 fa_dispatch_decode_choice *chosen)
{
    fa_dispatch_decode_choice c;
    int n;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    if (!m || !p || m->arch < 0)
        return CUDA_ERROR_INVALID_HANDLE;
    if (p->heads_q < 1 || p->heads_kv < 1 || p->heads_q % p->heads_kv != 0)
        return CUDA_ERROR_INVALID_VALUE;
    c = fa_dispatch_lookup_decode(archs[m->arch].cc, dtype, p->head_dim, causal,
                                  p->heads_q / p->heads_kv, p->seqlen_q, p->seqlen_k, p->page_size);
    if (chosen)
        *chosen = c;
    if (c.source == FA_DISPATCH_UNSUPPORTED)
        return CUDA_ERROR_INVALID_VALUE;
    if (c.kernel < 0)
        return CUDA_ERROR_NOT_FOUND;
    return fa_dispatch_launch_decode_fused(m, c.kernel, c.splits, c.fuse, p, scratch, scratch_bytes,
                                           stream);
}
/* fa-tune emit: end */
