/*
 * fa_family.h -- kernel families and ops: the one seam every kernel plugs into.
 *
 * A *family* is one kernel design with its own tunables (sm80: mma.sync, FA2 design; sm90a:
 * wgmma + TMA; a decode family; ...). An *op* is what a problem asks for (forward prefill now,
 * decode later). Each family is described once, by one `fa_family` value in its own file
 * under tuner/families/, and listed on one line of the registry (tuner/families/fa_families.c).
 * Every layer (variant names, the space, legality, the tuner's prior, the compile engine, the
 * harness's launches, the database, emit and reports) asks this description instead of
 * knowing a family's fields.
 *
 * A variant (fa_variant.h) is {family, op, dtype, head dim, causal, varlen, params[]}: the
 * params are the family's tunable axes, in the order of `axes`, with values the family
 * defines. Its name is
 *
 *     <op>_<family>_hd<D>_<dtype>[_causal][_varlen]_<suffix>
 *     fwd_sm80_hd128_bf16_causal_varlen_m128n64w4s2q
 *
 * where the family writes and parses the suffix ("m128n64w4s2q"); the second token finds the
 * family in the registry.
 *
 * Archs. A family runs on compute capabilities [min_cc, max_cc]. `--arch sm90` (or the native
 * arch of an H100/H200) selects every family that runs on cc 90; `--arch sm90a` selects only
 * the families that need the arch-specific target (arch_specific = 1). Each family compiles
 * for its own NVRTC target: a portable family (sm80) for the generic "sm_90" on Hopper, an
 * arch-specific one (sm90a) for "sm_90a". fa_family_nvrtc_arch() is the rule in code.
 *
 * Launches. A variant may have several kernels (a split kernel and a combine kernel); all are
 * instances in the family's one template file, compiled into one cubin. For a problem the
 * family's `plan` says which kernels run, in order, with what grid/block/cluster and dynamic
 * shared memory, and how many bytes of device scratch they share (the harness allocates the
 * scratch, zeroes it before every run, and counts it in the memory it reports). Each kernel
 * takes one argument, a family-defined POD struct passed by value (`__grid_constant__`), which
 * `args` fills from the problem's tensors (fa_fwd_params: pointers and strides) and the
 * scratch pointer; families that need TMA descriptors ask the harness to encode them through
 * `fa_arg_services.encode_tiled` (cuTensorMapEncodeTiled).
 *
 * Ownership: every fa_family is a static constant; nothing here allocates.
 */
#ifndef FA_FAMILY_H
#define FA_FAMILY_H

#include <stddef.h>
#include <stdint.h>

#include "fa_params.h"
#include "fa_status.h"
#include "fa_variant.h"

/* ---- ops ------------------------------------------------------------------------------- */

/* fa_op is in fa_variant.h (a variant carries it). */
/* "fwd" | "decode"; "?" for anything else. */
const char *fa_op_name(fa_op op);
/* Parse "fwd"/"decode"; FA_INVALID otherwise (*out untouched). */
fa_status fa_op_parse(const char *s, fa_op *out);

/* ---- limits ---------------------------------------------------------------------------- */

#define FA_MAX_AXIS_VALUES 16 /* values of one tunable axis */
#define FA_MAX_KERNELS 4      /* kernels of one variant */
#define FA_MAX_LAUNCHES 4     /* launches of one plan */
#define FA_MAX_ARG_BYTES 4096 /* a kernel's argument struct (the CUDA parameter limit) */
#define FA_TENSOR_MAP_BYTES 128

/* ---- description pieces ---------------------------------------------------------------- */

