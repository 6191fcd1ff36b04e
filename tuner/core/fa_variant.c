/* This file implements variant names, name expressions, the arch table and the static
 * legality model of the sm80 kernel family (see fa_variant.h). */
#include "fa_variant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_params.h"

/* Opt-in shared memory per block: 163 KB on A100, 99 KB on sm86/89, 227 KB on H100. */
const fa_arch fa_archs[] = {
    {"sm80", 80, "sm_80", 166912, 65536},   {"sm86", 86, "sm_86", 101376, 65536},
    {"sm89", 89, "sm_89", 101376, 65536},   {"sm90", 90, "sm_90", 232448, 65536},
    {"sm90a", 90, "sm_90a", 232448, 65536}, {NULL, 0, NULL, 0, 0},
};

const fa_arch *fa_arch_find(const char *name)
{
    for (const fa_arch *a = fa_archs; name && a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

const fa_arch *fa_arch_from_cc(int cc)
{
    for (const fa_arch *a = fa_archs; a->name; a++)
        if (a->cc == cc)
            return a; /* first match: sm90 before sm90a */
    return NULL;
}

const char *fa_arch_list(void)
{
    return "sm80, sm86, sm89, sm90, sm90a";
}

const int fa_head_dims[] = {32, 64, 96, 128, 192, 256};
const int fa_num_head_dims = (int)(sizeof fa_head_dims / sizeof fa_head_dims[0]);

int fa_head_dim_supported(int d)
{
    for (int i = 0; i < fa_num_head_dims; i++)
        if (fa_head_dims[i] == d)
            return 1;
    return 0;
}

const char *fa_head_dim_list(void)
{
    return "32, 64, 96, 128, 192, 256";
}

const char *fa_dtype_name(fa_dtype t)
{
    return t == FA_DTYPE_BF16 ? "bf16" : "fp16";
}

fa_status fa_dtype_parse(const char *s, fa_dtype *out)
{
    if (!s)
        return FA_INVALID;
    if (!strcmp(s, "fp16") || !strcmp(s, "float16") || !strcmp(s, "half")) {
        *out = FA_DTYPE_FP16;
        return FA_OK;
    }
    if (!strcmp(s, "bf16") || !strcmp(s, "bfloat16")) {
        *out = FA_DTYPE_BF16;
        return FA_OK;
    }
    return FA_INVALID;
}

void fa_variant_name(const fa_variant *v, char *buf, size_t n)
{
    snprintf(buf, n, "fwd_sm80_hd%d_%s%s%s_m%dn%dw%ds%d%s", v->head_dim, fa_dtype_name(v->dtype),
             v->causal ? "_causal" : "", v->varlen ? "_varlen" : "", v->block_m, v->block_n,
             v->warps, v->stages, v->q_in_regs ? "q" : "");
}

/* Reads a decimal integer at *p, advancing it; -1 if none. */
static int read_int(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    long x = 0;
    while (*s >= '0' && *s <= '9' && x < 100000)
        x = x * 10 + (*s++ - '0');
    *p = s;
    return (int)x;
}

static int eat(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n) != 0)
        return 0;
    *p += n;
    return 1;
}

fa_status fa_variant_parse(const char *name, fa_variant *out, fa_err *err)
{
    fa_variant v = {0};
    const char *p = name;
    if (!p || !eat(&p, "fwd_sm80_hd"))
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': expected it to start 'fwd_sm80_hd'",
                      name ? name : "");
    v.family = FA_FAMILY_SM80;
    v.head_dim = read_int(&p);
    if (!fa_head_dim_supported(v.head_dim))
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': head dim must be one of %s", name,
                      fa_head_dim_list());
    if (eat(&p, "_bf16"))
        v.dtype = FA_DTYPE_BF16;
    else if (eat(&p, "_fp16"))
        v.dtype = FA_DTYPE_FP16;
    else
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': dtype must be fp16 or bf16", name);
    v.causal = eat(&p, "_causal");
    v.varlen = eat(&p, "_varlen");
    if (!eat(&p, "_m") || (v.block_m = read_int(&p)) <= 0 || !eat(&p, "n") ||
        (v.block_n = read_int(&p)) <= 0 || !eat(&p, "w") || (v.warps = read_int(&p)) <= 0 ||
        !eat(&p, "s") || (v.stages = read_int(&p)) <= 0)
        return FA_ERR(err, FA_INVALID,
                      "bad variant name '%s': expected tiles like '_m128n64w4s2' after the mode",
                      name);
    v.q_in_regs = eat(&p, "q");
    if (*p)
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': unexpected '%s' at the end", name,
                      p);
    /* Numbers that read_int cut or zeros it skipped ("hd0128") would name another variant. */
    char canonical[FA_VARIANT_NAME_MAX];
    fa_variant_name(&v, canonical, sizeof canonical);
    if (strcmp(canonical, name) != 0)
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': did you mean '%s'?", name,
                      canonical);
    *out = v;
    return FA_OK;
}

