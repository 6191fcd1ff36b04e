/*
 * This file implements the splitkv kernel family's host description (see fa_family.h): the
 * decode kernels of templates/decode/fa_decode_splitkv.cuh (GQA packing, split-KV with an LSE
 * combine, paged or contiguous KV caches; mma.sync and cp.async), serving the decode op on
 * sm80 through sm90.
 *
 * Axes (3 x 4 x 3 x 3 x 13 x 2 = 2808 configurations per mode before legality):
 *     block_m   16, 32, 64         packed query rows (g * seqlen_q) per CTA
 *     block_n   32, 64, 128, 256   keys per pipeline step, split over the warps along N
 *     warps     2, 4, 8
 *     stages    2, 3, 4            K/V ring depth (stages - 1 blocks in flight)
 *     splits    0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64
 *                                  KV-range splits; 0 = auto (FlashAttention-3's rule on the
 *                                  device's multiprocessors, templates/decode/fa_plan_splitkv.h)
 *     fuse     0, 1                1: the last split of each group merges the splits in the
 *                                  main kernel (one launch, no combine kernel); with splits
 *                                  0 (auto), 2, 3 or 4 only (pruned: on the H200 run of
 *                                  2026-12-03, bench/results/2026-12-03_h200_decode_v2, fused
 *                                  6 and 8 splits were never within 0.6% of a shape's best and
 *                                  12 and 16 never past halving's first rung)
 * Name suffix: "m16n64w4s3k0", "f" appended when fused ("m16n64w4s3k0f"), e.g.
 * decode_splitkv_hd128_bf16_m16n64w4s3k0. The splits and fuse values do not change the kernels
 * (one cubin for all of them; fuse is a flag of the argument struct); they change the plan.
 *
 * Plan (fa_plan_splitkv.h): launch 0 is the split kernel, grid (m_blocks * batch * heads_kv,
 * splits); launch 1 the combine kernel, one warp per (b, h, i) row, a programmatic dependent
 * of launch 0 (fa_launch.pdl), unless the variant fuses the combine (fa_plan_splitkv_fused:
 * then launch 0 alone); with one resolved split only launch 0 runs and writes O and LSE
 * itself (no scratch). Scratch: a header (the splits and the fused combine's counters) and
 * fp32 partial O and LSE of every split, zeroed once after allocation (scratch_keep: the
 * partials need no clearing, the counters are left zero). Both kernels take fa_decode_args
 * (fa_fwd_params, the scratch address, the fused flag).
 *
 * Legality is the template's static_assert model: head dims multiples of 32 up to 256;
 * BLOCK_N / warps a multiple of 16; O and S accumulators (BLOCK_M/16 x (D + BLOCK_N/warps)/2
 * registers) within 192; shared memory (FA_DECODE_SMEM_BYTES) within the arch's opt-in limit.
 * Fixed-length decode problems only (varlen is not a decode mode).
 */
#include "decode/fa_plan_splitkv.h"
#include "fa_family.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BM, BN, WARPS, STAGES, SPLITS, FUSE };

static const fa_axis axes[] = {
    {"block_m", "BLOCK_M", 3, {16, 32, 64}, "m", 0},
    {"block_n", "BLOCK_N", 4, {32, 64, 128, 256}, "n", 0},
    {"warps", "warps", 3, {2, 4, 8}, "w", 0},
    {"stages", "stages", 3, {2, 3, 4}, "s", 0},
    {"splits", "splits", 13, {0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64}, "k", 0},
    {"fuse", "fused combine", 2, {0, 1}, "f", 0},
};

static const fa_kernel kernels[] = {
    {"main", FA_DECODE_ARGS_BYTES},
    {"combine", FA_DECODE_ARGS_BYTES},
};

static void suffix(const fa_variant *v, char *buf, size_t n)
{
    const int *p = v->params;
    snprintf(buf, n, "m%dn%dw%ds%dk%d%s", p[BM], p[BN], p[WARPS], p[STAGES], p[SPLITS],
             p[FUSE] ? "f" : "");
}

