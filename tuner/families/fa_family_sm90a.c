/*
 * This file implements the sm90a kernel family's host description (see fa_family.h): the
 * Hopper forward kernel of templates/sm90a/fa_fwd_sm90a.cuh (wgmma + TMA, warp-specialized
 * producer, setmaxnreg, FlashAttention-3 class), compiled for sm_90a and run on cc 90 only.
 *
 * Axes (3 x 11 x 3 x 2 x 2 x 2 x 2 x 2 = 3168 configurations per mode before legality):
 *     block_m     64, 128, 192      query rows per CTA = 64 x consumer warpgroups (1, 2, 3);
 *                                   64 only with two blocks a multiprocessor (ctas 2)
 *     block_n     64, 80, ..., 224  key columns per step (step 16)
 *     stages      2, 3, 4           K/V ring depth
 *     overlap     0, 1              intra-warpgroup overlap (QK^T of n+1 before softmax of n)
 *     pingpong    0, 1              consumer warpgroups take turns at the tensor cores
 *     persistent  0, 1              one block per multiprocessor looping over tiles
 *     pack_gqa    0, 1              PackGQA: a tile holds the query heads of one KV head
 *                                   (kernel fa_fwd_sm90a_pack_gqa; fa_plan_sm90a.h)
 *     ctas        1, 2              blocks a multiprocessor (fa_plan_sm90a.h): 2 hides one
 *                                   block's latency behind the other's wgmmas on short
 *                                   launches; 1 consumer warpgroup with 232 registers or 2
 *                                   with 104, not persistent, at most 113 KB of shared memory
 * Name suffix: "m192n128s2" then, in this order, "ov" (overlap), "pp" (pingpong), "pe"
 * (persistent), "pg" (pack_gqa), "x2" (ctas 2), e.g. fwd_sm90a_hd256_bf16_causal_m128n80s2ovpe
 * or fwd_sm90a_hd64_bf16_causal_m128n64s2x2.
 *
 * PackGQA is for short seqlen_q with GQA/MQA (decode-like prefill): with g = heads_q /
 * heads_kv, a tile is BLOCK_M / g tokens x g query heads, so each K/V block is loaded once per
 * KV head instead of g times, and a short seqlen_q still fills the tile's rows. It is legal in
 * every mode (fixed length and varlen, causal, any layout) but only with 2 stages and without
 * pingpong (check(): the space grows by about a sixth); the tuner measures it against the
 * plain tiles. Which shapes it serves is the plan's: g <= BLOCK_M, else FA_INVALID; g = 1 is
 * the plain kernel's work through a 5-d Q map.
 *
 * Legality is the template's static_assert model (FlashAttention's feasibility model,
 * KERNELS.md item 9): head dims 32, 64, 96, 128, 192, 256 (32 and 96 stored as 64 and 128
 * columns: shared memory counts the padded dim, registers the real one); accumulator
 * registers S + O (+ P with overlap) = BLOCK_N/2 + D/2 (+ BLOCK_N/4) within 216 with 2
 * consumer warpgroups (240 - 24 after setmaxnreg) or 128 with 3 (160 - 32); Q + stages x
 * (K + V) within 224 KB. Legal per mode (bf16 non-causal): 424 at hd64, 204 at hd128, 16 at
 * hd256. NVRTC (CUDA 13.0) compiles all 644 of those; 8 spill (overlap + pingpong at the
 * register edge: hd128 128x192, hd64 192x128), which the tuner's spill rule makes
 * ineligible (counts before PackGQA; with it and two blocks a multiprocessor, the x2 rules of
 * check(): 562 at hd64, 262 at hd128, 24 at hd256; the x2 ones compile without spilling, see
 * fa_plan_sm90a.h). Every mode: fixed length and varlen (packed sequences, cu_seqlens; ragged
 * tensor maps, see args()), causal bottom-right, GQA/MQA, any strides that are multiples of
 * 16 bytes (packed QKV/KV).
 *
 * One launch per problem (templates/sm90a/fa_plan_sm90a.h): a 1-d grid of tiles (persistent:
 * at most one block per multiprocessor), 128 x (warpgroups + 1) threads, no cluster. The
 * argument is fa::sm90a_args: fa_fwd_params and the Q, K, V tensor maps, which the launcher
 * encodes through fa_arg_services.encode_tiled.
 */
#include "fa_family.h"
#include "sm90a/fa_plan_sm90a.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BM, BN, STAGES, OV, PP, PE, PG, CTAS };

