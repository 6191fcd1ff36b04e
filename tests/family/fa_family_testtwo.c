/*
 * This file implements "testtwo", a kernel family made only for the tests of the family seam
 * (tests/family/test_family.sh): different axes, its own legality model and a launch plan of
 * two launches (split, then combine) sharing scratch. It is registered through the registry's
 * one line (tuner/families/fa_families.c, under FA_FAMILY_TESTTWO) in the test build
 * fa-tune-testtwo only. Its template is tests/family/templates/fa_fwd_testtwo.cuh.
 *
 * Axes (12 per mode): tile 64, 128 (query rows per CTA); splits 1, 2, 4 (KV splits); lanes
 * 64, 256 (threads per CTA). Legal: lanes >= tile, and tile * splits <= 256.
 * Name suffix: "t64k2l64".
 */
#include "fa_family.h"

#include <stdio.h>
#include <string.h>

enum { TILE, SPLITS, LANES };

static const fa_axis axes[] = {
    {"tile", "TILE", 2, {64, 128}, "t", 0},
    {"splits", "splits", 3, {1, 2, 4}, "k", 0},
    {"lanes", "lanes", 2, {64, 256}, "l", 0},
};

/* fa_testtwo_args of the template: fa_fwd_params, the scratch pointer, splits and a pad. */
typedef struct testtwo_args {
    fa_fwd_params p;
    uint64_t scratch;
    int32_t splits, pad;
} testtwo_args;
_Static_assert(sizeof(testtwo_args) == FA_FWD_PARAMS_SIZE + 16, "testtwo_args drifted");

static const fa_kernel kernels[] = {{"split", sizeof(testtwo_args)},
                                    {"combine", sizeof(testtwo_args)}};

static void suffix(const fa_variant *v, char *buf, size_t n)
{
    snprintf(buf, n, "t%dk%dl%d", v->params[TILE], v->params[SPLITS], v->params[LANES]);
}

static int parse_suffix(const char *s, int *p)
{
    int used = 0;
    if (sscanf(s, "t%dk%dl%d%n", &p[TILE], &p[SPLITS], &p[LANES], &used) != 3 || s[used])
        return -1;
    return 0;
}

static void name_expr(const fa_variant *v, int k, char *buf, size_t n)
{
    const char *t = v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half";
    const char *c = v->causal ? "true" : "false", *vl = v->varlen ? "true" : "false";
    if (k == 0)
        snprintf(buf, n, "fa_testtwo_split<%s, %d, %d, %d, %d, %s, %s>", t, v->head_dim,
                 v->params[TILE], v->params[SPLITS], v->params[LANES], c, vl);
    else
        snprintf(buf, n, "fa_testtwo_combine<%s, %d, %d, %s, %s>", t, v->head_dim,
                 v->params[SPLITS], c, vl);
}

static fa_status check(const fa_variant *v, const fa_arch *arch, fa_err *err)
{
    (void)arch;
    if (v->params[LANES] < v->params[TILE])
        return FA_ERR(err, FA_UNSUPPORTED, "testtwo: %d lanes cannot cover a %d-row tile",
                      v->params[LANES], v->params[TILE]);
    if (v->params[TILE] * v->params[SPLITS] > 256)
        return FA_ERR(err, FA_UNSUPPORTED, "testtwo: tile %d x %d splits exceeds 256",
                      v->params[TILE], v->params[SPLITS]);
    return FA_OK;
}

static int prior(const fa_variant *v)
{
    return v->params[SPLITS];
}

static int threads(const fa_variant *v)
{
    return v->params[LANES];
}

static int smem_bytes(const fa_variant *v)
{
    (void)v;
    return 0;
}

static fa_status plan(const fa_variant *v, const fa_shape *s, fa_plan *out, fa_err *err)
{
    if (s->op != FA_OP_FWD)
        return FA_ERR(err, FA_INVALID, "testtwo serves fwd only");
    const int tile = v->params[TILE], splits = v->params[SPLITS];
    memset(out, 0, sizeof *out);
    out->nlaunches = 2;
    fa_launch *a = &out->launch[0], *b = &out->launch[1];
    a->kernel = 0;
    a->grid[0] = (unsigned)((s->seqlen_q + tile - 1) / tile);
    a->grid[1] = (unsigned)s->heads_q;
    a->grid[2] = (unsigned)(s->batch * splits);
    a->block[0] = (unsigned)v->params[LANES];
    b->kernel = 1;
    b->grid[0] = (unsigned)((s->seqlen_q + 127) / 128);
    b->grid[1] = (unsigned)s->heads_q;
    b->grid[2] = (unsigned)s->batch;
    b->block[0] = 128;
    for (int i = 0; i < 2; i++) {
        out->launch[i].block[1] = out->launch[i].block[2] = 1;
        out->launch[i].cluster[0] = out->launch[i].cluster[1] = out->launch[i].cluster[2] = 1;
    }
    out->scratch_bytes = (uint64_t)splits * (uint64_t)s->batch * (uint64_t)s->heads_q *
                         (uint64_t)s->seqlen_q * sizeof(float);
    return FA_OK;
}

static fa_status args(const fa_variant *v, int k, const fa_args_in *in, void *buf, fa_err *err)
{
    (void)k;
    (void)err;
    testtwo_args a;
    memset(&a, 0, sizeof a);
    a.p = *in->base;
    a.scratch = in->scratch;
    a.splits = v->params[SPLITS];
    memcpy(buf, &a, sizeof a);
    return FA_OK;
}

const fa_family fa_family_testtwo_def = {
    .name = "testtwo",
    .ops = 1u << FA_OP_FWD,
    .min_cc = 80,
    .max_cc = 90,
    .naxes = 3,
    .axes = axes,
    .tile_axes = {TILE, SPLITS},
    .template_file = "fa_fwd_testtwo.cuh",
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