/* Reads a decimal integer at *s, advancing it; -1 if none. */
static int read_int(const char **s)
{
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return -1;
    long x = 0;
    while (*p >= '0' && *p <= '9' && x < 100000)
        x = x * 10 + (*p++ - '0');
    *s = p;
    return (int)x;
}

static int parse_suffix(const char *s, int *p)
{
    if (*s++ != 'm' || (p[BM] = read_int(&s)) <= 0 || *s++ != 'n' || (p[BN] = read_int(&s)) <= 0 ||
        *s++ != 'w' || (p[WARPS] = read_int(&s)) <= 0 || *s++ != 's' ||
        (p[STAGES] = read_int(&s)) <= 0 || *s++ != 'k' || (p[SPLITS] = read_int(&s)) < 0)
        return -1;
    p[FUSE] = *s == 'f';
    s += p[FUSE];
    return *s ? -1 : 0;
}

static const char *elem(const fa_variant *v)
{
    return v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half";
}

static void name_expr(const fa_variant *v, int k, char *buf, size_t n)
{
    const int *p = v->params;
    if (k == 1)
        snprintf(buf, n, "fa_decode_combine<%s, %d>", elem(v), v->head_dim);
    else
        snprintf(buf, n, "fa_decode_splitkv<%s, %d, %d, %d, %d, %d, %s>", elem(v), v->head_dim,
                 p[BM], p[BN], p[WARPS], p[STAGES], v->causal ? "true" : "false");
}

static int threads(const fa_variant *v)
{
    return (int)fa_plan_splitkv_threads(v->params[WARPS]);
}

static int smem_bytes(const fa_variant *v)
{
    const int *p = v->params;
    return (int)fa_plan_splitkv_smem(v->head_dim, p[BM], p[BN], p[WARPS], p[STAGES]);
}

static fa_status check(const fa_variant *v, const fa_arch *arch, fa_err *err)
{
    const int *p = v->params;
    const int d = v->head_dim;
    if (v->op != FA_OP_DECODE)
        return FA_ERR(err, FA_UNSUPPORTED, "the splitkv family serves the decode op only");
    if (v->varlen)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "variable-length batches are not a decode mode (cache lengths are)");
    if (d % 32 != 0 || d < 32 || d > 256)
        return FA_ERR(err, FA_UNSUPPORTED, "head dim %d: must be a multiple of 32 in [32, 256]", d);
    if (p[BM] % 16 != 0 || p[BM] < 16 || p[BM] > 64)
        return FA_ERR(err, FA_UNSUPPORTED, "BLOCK_M must be 16, 32, 48 or 64");
    if (p[WARPS] < 2 || p[WARPS] > 8)
        return FA_ERR(err, FA_UNSUPPORTED, "warps must be 2..8");
    if (p[BN] % (16 * p[WARPS]) != 0 || p[BN] > 256)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "BLOCK_N %d over %d warps: BLOCK_N / WARPS must be a multiple of 16 "
                      "(at most 256 keys)",
                      p[BN], p[WARPS]);
    if (p[STAGES] < 2 || p[STAGES] > 4)
        return FA_ERR(err, FA_UNSUPPORTED, "STAGES must be 2, 3 or 4");
    if (p[SPLITS] < 0 || p[SPLITS] > FA_DECODE_MAX_SPLITS_COMBINE)
        return FA_ERR(err, FA_UNSUPPORTED, "splits must be 0 (auto) or 1..%d",
                      FA_DECODE_MAX_SPLITS_COMBINE);
    if (p[FUSE] != 0 && p[FUSE] != 1)
        return FA_ERR(err, FA_UNSUPPORTED, "fuse must be 0 or 1");
    if (p[FUSE] && p[SPLITS] == 1)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "a fused combine needs splits other than 1 (one split has no combine)");
    /* Pruned (see the top of this file): one CTA per group merges all the splits' partials,
     * so many splits make a long serial tail, where the combine kernel spreads the merge. */
    if (p[FUSE] && p[SPLITS] > FA_DECODE_MAX_FUSED_SPLITS)
        return FA_ERR(err, FA_UNSUPPORTED, "a fused combine takes at most %d explicit splits",
                      FA_DECODE_MAX_FUSED_SPLITS);
    /* The loader's passes: 32 * warps / (8 or 4 chunks) rows, a multiple of 8 dividing
     * BLOCK_N (always true once the rules above hold). */
    const int acc = p[BM] / 16 * (d / 8 + p[BN] / p[WARPS] / 8) * 4;
    if (acc > 192)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "O and S accumulators exceed 192 registers: %d per thread (O %d + S %d)", acc,
                      p[BM] / 16 * d / 2, p[BM] / 16 * p[BN] / p[WARPS] / 2);
    const int smem = smem_bytes(v);
    if (smem > 232448)
        return FA_ERR(err, FA_UNSUPPORTED, "shared memory exceeds 227 KB: %d bytes", smem);
    if (arch && smem > arch->smem_optin_max)
        return FA_ERR(err, FA_UNSUPPORTED, "needs %d bytes of shared memory, %s allows %d", smem,
                      arch->name, arch->smem_optin_max);
    return FA_OK;
}

