/*
 * fa_dispatch_lookup.h -- the lookup of an emitted dispatch header (fa-tune emit): seqlen
 * buckets, the arch fallback, the nearest-key search over the winners and the default tiles,
 * and a BSHD parameter helper. It reads the tables that fa_emit_render.c writes per database
 * (fa_dispatch_archs, fa_dispatch_entries, fa_dispatch_kernels) and needs fa_params.h and
 * fa_dispatch_types.h before it. Copied between the marker lines as fa_dispatch_types.h says.
 */
/* fa-tune emit: begin */

/* ---- lookup -------------------------------------------------------------------- */

/* Seqlen bucket of the key: the smallest power of two >= seqlen, at least 128. */
static inline int fa_dispatch_bucket(int seqlen)
{
    int b = 128;
    while (b < seqlen && b < (1 << 30))
        b <<= 1;
    return b;
}

/* floor(log2(x)) for x >= 1. */
static inline int fa_dispatch_ilog2(int x)
{
    int l = 0;
    while (x > 1) {
        x >>= 1;
        l++;
    }
    return l;
}

/* Index of a supported head dim in fa_dispatch_arch.defaults; -1 if unsupported. */
static inline int fa_dispatch_head_dim_index(int head_dim)
{
    switch (head_dim) {
    case 32:
        return 0;
    case 64:
        return 1;
    case 96:
        return 2;
    case 128:
        return 3;
    case 192:
        return 4;
    case 256:
        return 5;
    default:
        return -1;
    }
}

/* "exact", "nearest bucket", ...: a choice's source for messages. */
static inline const char *fa_dispatch_source_name(int source)
{
    switch (source) {
    case FA_DISPATCH_EXACT:
        return "exact";
    case FA_DISPATCH_NEAREST_BUCKET:
        return "nearest bucket";
    case FA_DISPATCH_NEAREST_GQA:
        return "nearest gqa";
    case FA_DISPATCH_SAME_HEAD_DIM:
        return "same head dim";
    case FA_DISPATCH_DEFAULT:
        return "default";
    default:
        return "unsupported";
    }
}

/* The arch whose table answers for compute capability cc (* 10): the exact cc; else
   the highest of the same major below cc; else the lowest of the same major; else the
   highest below cc; else the lowest. Archs are sorted by cc. */
static inline int fa_dispatch_select_arch(int cc)
{
    int n, i, best = -1;
    const fa_dispatch_arch *a = fa_dispatch_archs(&n);
    for (i = 0; i < n; i++)
        if (a[i].cc == cc)
            return i;
    for (i = 0; i < n; i++)
        if (a[i].cc / 10 == cc / 10 && a[i].cc < cc)
            best = i;
    if (best >= 0)
        return best;
    for (i = 0; i < n; i++)
        if (a[i].cc / 10 == cc / 10)
            return i;
    for (i = 0; i < n; i++)
        if (a[i].cc < cc)
            best = i;
    return best >= 0 ? best : 0;
}

/* Lexicographic a < b over the four parts of a lookup's distance. */
static inline int fa_dispatch_key_less(const long *a, const long *b)
{
    int k;
    for (k = 0; k < 4; k++)
        if (a[k] != b[k])
            return a[k] < b[k];
    return 0;
}

/* The parts of a lookup's distance that both tables' searches share: gqa (by ratio, then
   difference) and a power-of-two bucket (in powers of two). */
static inline long fa_dispatch_gqa_distance(int a, int b)
{
    int hi = a > b ? a : b, lo = a > b ? b : a;
    return (long)fa_dispatch_ilog2(hi / lo) * 65536L + (hi - lo);
}

static inline long fa_dispatch_bucket_distance(int a, int b)
{
    int hi = a > b ? a : b, lo = a > b ? b : a;
    return fa_dispatch_ilog2(hi / (lo > 0 ? lo : 1));
}

/* Keep row i as the nearest so far (*best, its distance best_key) if key is less. */
static inline void fa_dispatch_keep_nearest(int i, const long *key, int *best, long *best_key)
{
    int k;
    if (*best >= 0 && !fa_dispatch_key_less(key, best_key))
        return;
    *best = i;
    for (k = 0; k < 4; k++)
        best_key[k] = key[k];
}

/* The source of the nearest row by its distance: (mode, gqa, bucket, tie). */
static inline int fa_dispatch_nearest_source(const long *best_key)
{
    // clang-format off
    return best_key[0] ? FA_DISPATCH_SAME_HEAD_DIM
           : best_key[1] ? FA_DISPATCH_NEAREST_GQA
           : best_key[2] ? FA_DISPATCH_NEAREST_BUCKET
                         : FA_DISPATCH_EXACT;
    // clang-format on
}

