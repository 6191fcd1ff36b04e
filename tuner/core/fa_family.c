/* This file implements the generic side of kernel families (see fa_family.h): op names, the
 * registry's lookups and the arch rule. The registry itself, fa_family_registry, is the one
 * list in tuner/families/fa_families.c. */
#include "fa_family.h"

#include <stdio.h>
#include <string.h>

/* tuner/families/fa_families.c: the registered families, NULL-terminated. */
extern const fa_family *const fa_family_registry[];

static const char *const op_names[FA_OP_COUNT] = {"fwd", "decode"};

const char *fa_op_name(fa_op op)
{
    return op >= 0 && op < FA_OP_COUNT ? op_names[op] : "?";
}

fa_status fa_op_parse(const char *s, fa_op *out)
{
    for (int i = 0; s && i < FA_OP_COUNT; i++)
        if (strcmp(s, op_names[i]) == 0) {
            *out = (fa_op)i;
            return FA_OK;
        }
    return FA_INVALID;
}

const fa_family *const *fa_families(void)
{
    return fa_family_registry;
}

const fa_family *fa_family_find(const char *name)
{
    for (const fa_family *const *f = fa_family_registry; name && *f; f++)
        if (strcmp((*f)->name, name) == 0)
            return *f;
    return NULL;
}

int fa_family_index(const fa_family *f)
{
    for (int i = 0; fa_family_registry[i]; i++)
        if (fa_family_registry[i] == f)
            return i;
    return -1;
}

const fa_family *fa_family_at(int i)
{
    for (int k = 0; fa_family_registry[k]; k++)
        if (k == i)
            return fa_family_registry[k];
    return NULL;
}

const fa_family *fa_family_sm80(void)
{
    return fa_family_find("sm80");
}

int fa_family_serves(const fa_family *f, fa_op op)
{
    return f && op >= 0 && op < FA_OP_COUNT && (f->ops & (1u << op)) != 0;
}

int fa_family_has_depth_axis(const fa_family *f)
{
    for (int x = 0; f && x < f->naxes; x++)
        if (f->axes[x].depth)
            return 1;
    return 0;
}

/* An arch-specific target is the arch table's entry whose nvrtc name ends in 'a'. */
static int arch_is_specific(const fa_arch *a)
{
    size_t n = strlen(a->nvrtc_arch);
    return n > 0 && a->nvrtc_arch[n - 1] == 'a';
}

const char *fa_family_nvrtc_arch(const fa_family *f, const fa_arch *arch)
{
    if (!f || !arch || arch->cc < f->min_cc || arch->cc > f->max_cc)
        return NULL;
    if (f->arch_specific) {
        for (const fa_arch *a = fa_archs; a->name; a++)
            if (a->cc == arch->cc && arch_is_specific(a))
                return a->nvrtc_arch;
        return NULL;
    }
    if (arch_is_specific(arch)) /* --arch sm90a: only families that need sm_90a */
        return NULL;
    return arch->nvrtc_arch;
}

int fa_family_axis(const fa_family *f, const char *key)
{
    for (int i = 0; f && key && i < f->naxes; i++)
        if (strcmp(f->axes[i].key, key) == 0)
            return i;
    return -1;
}

void fa_variant_params_text(const fa_variant *v, char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = 0;
    for (int i = 0; v->family && i < v->family->naxes && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s=%d", i ? " " : "", v->family->axes[i].key,
                         v->params[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

void fa_variant_params_short(const fa_variant *v, char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = 0;
    for (int i = 0; v->family && i < v->family->naxes && used < n; i++) {
        const fa_axis *a = &v->family->axes[i];
        if (!a->abbrev || i == v->family->tile_axes[0] || i == v->family->tile_axes[1])
            continue;
        int flag = a->nvalues == 2 && a->values[0] == 0 && a->values[1] == 1;
        int w = flag ? snprintf(buf + used, n - used, "%s", v->params[i] ? a->abbrev : "")
                     : snprintf(buf + used, n - used, "%s%d", a->abbrev, v->params[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
