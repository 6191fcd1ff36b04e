/* This file implements the variant space enumeration (see fa_space.h): the families' axes
 * crossed generically, so a new tile size is one number in its family's file. */
#include "fa_space.h"
#include "fa_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fa_space_filter_default(fa_space_filter *f)
{
    f->dtypes = 1u << FA_DTYPE_BF16;
    f->causal = FA_SPACE_BOTH;
    f->varlen = FA_SPACE_OFF;
    f->family = NULL;
    f->op = FA_OP_FWD;
}

int fa_space_tiles_per_mode(const fa_family *f)
{
    int n = 1;
    for (int i = 0; f && i < f->naxes; i++)
        n *= f->axes[i].nvalues;
    return f ? n : 0;
}

void fa_space_describe(const fa_family *f, char *buf, size_t n)
{
    size_t len = 0;
    if (!buf || !n)
        return;
    buf[0] = '\0';
    if (!f)
        return;
    fa_append(buf, n, &len, "%s, %d per mode: ", f->name, fa_space_tiles_per_mode(f));
    for (int i = 0; i < f->naxes; i++) {
        const fa_axis *a = &f->axes[i];
        /* the label up to " = " ("BLOCK_M = 64 x consumer warpgroups": its " x " would read
           as the product's) */
        const char *eq = strstr(a->label, " = ");
        fa_append(buf, n, &len, "%s%.*s ", i ? " x " : "",
                  eq ? (int)(eq - a->label) : (int)strlen(a->label), a->label);
        const int step = a->nvalues > 1 ? a->values[1] - a->values[0] : 0;
        int even = a->nvalues >= 4 && step > 0;
        for (int k = 2; even && k < a->nvalues; k++)
            even = a->values[k] - a->values[k - 1] == step;
        if (even && step == 1)
            fa_append(buf, n, &len, "%d..%d", a->values[0], a->values[a->nvalues - 1]);
        else if (even)
            fa_append(buf, n, &len, "%d..%d step %d", a->values[0], a->values[a->nvalues - 1],
                      step);
        else
            for (int k = 0; k < a->nvalues; k++)
                fa_append(buf, n, &len, "%s%d", k ? "," : "", a->values[k]);
    }
}

static int popcount2(unsigned x)
{
    return (int)(x & 1u) + (int)((x >> 1) & 1u);
}

/* Append family f's variants of one mode (the axes' cross product, last axis fastest). */
static void cross(const fa_family *f, const fa_variant *mode, fa_variant *vs, int *k)
{
    int idx[FA_MAX_PARAMS] = {0};
    for (;;) {
        fa_variant *v = &vs[(*k)++];
        *v = *mode;
        for (int i = 0; i < f->naxes; i++)
            v->params[i] = f->axes[i].values[idx[i]];
        int i = f->naxes - 1;
        while (i >= 0 && ++idx[i] == f->axes[i].nvalues)
            idx[i--] = 0;
        if (i < 0)
            return;
    }
}

fa_status fa_space_enumerate(const fa_arch *arch, int head_dim, const fa_space_filter *f,
                             fa_variant **out, int *n, fa_err *err)
{
    if (!arch)
        return FA_ERR(err, FA_INVALID, "space enumeration needs an arch");
    if (!fa_head_dim_supported(head_dim))
        return FA_ERR(err, FA_INVALID, "unsupported head dim %d: supported head dims are %s",
                      head_dim, fa_head_dim_list());
    fa_space_filter def;
    if (!f) {
        fa_space_filter_default(&def);
        f = &def;
    }
    int modes = popcount2(f->dtypes) * popcount2(f->causal) * popcount2(f->varlen);
    if (modes == 0)
        return FA_ERR(err, FA_INVALID, "empty variant space: no dtype, causal or varlen mode");
    if (f->family && !fa_family_nvrtc_arch(f->family, arch))
        return FA_ERR(err, FA_UNSUPPORTED, "kernel family %s does not run on %s", f->family->name,
                      arch->name);
    int total = 0;
    for (const fa_family *const *fp = fa_families(); *fp; fp++)
        if ((!f->family || *fp == f->family) && fa_family_nvrtc_arch(*fp, arch) &&
            fa_family_serves(*fp, f->op))
            total += modes * fa_space_tiles_per_mode(*fp);
    if (total == 0) {
        /* Say which families exist and where they run: "sm80 (cc 80..90)". */
        char fams[256] = "";
        size_t used = 0;
        for (const fa_family *const *fp = fa_families(); *fp && used < sizeof fams; fp++) {
            int w = snprintf(fams + used, sizeof fams - used, "%s%s (cc %d..%d%s)",
                             used ? ", " : "", (*fp)->name, (*fp)->min_cc, (*fp)->max_cc,
                             (*fp)->arch_specific ? ", arch-specific" : "");
            if (w < 0)
                break;
            used += (size_t)w;
        }
        /* The hint only for an arch-specific target whose generic arch has families (sm90a). */
        const fa_arch *generic = fa_arch_from_cc(arch->cc);
        const int hint = generic && strcmp(generic->name, arch->name) != 0 &&
                         fa_family_nvrtc_arch(fa_families()[0], generic);
        return FA_ERR(
            err, FA_UNSUPPORTED, "no kernel family serves %s on %s%s: the families are %s",
            fa_op_name(f->op), arch->name,
            hint ? " (an arch-specific target selects only the families that need it)" : "", fams);
    }
    fa_variant *vs = calloc((size_t)total, sizeof *vs);
    if (!vs)
        return FA_ERR(err, FA_NOMEM, "out of memory for %d variants", total);

    int k = 0;
    for (const fa_family *const *fp = fa_families(); *fp; fp++) {
        if ((f->family && *fp != f->family) || !fa_family_nvrtc_arch(*fp, arch) ||
            !fa_family_serves(*fp, f->op))
            continue;
        for (int dt = 0; dt < 2; dt++)
            for (int ca = 0; ca < 2; ca++)
                for (int vl = 0; vl < 2; vl++) {
                    if (!(f->dtypes & (1u << dt)) || !(f->causal & (1u << ca)) ||
                        !(f->varlen & (1u << vl)))
                        continue;
                    fa_variant mode = {.family = *fp,
                                       .op = f->op,
                                       .dtype = dt ? FA_DTYPE_BF16 : FA_DTYPE_FP16,
                                       .head_dim = head_dim,
                                       .causal = ca,
                                       .varlen = vl};
                    cross(*fp, &mode, vs, &k);
                }
    }
    *out = vs;
    *n = k;
    return FA_OK;
}
