/*
 * This file implements the sm80 kernel family's host description (see fa_family.h): the
 * FA2-design forward kernel of templates/fa_fwd_sm80.cuh (mma.sync, cp.async pipeline), which
 * runs on sm80 through sm90.
 *
 * Axes (168 tile configurations per mode):
 *     block_m    64, 128                     query rows per CTA
 *     block_n    32, 48, 64, 80, 96, 112, 128 key columns per step
 *     warps      4, 8
 *     stages     1, 2, 3                     K/V pipeline depth
 *     q_in_regs  0, 1                        Q fragments held in registers
 * Name suffix: "m128n64w4s2q" (q present when Q is held in registers).
 * One launch per problem (templates/fa_plan_sm80.h); the argument is fa_fwd_params itself.
 */
#include "fa_family.h"
#include "fa_plan_sm80.h"

#include <stdio.h>
#include <string.h>

enum { BM, BN, WARPS, STAGES, QREGS };

static const fa_axis axes[] = {
    {"block_m", "BLOCK_M", 2, {64, 128}, "m", 0},
    {"block_n", "BLOCK_N", 7, {32, 48, 64, 80, 96, 112, 128}, "n", 0},
    {"warps", "warps", 2, {4, 8}, "w", 0},
    {"stages", "stages", 3, {1, 2, 3}, "s", 0},
    {"q_in_regs", "Q in registers", 2, {0, 1}, "q", 0},
};

static const fa_kernel kernels[] = {{"main", sizeof(fa_fwd_params)}};

static void suffix(const fa_variant *v, char *buf, size_t n)
{
    const int *p = v->params;
    snprintf(buf, n, "m%dn%dw%ds%d%s", p[BM], p[BN], p[WARPS], p[STAGES], p[QREGS] ? "q" : "");
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
        (p[STAGES] = read_int(&s)) <= 0)
        return -1;
    p[QREGS] = *s == 'q';
    s += p[QREGS];
    return *s ? -1 : 0;
}

static void name_expr(const fa_variant *v, int k, char *buf, size_t n)
{
    const int *p = v->params;
    (void)k;
    snprintf(buf, n, "fa_fwd_sm80<%s, %d, %d, %d, %d, %d, %s, %s, %s>",
             v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim, p[BM], p[BN],
             p[WARPS], p[STAGES], p[QREGS] ? "true" : "false", v->causal ? "true" : "false",
             v->varlen ? "true" : "false");
}

static int threads(const fa_variant *v)
{
    return (int)fa_plan_sm80_threads(v->params[WARPS]);
}

static int smem_bytes(const fa_variant *v)
{
    const int *p = v->params;
    return (int)fa_plan_sm80_smem(v->head_dim, p[BM], p[BN], p[STAGES]);
}

static fa_status check(const fa_variant *v, const fa_arch *arch, fa_err *err)
{
    const int *p = v->params;
    if (p[WARPS] != 4 && p[WARPS] != 8)
        return FA_ERR(err, FA_UNSUPPORTED, "warps must be 4 or 8");
    if (p[BM] % (16 * p[WARPS]) != 0)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "BLOCK_M %d gives %d rows per warp, not a multiple of 16", p[BM],
                      p[BM] / p[WARPS]);
    if (p[BN] % 16 != 0 || p[BN] < 16 || p[BN] > 256)
        return FA_ERR(err, FA_UNSUPPORTED, "BLOCK_N must be a multiple of 16 in [16, 256]");
    if (p[STAGES] < 1 || p[STAGES] > 3)
        return FA_ERR(err, FA_UNSUPPORTED, "stages must be 1, 2 or 3");
    int smem = smem_bytes(v);
    if (arch && smem > arch->smem_optin_max)
        return FA_ERR(err, FA_UNSUPPORTED, "needs %d bytes of shared memory, %s allows %d", smem,
                      arch->name, arch->smem_optin_max);
    /* A lower bound on registers per thread: fp32 accumulators of O (rows_per_warp*D/32)
     * and S (rows_per_warp*BLOCK_N/32), Q fragments (rows_per_warp*D/64) when held in
     * registers, and a few for addresses and softmax state. Past 255 the kernel cannot avoid
     * spilling, so it is rejected before compiling; variants near the limit are compiled and
     * rejected afterwards only if ptxas reports spills (the sweep records those). */
    int rows = p[BM] / p[WARPS];
    int regs =
        rows * v->head_dim / 32 + rows * p[BN] / 32 + (p[QREGS] ? rows * v->head_dim / 64 : 0) + 16;
    if (regs > 255)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "needs about %d registers per thread for accumulators (limit 255)", regs);
    return FA_OK;
}

/* FlashAttention-2's tiles (16 or 32 query rows per warp, 64..128 key columns, one or two
 * stages) won every hd64/hd128 problem on the H100 and most at hd256, so they set a tight
 * bound early. */
static int prior(const fa_variant *v)
{
    const int *p = v->params;
    const int rows_per_warp = p[WARPS] > 0 ? p[BM] / p[WARPS] : 0;
    return (rows_per_warp == 32   ? 0
            : rows_per_warp == 16 ? 1
                                  : 3) +
           (p[BN] >= 64 && p[BN] <= 128 ? 0 : 2) + (p[STAGES] <= 2 ? 0 : 1);
}

static fa_status plan(const fa_variant *v, const fa_shape *s, fa_plan *out, fa_err *err)
{
    const int *p = v->params;
    if (s->op != FA_OP_FWD || p[BM] < 1 || p[WARPS] < 1)
        return FA_ERR(err, FA_INVALID, "variant has block_m %d and %d warps", p[BM], p[WARPS]);
    memset(out, 0, sizeof *out);
    out->nlaunches = 1;
    fa_launch *l = &out->launch[0];
    fa_plan_sm80_grid(s->seqlen_q, s->heads_q, s->batch, p[BM], l->grid);
    l->block[0] = fa_plan_sm80_threads(p[WARPS]);
    l->block[1] = l->block[2] = 1;
    l->cluster[0] = l->cluster[1] = l->cluster[2] = 1;
    l->smem = fa_plan_sm80_smem(v->head_dim, p[BM], p[BN], p[STAGES]);
    return FA_OK;
}

static fa_status args(const fa_variant *v, int k, const fa_args_in *in, void *buf, fa_err *err)
{
    (void)v;
    (void)k;
    (void)err;
    memcpy(buf, in->base, sizeof *in->base);
    return FA_OK;
}

const fa_family fa_family_sm80_def = {
    .name = "sm80",
    .ops = 1u << FA_OP_FWD,
    .min_cc = 80,
    .max_cc = 90,
    .arch_specific = 0,
    .naxes = (int)(sizeof axes / sizeof axes[0]),
    .axes = axes,
    .tile_axes = {BM, BN},
    .template_file = "fa_fwd_sm80.cuh",
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