void fa_variant_name_expr(const fa_variant *v, char *buf, size_t n)
{
    snprintf(buf, n, "fa_fwd_sm80<%s, %d, %d, %d, %d, %d, %s, %s, %s>",
             v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim, v->block_m,
             v->block_n, v->warps, v->stages, v->q_in_regs ? "true" : "false",
             v->causal ? "true" : "false", v->varlen ? "true" : "false");
}

const char *fa_variant_template(const fa_variant *v)
{
    (void)v;
    return "fa_fwd_sm80.cuh";
}

int fa_variant_threads(const fa_variant *v)
{
    return v->warps * 32;
}

int fa_variant_smem_bytes(const fa_variant *v)
{
    return FA_SM80_SMEM_BYTES(v->head_dim, v->block_m, v->block_n, v->stages);
}

fa_status fa_variant_check(const fa_variant *v, const fa_arch *arch, fa_err *err)
{
    char name[FA_VARIANT_NAME_MAX];
    fa_variant_name(v, name, sizeof name);
    if (!fa_head_dim_supported(v->head_dim))
        return FA_ERR(err, FA_UNSUPPORTED, "%s: head dim %d not supported", name, v->head_dim);
    if (v->warps != 4 && v->warps != 8)
        return FA_ERR(err, FA_UNSUPPORTED, "%s: warps must be 4 or 8", name);
    if (v->block_m % (16 * v->warps) != 0)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "%s: BLOCK_M %d gives %d rows per warp, not a multiple of 16", name,
                      v->block_m, v->block_m / v->warps);
    if (v->block_n % 16 != 0 || v->block_n < 16 || v->block_n > 256)
        return FA_ERR(err, FA_UNSUPPORTED, "%s: BLOCK_N must be a multiple of 16 in [16, 256]",
                      name);
    if (v->stages < 1 || v->stages > 3)
        return FA_ERR(err, FA_UNSUPPORTED, "%s: stages must be 1, 2 or 3", name);
    int smem = fa_variant_smem_bytes(v);
    if (arch && smem > arch->smem_optin_max)
        return FA_ERR(err, FA_UNSUPPORTED, "%s: needs %d bytes of shared memory, %s allows %d",
                      name, smem, arch->name, arch->smem_optin_max);
    /* A lower bound on registers per thread: fp32 accumulators of O (rows_per_warp*D/32)
     * and S (rows_per_warp*BLOCK_N/32), Q fragments (rows_per_warp*D/64) when held in
     * registers, and a few for addresses and softmax state. Past 255 the kernel cannot avoid
     * spilling, so it is rejected before compiling; variants near the limit are compiled and
     * rejected afterwards only if ptxas reports spills (the sweep records those). */
    int rows = v->block_m / v->warps;
    int regs = rows * v->head_dim / 32 + rows * v->block_n / 32 +
               (v->q_in_regs ? rows * v->head_dim / 64 : 0) + 16;
    if (regs > 255)
        return FA_ERR(err, FA_UNSUPPORTED,
                      "%s: needs about %d registers per thread for accumulators (limit 255)", name,
                      regs);
    return FA_OK;
}

int fa_variant_equal(const fa_variant *a, const fa_variant *b)
{
    return a->family == b->family && a->dtype == b->dtype && a->head_dim == b->head_dim &&
           a->block_m == b->block_m && a->block_n == b->block_n && a->warps == b->warps &&
           a->stages == b->stages && a->q_in_regs == b->q_in_regs && a->causal == b->causal &&
           a->varlen == b->varlen;
}
