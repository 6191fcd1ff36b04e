/*
 * fa_space.h -- the variant space of one (arch, head dim).
 *
 * This file implements the interface that enumerates, for every kernel family that runs on
 * the arch (fa_family_nvrtc_arch) and serves the op, the cross product of the family's axes
 * (fa_family.h) with the selected modes. Shared by `fa-tune compile` and the tuning engine.
 *
 * The sm80 family has 168 tile configurations per (dtype, causal, varlen) mode (its file,
 * tuner/families/fa_family_sm80.c, lists the axes). The space is not pruned here:
 * fa_variant_check decides legality, so callers can report what was pruned and why.
 */
#ifndef FA_SPACE_H
#define FA_SPACE_H

#include "fa_family.h"
#include "fa_status.h"
#include "fa_variant.h"

/* Which modes to cross the tiles with. Each field is a bit set. */
typedef struct fa_space_filter {
    unsigned dtypes;         /* bit (1u << FA_DTYPE_FP16), bit (1u << FA_DTYPE_BF16) */
    unsigned causal;         /* bit 0: non-causal, bit 1: causal */
    unsigned varlen;         /* bit 0: fixed length, bit 1: varlen */
    const fa_family *family; /* NULL: every family that runs on the arch */
    fa_op op;                /* FA_OP_FWD (0) */
} fa_space_filter;

#define FA_SPACE_OFF 1u  /* bit 0 of causal/varlen: the mode off */
#define FA_SPACE_ON 2u   /* bit 1: the mode on */
#define FA_SPACE_BOTH 3u /* both */

/* The default filter of `fa-tune compile`: bf16; non-causal and causal; fixed length. */
void fa_space_filter_default(fa_space_filter *f);

/* Tile configurations per mode of family f: the product of its axes' sizes (168 for sm80). */
int fa_space_tiles_per_mode(const fa_family *f);

/* Family f's space per mode as text for --help, from its axes: "sm80, 168 per mode: BLOCK_M
 * 64,128 x BLOCK_N 32..128 step 16 x warps 4,8 x stages 1,2,3 x Q in registers 0,1" (four or
 * more evenly spaced values are written first..last [step s]). Cut to fit buf. */
void fa_space_describe(const fa_family *f, char *buf, size_t n);

/* Enumerate the space for arch and head_dim in a stable order (family in registry order,
 * dtype, causal, varlen, then the family's axes in order, the last fastest; fp16 before bf16,
 * off before on). A filter naming a family that does not run on arch, or an arch no family
 * serves, gives FA_UNSUPPORTED.
 * *out is a new array the caller frees with free(); written only on success. FA_INVALID for
 * an unknown head dim or an empty filter. */
fa_status fa_space_enumerate(const fa_arch *arch, int head_dim, const fa_space_filter *f,
                             fa_variant **out, int *n, fa_err *err);

#endif /* FA_SPACE_H */
