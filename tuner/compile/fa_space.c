/* This file implements the variant space enumeration (see fa_space.h). The axes are kept as
 * plain arrays so a new tile size is one number in one place. */
#include "fa_space.h"

#include <stdlib.h>

static const int block_ms[] = {64, 128};
static const int block_ns[] = {32, 48, 64, 80, 96, 112, 128};
static const int warps[] = {4, 8};
static const int stages[] = {1, 2, 3};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

void fa_space_filter_default(fa_space_filter *f)
{
    f->dtypes = 1u << FA_DTYPE_BF16;
    f->causal = FA_SPACE_BOTH;
    f->varlen = FA_SPACE_OFF;
}

int fa_space_tiles_per_mode(void)
{
    return COUNT(block_ms) * COUNT(block_ns) * COUNT(warps) * COUNT(stages) * 2;
}

static int popcount2(unsigned x)
{
    return (int)(x & 1u) + (int)((x >> 1) & 1u);
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
    int total = modes * fa_space_tiles_per_mode();
    fa_variant *vs = calloc((size_t)total, sizeof *vs);
    if (!vs)
        return FA_ERR(err, FA_NOMEM, "out of memory for %d variants", total);

    int k = 0;
    for (int dt = 0; dt < 2; dt++)
        for (int ca = 0; ca < 2; ca++)
            for (int vl = 0; vl < 2; vl++) {
                if (!(f->dtypes & (1u << dt)) || !(f->causal & (1u << ca)) ||
                    !(f->varlen & (1u << vl)))
                    continue;
                for (int a = 0; a < COUNT(block_ms); a++)
                    for (int b = 0; b < COUNT(block_ns); b++)
                        for (int w = 0; w < COUNT(warps); w++)
                            for (int s = 0; s < COUNT(stages); s++)
                                for (int q = 0; q < 2; q++) {
                                    fa_variant *v = &vs[k++];
                                    /* Every sm80-family arch (sm80..sm90a) runs this family. */
                                    v->family = FA_FAMILY_SM80;
                                    v->dtype = dt ? FA_DTYPE_BF16 : FA_DTYPE_FP16;
                                    v->head_dim = head_dim;
                                    v->block_m = block_ms[a];
                                    v->block_n = block_ns[b];
                                    v->warps = warps[w];
                                    v->stages = stages[s];
                                    v->q_in_regs = q;
                                    v->causal = ca;
                                    v->varlen = vl;
                                }
            }
    *out = vs;
    *n = k;
    return FA_OK;
}