static const fa_axis axes[] = {
    {"block_m", "BLOCK_M = 64 x consumer warpgroups", 3, {64, 128, 192}, "m", 0},
    {"block_n", "BLOCK_N", 11, {64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224}, "n", 0},
    {"stages", "stages", 3, {2, 3, 4}, "s", 1}, /* behind the stage gate (fa_axis.depth) */
    {"overlap", "overlap", 2, {0, 1}, "ov", 0},
    {"pingpong", "pingpong", 2, {0, 1}, "pp", 1}, /* behind the stage gate too */
    {"persistent", "persistent", 2, {0, 1}, "pe", 0},
    {"pack_gqa", "PackGQA", 2, {0, 1}, "pg", 0},
    {"ctas", "blocks per multiprocessor", 2, {1, 2}, "x", 0},
};

static const fa_kernel kernels[] = {{"main", FA_SM90A_ARGS_BYTES}};

static int cwg(const fa_variant *v)
{
    return v->params[BM] / 64;
}

static void suffix(const fa_variant *v, char *buf, size_t n)
{
    const int *p = v->params;
    snprintf(buf, n, "m%dn%ds%d%s%s%s%s%s", p[BM], p[BN], p[STAGES], p[OV] ? "ov" : "",
             p[PP] ? "pp" : "", p[PE] ? "pe" : "", p[PG] ? "pg" : "", p[CTAS] == 2 ? "x2" : "");
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

/* Consumes flag at *s if it is there. */
static int flag(const char **s, const char *flag)
{
    size_t n = strlen(flag);
    if (strncmp(*s, flag, n) != 0)
        return 0;
    *s += n;
    return 1;
}

static int parse_suffix(const char *s, int *p)
{
    if (*s++ != 'm' || (p[BM] = read_int(&s)) <= 0 || *s++ != 'n' || (p[BN] = read_int(&s)) <= 0 ||
        *s++ != 's' || (p[STAGES] = read_int(&s)) <= 0)
        return -1;
    p[OV] = flag(&s, "ov");
    p[PP] = flag(&s, "pp");
    p[PE] = flag(&s, "pe");
    p[PG] = flag(&s, "pg");
    p[CTAS] = flag(&s, "x2") ? 2 : 1;
    return *s ? -1 : 0;
}

static void name_expr(const fa_variant *v, int k, char *buf, size_t n)
{
    const int *p = v->params;
    (void)k;
    snprintf(buf, n, "fa_fwd_sm90a%s%s<%s, %d, %d, %d, %d, %s, %s, %s, %s, %s>",
             p[PG] ? "_pack_gqa" : "", p[CTAS] == 2 ? "_x2" : "",
             v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim, p[BN], cwg(v),
             p[STAGES], v->causal ? "true" : "false", p[OV] ? "true" : "false",
             p[PP] ? "true" : "false", p[PE] ? "true" : "false", v->varlen ? "true" : "false");
}

static int threads(const fa_variant *v)
{
    return (int)fa_plan_sm90a_threads(cwg(v));
}

static int smem_bytes(const fa_variant *v)
{
    const int *p = v->params;
    return (int)fa_plan_sm90a_smem(v->head_dim, cwg(v), p[BN], p[STAGES], p[PE]);
}

static fa_status check(const fa_variant *v, const fa_arch *arch, fa_err *err)
{
    const int *p = v->params;
    const int d = v->head_dim;
    if (v->op != FA_OP_FWD)
        return FA_ERR(err, FA_UNSUPPORTED, "the sm90a family serves the forward op only");
    if (d != 32 && d != 64 && d != 96 && d != 128 && d != 192 && d != 256)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "head dim %d: sm90a supports 32, 64, 96, 128, 192 and 256", d);
    if (p[BM] != 64 && p[BM] != 128 && p[BM] != 192)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "BLOCK_M %d: must be 64, 128 or 192 (1, 2 or 3 consumer warpgroups of 64 "
                      "rows)",
                      p[BM]);
    if (p[BN] % 16 != 0 || p[BN] < 16 || p[BN] > 256)
        return FA_ERR(err, FA_UNSUPPORTED, "BLOCK_N must be a multiple of 16 in [16, 256]");
    if (p[STAGES] < 1 || p[STAGES] > 4)
        return FA_ERR(err, FA_UNSUPPORTED, "stages must be 1..4");
    for (int i = OV; i <= PG; i++)
        if (p[i] != 0 && p[i] != 1)
            return FA_ERR(err, FA_UNSUPPORTED, "%s must be 0 or 1", axes[i].key);
    if (p[CTAS] != 1 && p[CTAS] != 2)
        return FA_ERR(err, FA_UNSUPPORTED, "ctas must be 1 or 2");
    if (cwg(v) == 1 && (p[CTAS] != 2 || p[PP] || d > 128))
        return FA_ERR(err, FA_UNSUPPORTED,
                      "BLOCK_M 64 (one consumer warpgroup) runs two blocks a multiprocessor "
                      "(x2), without pingpong, at head dims up to 128");
    if (p[CTAS] == 2 && (cwg(v) == 3 || p[PE]))
        return FA_ERR(err, FA_UNSUPPORTED,
                      "two blocks a multiprocessor run with 1 or 2 consumer warpgroups (BLOCK_M "
                      "64 or 128), not persistent");
    if (cwg(v) == 3 && p[BN] > FA_SM90A_3WG_MAX_BLOCK_N)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "3 consumer warpgroups take BLOCK_N at most %d (ptxas cannot fit a wider "
                      "QK^T wgmma in their 128 registers)",
                      FA_SM90A_3WG_MAX_BLOCK_N);
    if (p[CTAS] == 2 && cwg(v) == 2 && p[BN] > FA_SM90A_2CTAS_MAX_BLOCK_N)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "two blocks a multiprocessor of 2 consumer warpgroups take BLOCK_N at most "
                      "%d",
                      FA_SM90A_2CTAS_MAX_BLOCK_N);
    /* The template's static_asserts, in the same words. */
    const int budget = FA_SM90A_ACC_BUDGET(cwg(v), p[CTAS]);
    const int acc = p[BN] / 2 + d / 2 + (p[OV] ? p[BN] / 4 : 0);
    if (acc > budget)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "accumulators need %d registers per thread (S %d + O %d%s), %d consumer "
                      "warpgroups allow %d%s",
                      acc, p[BN] / 2, d / 2, p[OV] ? " + P with overlap" : "", cwg(v), budget,
                      p[CTAS] == 2 ? " with two blocks a multiprocessor" : "");
    const int tiles = (p[BM] + 2 * p[STAGES] * p[BN]) * FA_SM90A_DPAD(d) * 2;
    if (tiles > 224 * 1024)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "Q + %d stages of K and V need %d bytes of shared memory, over 224 KB",
                      p[STAGES], tiles);
    if (p[CTAS] == 2 && smem_bytes(v) > FA_SM90A_SMEM_2CTAS)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "two blocks a multiprocessor need at most 113 KB (%d bytes) of shared memory "
                      "each, this one needs %d",
                      FA_SM90A_SMEM_2CTAS, smem_bytes(v));
    /* PackGQA serves short seqlen_q, where pingpong loses (v1) and 2 stages won every measured
       shape: only those, so the space grows by a sixth, not by half. */
    if (p[PG] && (p[PP] || p[STAGES] != 2))
        return FA_ERR(err, FA_UNSUPPORTED,
                      "pack_gqa runs with 2 stages and without pingpong (the tuned subspace)");
    if (arch) {
        if (arch->cc != 90)
            return FA_ERR(err, FA_UNSUPPORTED,
                          "the sm90a family runs on Hopper (cc 90) only, "
                          "not %s",
                          arch->name);
        if (smem_bytes(v) > arch->smem_optin_max)
            return FA_ERR(err, FA_UNSUPPORTED, "needs %d bytes of shared memory, %s allows %d",
                          smem_bytes(v), arch->name, arch->smem_optin_max);
    }
    return FA_OK;
}