/* One tunable axis: its values are the search space (fa_space crosses all axes). */
typedef struct fa_axis {
    const char *key;   /* "block_m": database parameter text, `bench --param key=value` */
    const char *label; /* "BLOCK_M": reports' axis label */
    int nvalues;
    int values[FA_MAX_AXIS_VALUES];
    /* Short form in compact text (reports' "w4s2q"): abbrev then the value, or for an axis
     * whose values are {0, 1} abbrev alone when 1. NULL: the axis is left out. */
    const char *abbrev;
    /* 1: an axis behind exhaustive's stage gate, whose later values make a tile costlier and
     * rarely faster (sm90a's stages: pipeline depth; pingpong): a variant with a value past
     * the first compiles only once, for each such axis, its sibling at that axis's first value
     * (every other param equal) was compiled and came within --stage-gate of its class's best
     * on some problem, or has no time to judge by; a variant whose sibling the gate held back
     * is held back too (fa_tune.h, FA_STAGE_GATE). */
    int depth;
} fa_axis;

/* One kernel of a variant (a template instance in the family's template file). */
typedef struct fa_kernel {
    const char *role;   /* "main", "combine": for messages */
    size_t param_bytes; /* sizeof its one argument struct; checked at load time */
} fa_kernel;

/* One launch of a plan. */
typedef struct fa_launch {
    int kernel; /* index into the family's kernels */
    unsigned grid[3], block[3];
    unsigned cluster[3]; /* {0,0,0} or {1,1,1}: no cluster */
    unsigned smem;       /* dynamic shared memory, bytes */
    /* 1: may start before the plan's previous launch has finished (programmatic dependent
     * launch, cc >= 90; launchers apply it there and ignore it elsewhere): the kernel waits in
     * griddepcontrol.wait for that launch's results before it reads them. */
    int pdl;
} fa_launch;

/* What runs for one problem, in order. */
typedef struct fa_plan {
    int nlaunches;
    fa_launch launch[FA_MAX_LAUNCHES];
    uint64_t scratch_bytes; /* device scratch shared by the launches, zeroed before each run */
    /* 1: the launches need the scratch zeroed only once, after it is allocated, and leave it
     * so (a split kernel that writes its partials before they are read and resets its
     * counters): the harness does not clear it before every run. */
    int scratch_keep;
} fa_plan;

/* The problem as a plan sees it: a forward problem's sizes (varlen: the maxima). Decode adds
 * its fields here (page size, cache lengths) without disturbing the forward ones. */
typedef struct fa_shape {
    fa_op op;
    int batch, heads_q, heads_kv;
    int seqlen_q, seqlen_k; /* fixed length: the lengths; varlen: the maxima */
    int head_dim;
    int multiprocessors; /* of the device the plan is for (persistent grids); 0: unknown */
} fa_shape;

/* A tiled TMA descriptor to encode (cuTensorMapEncodeTiled's arguments, interleave none,
 * element strides 1). */
typedef struct fa_tma_desc {
    fa_dtype dtype;
    int rank;            /* 1..5 */
    uint64_t base;       /* global address, 16-byte aligned */
    uint64_t dims[5];    /* elements, innermost first */
    uint64_t strides[4]; /* bytes, of dims 1..rank-1, multiples of 16 */
    uint32_t box[5];     /* tile, elements, innermost first */
    int swizzle;         /* 0 (none), 32, 64, 128 bytes */
    int l2_promotion;    /* 0 (none), 64, 128, 256 bytes */
    int oob_fill_nan;    /* 0: zeros out of bounds; 1: NaN */
} fa_tma_desc;

/* Services the launcher (harness, emitted header) hands to `args`. */
typedef struct fa_arg_services {
    void *ctx;
    /* Encode d into map (FA_TENSOR_MAP_BYTES bytes, 64-byte aligned); NULL where the launcher
     * has no driver (compile-only paths never call args). */
    fa_status (*encode_tiled)(void *ctx, const fa_tma_desc *d, void *map, fa_err *err);
} fa_arg_services;

/* What `args` builds a kernel's argument from. */
typedef struct fa_args_in {
    const fa_fwd_params *base; /* pointers, strides and sizes of the problem's tensors */
    uint64_t scratch;          /* device address of plan.scratch_bytes, 0 if none */
    const fa_arg_services *svc;
} fa_args_in;