/*
 * Search prior: the tiles that won on an H200 (bench/decode_check.cu, bench/results/) first,
 * auto splits before explicit ones, then configurations by their distance to the nearest seed.
 * hd -1: any head dim.
 */
typedef struct seed {
    int hd, bm, bn, warps, stages;
} seed;

static const seed seeds[] = {
    /* hd128: m16n64 won 8 of 11 shapes (s3 contiguous, s2 paged), 8 warps on 16/16 heads, m32
       for 32 packed rows (MQA, 64/8 heads with seqlen_q 4) */
    {128, 16, 64, 4, 3},
    {128, 16, 64, 4, 2},
    {128, 16, 128, 8, 3},
    {128, 32, 64, 4, 3},
    /* hd64: m16n128w4s3 (contiguous), m16n64w4s4 (paged), m32 for MQA with seqlen_q 4 */
    {64, 16, 128, 4, 3},
    {64, 16, 64, 4, 4},
    {64, 32, 128, 4, 3},
    /* hd256: 2 or 3 stages of 64 */
    {256, 16, 64, 4, 2},
    {256, 16, 64, 4, 3},
    /* other head dims: the hd128 tile */
    {-1, 16, 64, 4, 3},
};

static int ilog2(int x)
{
    int l = 0;
    while (x > 1)
        x >>= 1, l++;
    return l;
}

static int prior(const fa_variant *v)
{
    const int *p = v->params;
    int best = 1 << 20, rank = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        const seed *s = &seeds[i];
        if (s->hd >= 0 && s->hd != v->head_dim)
            continue;
        const int dist = abs(ilog2(p[BM]) - ilog2(s->bm)) * 2 + abs(ilog2(p[BN]) - ilog2(s->bn)) +
                         abs(ilog2(p[WARPS]) - ilog2(s->warps)) + abs(p[STAGES] - s->stages);
        const int score = dist ? 12 + 4 * dist : rank; /* the seeds themselves first, in order */
        if (score < best)
            best = score;
        rank++;
    }
    /* auto splits first; explicit ones by distance from 8 (what long caches wanted) */
    return 2 * best + (p[SPLITS] == 0 ? 0 : 1 + abs(ilog2(p[SPLITS]) - 3));
}

