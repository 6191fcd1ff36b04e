/*
 * fa_dispatch_decode.h -- the decode op's part of an emitted dispatch header (fa-tune emit),
 * copied only into headers that hold decode winners (the splitkv family): the lookup over
 * the decode table and the plan's splits and scratch for a problem. It reads the tables that
 * fa_emit_render.c writes per database (fa_dispatch_archs, and fa_dispatch_decode_archs /
 * _entries / _kernels), and needs fa_params.h, fa_plan_splitkv.h, fa_dispatch_types.h,
 * fa_dispatch_decode_types.h and fa_dispatch_lookup.h before it. The geometry and the scratch come
 * from fa_plan_splitkv.h, the functions fa-tune's family plans with. Copied between the marker
 * lines as fa_dispatch_types.h says.
 */
/* fa-tune emit: begin */

/* Index into fa_dispatch_decode_kernels() of an instance of arch; -1 if the header lacks it. */
static inline int fa_dispatch_find_decode_kernel(int arch, int dtype, int head_dim, int causal,
                                                 const fa_dispatch_decode_tiles *t)
{
    int n, i;
    const fa_dispatch_decode_arch *a = fa_dispatch_decode_archs(&n);
    const fa_dispatch_decode_kernel *k = fa_dispatch_decode_kernels(&n);
    for (i = a[arch].first_kernel; i < a[arch].first_kernel + a[arch].num_kernels; i++)
        if (k[i].dtype == dtype && k[i].head_dim == head_dim && k[i].causal == causal &&
            k[i].block_m == t->block_m && k[i].block_n == t->block_n && k[i].warps == t->warps &&
            k[i].stages == t->stages)
            return i;
    return -1;
}

/* The seqlen_q bucket of a decode key: 1 (plain decode), 4 (2 to 4 new tokens) or 16 (5 to
   16: speculative and chunked decoding). */
static inline int fa_dispatch_decode_q_bucket(int seqlen_q)
{
    return seqlen_q <= 1 ? 1 : seqlen_q <= 4 ? 4 : 16;
}

/* The decode variant to run on a device of compute capability cc (* 10): gqa = heads_q /
   heads_kv, seqlen_q the new tokens, seqlen_k the longest cache, page_size the cache's rows
   per page (0: contiguous). Never fails for a supported head dim and dtype: the exact key,
   else the nearest key of the head dim (the same dtype and causal first, then the nearest gqa,
   then the nearest seqlen_q bucket, then the nearest cache bucket (a tie taking the larger),
   then the same paging), else the arch's default decode tiles; the source says which, as for
   fa_dispatch_lookup. Every splitkv instance runs every decode problem, so a fallback only
   costs speed. */