/* ---- the family ------------------------------------------------------------------------ */

struct fa_family {
    const char *name; /* "sm80": the second token of every variant name */
    unsigned ops;     /* bit (1u << FA_OP_FWD) for each op it serves */
    int min_cc, max_cc;
    int arch_specific; /* 1: compiles for "sm_XXa" and only runs on that cc */

    int naxes;
    const fa_axis *axes; /* params[i] of a variant takes values of axes[i] */
    int tile_axes[2];    /* the axes of reports' tile heatmap (rows, columns), -1: none */

    const char *template_file; /* "fa_fwd_sm80.cuh", in the embedded templates */
    int nkernels;
    const fa_kernel *kernels;

    /* Name suffix of v ("m128n64w4s2q") into buf. */
    void (*suffix)(const fa_variant *v, char *buf, size_t n);
    /* Parse a suffix into params (naxes values); 0 on success, -1 if it is not one. The
     * generic parser re-writes the name and refuses anything not canonical. */
    int (*parse_suffix)(const char *s, int *params);
    /* NVRTC name expression of kernel k of v ("fa_fwd_sm80<__nv_bfloat16, 128, ...>"). */
    void (*name_expr)(const fa_variant *v, int k, char *buf, size_t n);

    /* Static legality on arch (arch may be NULL: only the arch-free rules): FA_OK, or
     * FA_UNSUPPORTED with the reason in err (the name is prefixed by the caller). */
    fa_status (*check)(const fa_variant *v, const fa_arch *arch, fa_err *err);
    /* Search prior: lower is tried first (ties keep the space's order). */
    int (*prior)(const fa_variant *v);
    /* Threads per CTA and dynamic shared memory of the main kernel (reports, legality). */
    int (*threads)(const fa_variant *v);
    int (*smem_bytes)(const fa_variant *v);

    /* The launch plan of v for s. FA_INVALID if s is not a shape v serves. */
    fa_status (*plan)(const fa_variant *v, const fa_shape *s, fa_plan *out, fa_err *err);
    /* Fill kernel k's argument struct (kernels[k].param_bytes bytes, buf 64-byte aligned,
     * FA_MAX_ARG_BYTES long). */
    fa_status (*args)(const fa_variant *v, int k, const fa_args_in *in, void *buf, fa_err *err);
};

/* ---- the registry ---------------------------------------------------------------------- */

/* The registered families, NULL-terminated, in registry order (sm80 first). */
const fa_family *const *fa_families(void);
/* A family by name ("sm80"); NULL if none. */
const fa_family *fa_family_find(const char *name);
/* Its position in the registry (stable within one binary: the worker's wire uses it); -1 if
 * not registered. */
int fa_family_index(const fa_family *f);
/* The registry entry at index i; NULL if out of range. */
const fa_family *fa_family_at(int i);
/* The sm80 family (the default of `bench`, tests). */
const fa_family *fa_family_sm80(void);
/* Does f serve op? */
int fa_family_serves(const fa_family *f, fa_op op);
/* Does one of f's axes have depth set (exhaustive's stage gate applies to f)? 0 for NULL. */
int fa_family_has_depth_axis(const fa_family *f);
/* The NVRTC target f compiles for on arch ("sm_90" for sm80 on sm90, "sm_90a" for an
 * arch-specific family); NULL if f does not run on arch (see the top of this file). */
const char *fa_family_nvrtc_arch(const fa_family *f, const fa_arch *arch);
/* The index of the axis named key; -1 if none. */
int fa_family_axis(const fa_family *f, const char *key);
/* The compact form of v's params other than its family's tile axes ("w4s2q" for sm80), from
 * the axes' abbrevs. */
void fa_variant_params_short(const fa_variant *v, char *buf, size_t n);
/* "block_m=128 block_n=64 warps=4 stages=2 q_in_regs=1": v's params as text (the database's
 * parameters column). */
void fa_variant_params_text(const fa_variant *v, char *buf, size_t n);

#endif /* FA_FAMILY_H */