static fa_status plan(const fa_variant *v, const fa_shape *s, fa_plan *out, fa_err *err)
{
    const int *p = v->params;
    if (s->op != FA_OP_DECODE)
        return FA_ERR(err, FA_INVALID, "the splitkv family plans decode problems only");
    if (p[BM] < 16 || p[BN] < 16 || p[WARPS] < 1)
        return FA_ERR(err, FA_INVALID, "variant has block_m %d, block_n %d and %d warps", p[BM],
                      p[BN], p[WARPS]);
    if (s->head_dim != v->head_dim || s->seqlen_q < 1 || s->seqlen_k < 0 || s->batch < 1 ||
        s->heads_q < 1 || s->heads_kv < 1 || s->heads_q % s->heads_kv != 0)
        return FA_ERR(err, FA_INVALID, "shape does not fit the variant");
    const int mb = fa_plan_splitkv_mblocks(s->heads_q, s->heads_kv, s->seqlen_q, p[BM]);
    const uint64_t ctas = (uint64_t)mb * (uint64_t)s->batch * (uint64_t)s->heads_kv;
    const int splits =
        fa_plan_splitkv_splits(p[SPLITS], s->batch, s->heads_q, s->heads_kv, s->seqlen_q,
                               s->seqlen_k, p[BM], p[BN], s->multiprocessors);
    const uint64_t rows = (uint64_t)s->batch * (uint64_t)s->heads_q * (uint64_t)s->seqlen_q;
    const int fused = fa_plan_splitkv_fused(p[FUSE], splits, s->batch, s->heads_q, s->heads_kv,
                                            s->seqlen_q, p[BM]);
    if (ctas > 0x7fffffffu || splits > 65535 || rows / FA_DECODE_COMBINE_ROWS >= 0x7fffffffu)
        return FA_ERR(err, FA_INVALID, "shape needs more CTAs than a grid holds");
    memset(out, 0, sizeof *out);
    fa_launch *l = &out->launch[0];
    l->kernel = 0;
    l->grid[0] = (unsigned)ctas;
    l->grid[1] = (unsigned)splits;
    l->grid[2] = 1;
    l->block[0] = fa_plan_splitkv_threads(p[WARPS]);
    l->block[1] = l->block[2] = 1;
    l->cluster[0] = l->cluster[1] = l->cluster[2] = 1;
    l->smem = fa_plan_splitkv_smem(v->head_dim, p[BM], p[BN], p[WARPS], p[STAGES]);
    out->nlaunches = 1;
    if (splits > 1) {
        out->scratch_bytes =
            fa_plan_splitkv_scratch(splits, s->batch, s->heads_q, s->seqlen_q, v->head_dim);
        out->scratch_keep = 1; /* partials written before read; counters left zero */
    }
    if (splits > 1 && !fused) {
        fa_launch *c = &out->launch[1];
        c->kernel = 1;
        c->grid[0] = (unsigned)((rows + FA_DECODE_COMBINE_ROWS - 1) / FA_DECODE_COMBINE_ROWS);
        c->grid[1] = c->grid[2] = 1;
        c->block[0] = 32 * FA_DECODE_COMBINE_ROWS;
        c->block[1] = c->block[2] = 1;
        c->cluster[0] = c->cluster[1] = c->cluster[2] = 1;
        c->smem = 0;
        c->pdl = 1; /* scheduled while the split kernel runs (the template's design, 8.) */
        out->nlaunches = 2;
    }
    return FA_OK;
}

static fa_status args(const fa_variant *v, int k, const fa_args_in *in, void *buf, fa_err *err)
{
    if (k < 0 || k > 1)
        return FA_ERR(err, FA_INVALID, "the splitkv family has kernels 0 and 1, not %d", k);
    fa_decode_args a;
    memset(&a, 0, sizeof a);
    a.p = *in->base;
    a.scratch = in->scratch;
    /* The plan's rule with any split count above 1: the kernel reads the flag only when its
     * grid has more than one split. */
    a.fused = (uint32_t)fa_plan_splitkv_fused(v->params[FUSE], 2, a.p.batch, a.p.heads_q,
                                              a.p.heads_kv, a.p.seqlen_q, v->params[BM]);
    memcpy(buf, &a, sizeof a);
    return FA_OK;
}

const fa_family fa_family_splitkv_def = {
    .name = "splitkv",
    .ops = 1u << FA_OP_DECODE,
    .min_cc = 80,
    .max_cc = 90,
    .arch_specific = 0,
    .naxes = (int)(sizeof axes / sizeof axes[0]),
    .axes = axes,
    .tile_axes = {BN, SPLITS},
    .template_file = "decode/fa_decode_splitkv.cuh",
    .nkernels = 2,
    .kernels = kernels,
    .suffix = suffix,
    .parse_suffix = parse_suffix,
    .name_expr = name_expr,
    .check = check,
    .prior = prior,
    .threads = threads,
    .smem_bytes = smem_bytes,
    .plan = plan,
    .args = args,
};
