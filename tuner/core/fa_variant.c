/* This file implements the arch table, dtypes and the generic part of variants (see
 * fa_variant.h): names, parsing, and the dispatch of everything else to the family. */
#include "fa_variant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_family.h"

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
    char suffix[FA_VARIANT_NAME_MAX] = "";
    if (v->family)
        v->family->suffix(v, suffix, sizeof suffix);
    snprintf(buf, n, "%s_%s_hd%d_%s%s%s_%s", fa_op_name(v->op), v->family ? v->family->name : "?",
             v->head_dim, fa_dtype_name(v->dtype), v->causal ? "_causal" : "",
             v->varlen ? "_varlen" : "", suffix);
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

/* Copy the '_'-delimited token at *p into buf and advance past it and its '_'; 0 if none. */
static int token(const char **p, char *buf, size_t n)
{
    const char *e = strchr(*p, '_');
    size_t len = e ? (size_t)(e - *p) : 0;
    if (!e || len == 0 || len >= n)
        return 0;
    memcpy(buf, *p, len);
    buf[len] = 0;
    *p = e + 1;
    return 1;
}

fa_status fa_variant_parse(const char *name, fa_variant *out, fa_err *err)
{
    fa_variant v = {0};
    const char *p = name;
    char op[16], fam[32];
    if (!p || !token(&p, op, sizeof op) || fa_op_parse(op, &v.op) != FA_OK ||
        !token(&p, fam, sizeof fam))
        return FA_ERR(err, FA_INVALID,
                      "bad variant name '%s': expected it to start '<op>_<family>_hd' like "
                      "'fwd_sm80_hd'",
                      name ? name : "");
    v.family = fa_family_find(fam);
    if (!v.family)
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': no kernel family '%s'", name, fam);
    if (!fa_family_serves(v.family, v.op))
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': family %s does not serve %s", name,
                      fam, op);
    if (!eat(&p, "hd"))
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': expected 'hd' after '%s_%s_'", name,
                      op, fam);
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
    char example[FA_VARIANT_NAME_MAX] = "";
    if (!eat(&p, "_") || v.family->parse_suffix(p, v.params) != 0) {
        fa_variant ex = v;
        for (int i = 0; i < v.family->naxes; i++)
            ex.params[i] = v.family->axes[i].values[0];
        v.family->suffix(&ex, example, sizeof example);
        return FA_ERR(err, FA_INVALID,
                      "bad variant name '%s': expected tiles like '_%s' after the mode", name,
                      example);
    }
    /* Numbers a parser cut or zeros it skipped ("hd0128") would name another variant. */
    char canonical[FA_VARIANT_NAME_MAX];
    fa_variant_name(&v, canonical, sizeof canonical);
    if (strcmp(canonical, name) != 0)
        return FA_ERR(err, FA_INVALID, "bad variant name '%s': did you mean '%s'?", name,
                      canonical);
    *out = v;
    return FA_OK;
}

void fa_variant_kernel_expr(const fa_variant *v, int k, char *buf, size_t n)
{
    v->family->name_expr(v, k, buf, n);
}

void fa_variant_name_expr(const fa_variant *v, char *buf, size_t n)
{
    fa_variant_kernel_expr(v, 0, buf, n);
}

const char *fa_variant_template(const fa_variant *v)
{
    return v->family ? v->family->template_file : NULL;
}

int fa_variant_threads(const fa_variant *v)
{
    return v->family ? v->family->threads(v) : -1;
}

int fa_variant_smem_bytes(const fa_variant *v)
{
    return v->family ? v->family->smem_bytes(v) : -1;
}

fa_status fa_variant_check(const fa_variant *v, const fa_arch *arch, fa_err *err)
{
    char name[FA_VARIANT_NAME_MAX];
    fa_variant_name(v, name, sizeof name);
    if (!v->family)
        return FA_ERR(err, FA_UNSUPPORTED, "%s: no kernel family", name);
    if (!fa_head_dim_supported(v->head_dim))
        return FA_ERR(err, FA_UNSUPPORTED, "%s: head dim %d not supported", name, v->head_dim);
    fa_err e = {0};
    fa_status st = v->family->check(v, arch, &e);
    if (st != FA_OK)
        return FA_ERR(err, st, "%s: %s", name, e.msg);
    return FA_OK;
}

int fa_variant_param(const fa_variant *v, const char *key)
{
    int i = fa_family_axis(v->family, key);
    return i < 0 ? -1 : v->params[i];
}

int fa_variant_equal(const fa_variant *a, const fa_variant *b)
{
    if (a->family != b->family || a->op != b->op || a->dtype != b->dtype ||
        a->head_dim != b->head_dim || a->causal != b->causal || a->varlen != b->varlen)
        return 0;
    for (int i = 0; i < FA_MAX_PARAMS; i++)
        if (a->params[i] != b->params[i])
            return 0;
    return 1;
}

/* Every kernel of a and b (one family) has the same name expression. */
static int same_kernels(const fa_variant *a, const fa_variant *b)
{
    char ea[512], eb[512];
    for (int k = 0; k < a->family->nkernels; k++) {
        fa_variant_kernel_expr(a, k, ea, sizeof ea);
        fa_variant_kernel_expr(b, k, eb, sizeof eb);
        if (strcmp(ea, eb) != 0)
            return 0;
    }
    return 1;
}

void fa_variant_kernels_of(const fa_variant *v, fa_variant *out)
{
    fa_variant r = *v;
    for (int i = 0; v->family && i < v->family->naxes; i++) {
        const int first = v->family->axes[i].values[0];
        if (r.params[i] == first)
            continue;
        fa_variant t = r;
        t.params[i] = first;
        if (same_kernels(&t, &r))
            r = t;
    }
    *out = r;
}

void fa_variant_kernel_label(const fa_variant *v, char *buf, size_t n)
{
    fa_variant r;
    fa_variant_kernels_of(v, &r);
    fa_variant_name(&r, buf, n);
}