static inline fa_dispatch_decode_choice fa_dispatch_lookup_decode(int cc, int dtype, int head_dim,
                                                                  int causal, int gqa, int seqlen_q,
                                                                  int seqlen_k, int page_size)
{
    fa_dispatch_decode_choice c;
    fa_dispatch_decode_tiles t;
    const fa_dispatch_decode_arch *da;
    const fa_dispatch_decode_entry *rows;
    int i, hd, bucket, q_bucket, paged, best = -1;
    long key[4], best_key[4] = {0, 0, 0, 0};
    causal = causal != 0;
    gqa = gqa < 1 ? 1 : gqa;
    bucket = fa_dispatch_bucket(seqlen_q > seqlen_k ? seqlen_q : seqlen_k);
    q_bucket = fa_dispatch_decode_q_bucket(seqlen_q);
    paged = page_size > 0;
    hd = fa_dispatch_head_dim_index(head_dim);
    c.source = FA_DISPATCH_UNSUPPORTED;
    c.arch = -1;
    c.cc = 0;
    c.dtype = dtype;
    c.head_dim = head_dim;
    c.causal = causal;
    c.gqa = gqa;
    c.q_bucket = q_bucket;
    c.paged = paged;
    c.block_m = c.block_n = c.warps = c.stages = c.splits = c.fuse = 0;
    c.threads = c.smem_bytes = 0;
    c.kernel = -1;
    c.entry = 0;
    if (hd < 0 || (dtype != FA_DISPATCH_FP16 && dtype != FA_DISPATCH_BF16))
        return c;
    da = fa_dispatch_decode_archs(0);
    rows = fa_dispatch_decode_entries(0);
    c.arch = fa_dispatch_select_arch(cc);
    c.cc = fa_dispatch_archs(0)[c.arch].cc;
    for (i = da[c.arch].first_entry; i < da[c.arch].first_entry + da[c.arch].num_entries; i++) {
        const fa_dispatch_decode_entry *e = &rows[i];
        if (e->head_dim != head_dim)
            continue;
        key[0] = (e->causal != causal) * 2 + (e->dtype != dtype);
        key[1] = fa_dispatch_gqa_distance(gqa, e->gqa);
        /* the seqlen_q buckets are powers of four: one step is 2 */
        key[2] = fa_dispatch_bucket_distance(q_bucket, e->q_bucket) * 65536L +
                 fa_dispatch_bucket_distance(bucket, e->bucket) * 2L + (e->paged != paged);
        key[3] = e->bucket < bucket; /* a tie takes the larger bucket */
        fa_dispatch_keep_nearest(i, key, &best, best_key);
    }
    if (best >= 0) {
        const fa_dispatch_decode_entry *e = &rows[best];
        c.source = fa_dispatch_nearest_source(best_key);
        c.entry = e;
        t.head_dim = head_dim;
        t.block_m = e->block_m;
        t.block_n = e->block_n;
        t.warps = e->warps;
        t.stages = e->stages;
        t.splits = e->splits;
        t.fuse = e->fuse;
    } else {
        t = da[c.arch].defaults[hd];
        if (t.head_dim != head_dim) {
            c.source = FA_DISPATCH_UNSUPPORTED; /* no decode tiles fit this arch */
            return c;
        }
        c.source = FA_DISPATCH_DEFAULT;
    }
    c.block_m = t.block_m;
    c.block_n = t.block_n;
    c.warps = t.warps;
    c.stages = t.stages;
    c.splits = t.splits;
    c.fuse = t.fuse;
    c.threads = (int)fa_plan_splitkv_threads(t.warps);
    c.smem_bytes = (int)fa_plan_splitkv_smem(head_dim, t.block_m, t.block_n, t.warps, t.stages);
    c.kernel = fa_dispatch_find_decode_kernel(c.arch, dtype, head_dim, causal, &t);
    return c;
}

/* The splits the plan runs for choice c on problem p (sizes only) on a device with
   multiprocessors SMs (which resolves auto splits: FlashAttention-3's rule): at least 1. */
static inline int fa_dispatch_decode_plan_splits(const fa_dispatch_decode_choice *c,
                                                 const fa_fwd_params *p, int multiprocessors)
{
    if (c->block_m < 1 || c->block_n < 1 || p->heads_kv < 1 || p->heads_q < p->heads_kv)
        return 1;
    return fa_plan_splitkv_splits(c->splits, p->batch, p->heads_q, p->heads_kv, p->seqlen_q,
                                  p->seqlen_k, c->block_m, c->block_n, multiprocessors);
}

/* Bytes of device scratch the plan needs for choice c on problem p (0 with one split): a
   256-byte header, then fp32 partial O and LSE of every split (fa_plan_splitkv.h). */
static inline uint64_t fa_dispatch_decode_plan_scratch(const fa_dispatch_decode_choice *c,
                                                       const fa_fwd_params *p, int multiprocessors)
{
    if (c->source == FA_DISPATCH_UNSUPPORTED || p->batch < 1 || p->seqlen_q < 1 ||
        p->heads_kv < 1 || p->heads_q < p->heads_kv)
        return 0;
    return fa_plan_splitkv_scratch(fa_dispatch_decode_plan_splits(c, p, multiprocessors), p->batch,
                                   p->heads_q, p->seqlen_q, p->head_dim);
}
/* fa-tune emit: end */