/*
 * Search prior: the winners measured on an H200 (bench/results/2026-12-03_h200_sm90a_v3 and
 * _v3_tiles, FlashAttention's grid, bf16) first, in their order, then configurations by their
 * distance to the nearest one. causal -1: either; varlen_only 1: varlen variants alone.
 */
typedef struct seed {
    int hd, causal, bm, bn, stages, ov, pp, pe, pg, varlen_only;
    int ctas;
} seed;

static const seed seeds[] = {
    /* hd128: 3 warpgroups without overlap won N >= 1k (609-644), persistent at short N */
    {128, 0, 192, 128, 2, 0, 0, 1, 0, 0, 1},
    {128, 0, 192, 128, 2, 0, 0, 0, 0, 0, 1},
    {128, 0, 128, 176, 2, 1, 0, 1, 0, 0, 1},
    {128, 0, 128, 128, 2, 1, 0, 0, 0, 0, 1},
    {128, 1, 192, 96, 2, 0, 0, 1, 0, 0, 1},
    {128, 1, 192, 128, 2, 0, 0, 1, 0, 0, 1},
    {128, 1, 128, 128, 2, 1, 0, 1, 0, 0, 1},
    /* hd128 varlen at N <= 4k: 192x80 with overlap won exhaustive's sweep (session 5, 2-3.3%
     * ahead of halving's, which never compiled them: 8 or more steps from the seeds above put
     * them past the first quarter that --explore 0.25 compiles) -- with pingpong, or PackGQA
     * for causal GQA */
    {128, -1, 192, 80, 2, 1, 1, 0, 0, 1, 1},
    {128, -1, 192, 80, 2, 1, 0, 0, 1, 1, 1},
    /* hd128 causal varlen GQA 4: 128x192 PackGQA, overlap, persistent won 2k and 4k on an H100,
     * by 4.4-4.8% at 2k, where halving had never compiled it (5 BLOCK_N steps and block_m
     * from every explored leader); with this seed and every GQA ratio ranked it finds it
     * (bench/results/2026-12-07_session28, calls 4-7) */
    {128, 1, 128, 192, 2, 1, 0, 1, 1, 1, 1},
    /* hd256: 2 warpgroups, 128x80 with overlap (658-676); 128x64 for short causal */
    {256, 0, 128, 80, 2, 1, 0, 0, 0, 0, 1},
    {256, 0, 128, 80, 2, 1, 0, 1, 0, 0, 1},
    {256, 0, 128, 64, 2, 0, 0, 0, 0, 0, 1},
    {256, 1, 128, 80, 2, 1, 0, 1, 0, 0, 1},
    {256, 1, 128, 80, 2, 1, 1, 0, 0, 0, 1},
    {256, 1, 128, 64, 2, 1, 0, 0, 0, 0, 1},
    /* hd64: 3 warpgroups 192x128 with overlap, 192x192 without (473-510); causal 128x128 */
    {64, 0, 192, 128, 2, 1, 0, 1, 0, 0, 1},
    {64, 0, 192, 192, 2, 0, 0, 1, 0, 0, 1},
    {64, 1, 128, 128, 2, 1, 0, 1, 0, 0, 1},
    {64, 1, 192, 128, 2, 1, 0, 1, 0, 0, 1},
    /* two blocks a multiprocessor, for the short causal shapes, where one block a
     * multiprocessor mostly waits (session 9: hd64 at 0.89 of cuDNN at N = 512): hd64 128-row
     * tiles within 104 registers (128x80 won hd64 causal 2k in session 11, 363 TFLOP/s), and
     * 64-row tiles of one consumer warpgroup (232 registers) with overlap at hd64 and hd128 */
    {64, 1, 128, 80, 2, 0, 0, 0, 0, 0, 2},
    {64, 1, 128, 64, 2, 0, 0, 0, 0, 0, 2},
    {64, 0, 128, 64, 3, 0, 0, 0, 0, 0, 2},
    {64, 1, 64, 128, 2, 1, 0, 0, 0, 0, 2},
    {128, 1, 64, 80, 2, 1, 0, 0, 0, 0, 2},
    /* hd192: not timed; the checked coverage tile, between the hd128 and hd256 winners */
    {192, -1, 128, 112, 2, 1, 0, 0, 0, 0, 1},
    {192, -1, 128, 96, 2, 1, 0, 1, 0, 0, 1},
};