/* Index into fa_dispatch_kernels() of an instance of arch; -1 if the header lacks it. */
// clang-format off
static inline int fa_dispatch_find_kernel(
    int arch, int dtype, int head_dim, int causal, int varlen, const fa_dispatch_tiles *t)
{
    int n, i;
    const fa_dispatch_arch *a = fa_dispatch_archs(&n);
    const fa_dispatch_kernel *k = fa_dispatch_kernels(&n);
    for (i = a[arch].first_kernel; i < a[arch].first_kernel + a[arch].num_kernels; i++)
        if (k[i].dtype == dtype && k[i].head_dim == head_dim && k[i].causal == causal &&
            k[i].varlen == varlen && k[i].block_m == t->block_m &&
            k[i].block_n == t->block_n && k[i].warps == t->warps &&
            k[i].stages == t->stages && k[i].q_in_regs == t->q_in_regs)
            return i;
    return -1;
}
// clang-format on
/* fa-tune emit: if families */
/* As fa_dispatch_find_kernel, in a header of several families: the family and its axes too. */
static inline int fa_dispatch_find_family_kernel(int arch, int dtype, int head_dim, int causal,
                                                 int varlen, const fa_dispatch_tiles *t)
{
    int n, i;
    const fa_dispatch_arch *a = fa_dispatch_archs(&n);
    const fa_dispatch_kernel *k = fa_dispatch_kernels(&n);
    for (i = a[arch].first_kernel; i < a[arch].first_kernel + a[arch].num_kernels; i++)
        if (k[i].family == t->family && k[i].dtype == dtype && k[i].head_dim == head_dim &&
            k[i].causal == causal && k[i].varlen == varlen && k[i].block_m == t->block_m &&
            k[i].block_n == t->block_n && k[i].warps == t->warps && k[i].stages == t->stages &&
            k[i].q_in_regs == t->q_in_regs && k[i].overlap == t->overlap &&
            k[i].pingpong == t->pingpong && k[i].persistent == t->persistent &&
            k[i].pack_gqa == t->pack_gqa && k[i].ctas == t->ctas)
            return i;
    return -1;
}
/* fa-tune emit: endif */

/* The variant to run for a problem on a device of compute capability cc (* 10). Never
   fails for a supported head dim and dtype; the order of fallbacks is in the banner.
   gqa = heads_q / heads_kv; seqlen = max(seqlen_q, seqlen_k). */
// clang-format off
static inline fa_dispatch_choice fa_dispatch_lookup(
    int cc, int dtype, int head_dim, int causal, int varlen, int gqa, int seqlen)
