/*
 * fa_test_variant.h -- sm80 variants for tests, built through the family's description (its
 * axes by key), so tests name parameters instead of knowing the family's params[] order.
 */
#ifndef FA_TEST_VARIANT_H
#define FA_TEST_VARIANT_H

#include "fa_family.h"

/* Set parameter key of v (an axis of v's family). */
static inline void fa_test_set(fa_variant *v, const char *key, int x)
{
    int i = fa_family_axis(v->family, key);
    if (i >= 0)
        v->params[i] = x;
}

/* The sm80 variant with these tiles and mode. */
static inline fa_variant fa_test_sm80(fa_dtype dtype, int head_dim, int block_m, int block_n,
                                      int warps, int stages, int q_in_regs, int causal, int varlen)
{
    fa_variant v = {.family = fa_family_sm80(),
                    .op = FA_OP_FWD,
                    .dtype = dtype,
                    .head_dim = head_dim,
                    .causal = causal,
                    .varlen = varlen};
    fa_test_set(&v, "block_m", block_m);
    fa_test_set(&v, "block_n", block_n);
    fa_test_set(&v, "warps", warps);
    fa_test_set(&v, "stages", stages);
    fa_test_set(&v, "q_in_regs", q_in_regs);
    return v;
}

#endif /* FA_TEST_VARIANT_H */