static int prior(const fa_variant *v)
{
    const int *p = v->params;
    int best = 1 << 20, rank = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        const seed *s = &seeds[i];
        if (s->hd != v->head_dim || (s->causal >= 0 && s->causal != v->causal) ||
            (s->varlen_only && !v->varlen))
            continue;
        int dist = abs(p[BN] - s->bn) / 16 + 3 * (p[BM] != s->bm) + 2 * (p[STAGES] != s->stages) +
                   2 * (p[OV] != s->ov) + 2 * (p[PP] != s->pp) + (p[PE] != s->pe) +
                   (p[PG] != s->pg) + 2 * (p[CTAS] != s->ctas);
        int score = dist ? 8 + 4 * dist : rank; /* the seeds themselves first, in order */
        if (score < best)
            best = score;
        rank++;
    }
    return best == 1 << 20 ? 8 : best;
}

static fa_status plan(const fa_variant *v, const fa_shape *s, fa_plan *out, fa_err *err)
{
    const int *p = v->params;
    if (s->op != FA_OP_FWD)
        return FA_ERR(err, FA_INVALID, "the sm90a family plans forward problems only");
    if (p[BM] != 64 && p[BM] != 128 && p[BM] != 192)
        return FA_ERR(err, FA_INVALID, "variant has block_m %d", p[BM]);
    if (s->head_dim != v->head_dim || s->seqlen_q < 1 || s->seqlen_k < 1 || s->batch < 1 ||
        s->heads_q < 1 || s->heads_kv < 1 || s->heads_q % s->heads_kv != 0)
        return FA_ERR(err, FA_INVALID, "shape does not fit the variant");
    memset(out, 0, sizeof *out);
    out->nlaunches = 1;
    fa_launch *l = &out->launch[0];
    if (p[PG] && fa_plan_sm90a_pack_tokens(p[BM], s->heads_q, s->heads_kv) < 1)
        return FA_ERR(err, FA_INVALID,
                      "pack_gqa: %d query heads per kv head do not fit a tile of %d rows",
                      s->heads_q / s->heads_kv, p[BM]);
    l->grid[0] = fa_plan_sm90a_grid_gqa(s->seqlen_q, s->heads_q, s->heads_kv, s->batch, cwg(v),
                                        p[PE], p[PG], s->multiprocessors);
    l->grid[1] = l->grid[2] = 1;
    l->block[0] = fa_plan_sm90a_threads(cwg(v));
    l->block[1] = l->block[2] = 1;
    l->cluster[0] = l->cluster[1] = l->cluster[2] = 1;
    l->smem = fa_plan_sm90a_smem(v->head_dim, cwg(v), p[BN], p[STAGES], p[PE]);
    return FA_OK;
}