// clang-format on
{
    fa_dispatch_choice c;
    fa_dispatch_tiles t;
    const fa_dispatch_arch *archs;
    const fa_dispatch_entry *rows;
    int i, hd, bucket, best = -1;
    long key[4], best_key[4] = {0, 0, 0, 0};
    causal = causal != 0;
    varlen = varlen != 0;
    gqa = gqa < 1 ? 1 : gqa;
    bucket = fa_dispatch_bucket(seqlen);
    hd = fa_dispatch_head_dim_index(head_dim);
    c.source = FA_DISPATCH_UNSUPPORTED;
    c.arch = -1;
    c.cc = 0;
    c.dtype = dtype;
    c.head_dim = head_dim;
    c.causal = causal;
    c.varlen = varlen;
    c.block_m = c.block_n = c.warps = c.stages = c.q_in_regs = 0;
    c.threads = c.smem_bytes = 0;
    c.kernel = -1;
    c.entry = 0;
    /* fa-tune emit: if families */
    c.family = c.overlap = c.pingpong = c.persistent = c.pack_gqa = 0;
    c.ctas = 1;
    /* fa-tune emit: endif */
    if (hd < 0 || (dtype != FA_DISPATCH_FP16 && dtype != FA_DISPATCH_BF16))
        return c;
    archs = fa_dispatch_archs(0);
    rows = fa_dispatch_entries(0);
    c.arch = fa_dispatch_select_arch(cc);
    c.cc = archs[c.arch].cc;
    // clang-format off
    for (i = archs[c.arch].first_entry;
         i < archs[c.arch].first_entry + archs[c.arch].num_entries; i++) {
        // clang-format on
        const fa_dispatch_entry *e = &rows[i];
        if (e->head_dim != head_dim)
            continue;
        key[0] = (e->causal != causal) * 4 + (e->varlen != varlen) * 2 + (e->dtype != dtype);
        key[1] = fa_dispatch_gqa_distance(gqa, e->gqa);
        key[2] = fa_dispatch_bucket_distance(bucket, e->bucket);
        key[3] = e->bucket < bucket; /* a tie takes the larger bucket */
        fa_dispatch_keep_nearest(i, key, &best, best_key);
    }
    if (best >= 0) {
        const fa_dispatch_entry *e = &rows[best];
        c.source = fa_dispatch_nearest_source(best_key);
        c.entry = e;
        t.head_dim = head_dim;
        t.block_m = e->block_m;
        t.block_n = e->block_n;
        t.warps = e->warps;
        t.stages = e->stages;
        t.q_in_regs = e->q_in_regs;
        /* fa-tune emit: if families */
        t.family = e->family;
        t.overlap = e->overlap;
        t.pingpong = e->pingpong;
        t.persistent = e->persistent;
        t.pack_gqa = e->pack_gqa;
        t.ctas = e->ctas;
        /* fa-tune emit: endif */
    } else {
        c.source = FA_DISPATCH_DEFAULT;
        t = archs[c.arch].defaults[hd];
    }
    c.block_m = t.block_m;
    c.block_n = t.block_n;
    c.warps = t.warps;
    c.stages = t.stages;
    c.q_in_regs = t.q_in_regs;
    c.threads = t.warps * 32;
    c.smem_bytes = FA_SM80_SMEM_BYTES(head_dim, t.block_m, t.block_n, t.stages);
    c.kernel = fa_dispatch_find_kernel(c.arch, dtype, head_dim, causal, varlen, &t);
    /* fa-tune emit: if families */
    /* The row's own launch geometry (its family's formulas), and its exact instance. */
    c.family = t.family;
    c.overlap = t.overlap;
    c.pingpong = t.pingpong;
    c.persistent = t.persistent;
    c.pack_gqa = t.pack_gqa;
    c.ctas = t.ctas;
    if (c.entry) {
        c.threads = c.entry->threads;
        c.smem_bytes = c.entry->smem_bytes;
    }
    c.kernel = fa_dispatch_find_family_kernel(c.arch, dtype, head_dim, causal, varlen, &t);
    /* fa-tune emit: endif */
    return c;
}

/* Fill p for contiguous tensors in BSHD layout (FlashAttention's): q and o
   (batch, seqlen_q, heads_q, head_dim), k and v (batch, seqlen_k, heads_kv, head_dim),
   lse (batch, heads_q, seqlen_q) fp32. Other layouts: set the strides yourself
   (fa_fwd_params above says how). softmax_scale is usually 1/sqrt(head_dim). */
// clang-format off
static inline void fa_dispatch_params_bshd(
    fa_fwd_params *p, uint64_t q, uint64_t k, uint64_t v, uint64_t o, uint64_t lse,
    int batch, int heads_q, int heads_kv, int seqlen_q, int seqlen_k, int head_dim,
    float softmax_scale)
// clang-format on
{
    p->q = q;
    p->k = k;
    p->v = v;
    p->o = o;
    p->lse = lse;
    p->cu_seqlens_q = 0;
    p->cu_seqlens_k = 0;
    /* Products of two ints fit 64 bits; a batch stride (three) is taken modulo 2^64, so any
       int shape is defined: it differs only past 2^63 elements, more than any tensor has. */
    p->q_row_stride = (int64_t)heads_q * head_dim;
    p->q_head_stride = head_dim;
    p->q_batch_stride = (int64_t)((uint64_t)seqlen_q * (uint64_t)p->q_row_stride);
    p->k_row_stride = (int64_t)heads_kv * head_dim;
    p->k_head_stride = head_dim;
    p->k_batch_stride = (int64_t)((uint64_t)seqlen_k * (uint64_t)p->k_row_stride);
    p->v_row_stride = p->k_row_stride;
    p->v_head_stride = head_dim;
    p->v_batch_stride = p->k_batch_stride;
    p->o_row_stride = p->q_row_stride;
    p->o_head_stride = head_dim;
    p->o_batch_stride = p->q_batch_stride;
    p->lse_head_stride = seqlen_q;
    p->lse_batch_stride = (int64_t)heads_q * seqlen_q;
    p->batch = batch;
    p->heads_q = heads_q;
    p->heads_kv = heads_kv;
    p->seqlen_q = seqlen_q;
    p->seqlen_k = seqlen_k;
    p->head_dim = head_dim;
    p->softmax_scale = softmax_scale;
    p->softmax_scale_log2 = softmax_scale * 1.44269504088896340736f;
}
/* fa-tune emit: end */