/* The Q, K, V tensor maps as the kernel reads them (fa_plan_sm90a_tmaps, shared with the
 * emitted header's launcher; bench/sm90a_check.cu's make_tmap; harness/fa_tmap.c). */
static fa_status args(const fa_variant *v, int k, const fa_args_in *in, void *buf, fa_err *err)
{
    const fa_fwd_params *b = in->base;
    (void)k;
    if (!in->svc || !in->svc->encode_tiled)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "the sm90a family needs a tensor-map encoder (cuTensorMapEncodeTiled)");
    unsigned char *out = buf;
    memset(out, 0, FA_SM90A_ARGS_BYTES);
    memcpy(out, b, sizeof *b);
    fa_sm90a_tmap_desc t[3];
    if (v->varlen && (!b->cu_seqlens_q || !b->cu_seqlens_k))
        return FA_ERR(err, FA_INVALID, "a varlen variant needs cu_seqlens_q and cu_seqlens_k");
    if (v->params[PG] && fa_plan_sm90a_pack_tokens(v->params[BM], b->heads_q, b->heads_kv) < 1)
        return FA_ERR(err, FA_INVALID,
                      "pack_gqa: %d query heads and %d kv heads do not pack into %d-row tiles",
                      b->heads_q, b->heads_kv, v->params[BM]);
    fa_plan_sm90a_tmaps_gqa(b, v->params[BM], v->params[BN], v->varlen, v->params[PG], t);
    for (int i = 0; i < 3; i++) {
        fa_tma_desc d;
        memset(&d, 0, sizeof d);
        d.dtype = v->dtype;
        d.rank = t[i].rank;
        d.base = t[i].base;
        memcpy(d.dims, t[i].dims, sizeof t[i].dims);
        memcpy(d.strides, t[i].strides, sizeof t[i].strides);
        memcpy(d.box, t[i].box, sizeof t[i].box);
        d.swizzle = FA_SM90A_TMAP_SWIZZLE_BYTES;
        d.l2_promotion = FA_SM90A_TMAP_L2_PROMOTION_BYTES;
        fa_status st = in->svc->encode_tiled(in->svc->ctx, &d, out + FA_SM90A_TMAP_OFFSET(i), err);
        if (st != FA_OK)
            return st;
    }
    return FA_OK;
}

const fa_family fa_family_sm90a_def = {
    .name = "sm90a",
    .ops = 1u << FA_OP_FWD,
    .min_cc = 90,
    .max_cc = 90,
    .arch_specific = 1,
    .naxes = (int)(sizeof axes / sizeof axes[0]),
    .axes = axes,
    .tile_axes = {BM, BN},
    .template_file = "sm90a/fa_fwd_sm90a.cuh",
    .nkernels = 1,
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
