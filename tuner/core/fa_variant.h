/*
 * fa_variant.h -- what a kernel variant is, its procedural name, and the legality model.
 *
 * A variant is one instance of a kernel family's template: every compile-time parameter.
 * The family (fa_family.h) owns the tunables (params[], in its axes' order), the name's
 * suffix, the name expression, legality and launch geometry; this file is the generic part
 * that dispatches to it. The name encodes everything and is the key everywhere (DB, reports,
 * cache, header); for the sm80 family:
 *
 *     fwd_sm80_hd128_bf16_causal_varlen_m128n64w4s2q
 *     |   |    |     |    |      |      |   |  | | `- Q held in registers (absent: re-read)
 *     |   |    |     |    |      |      |   |  | `--- pipeline stages
 *     |   |    |     |    |      |      |   |  `----- warps per CTA
 *     |   |    |     |    |      |      |   `-------- BLOCK_N
 *     |   |    |     |    |      |      `------------ BLOCK_M
 *     |   |    |     |    |      `------------------- present for varlen
 *     |   |    |     |    `-------------------------- present for causal
 *     |   |    |     `------------------------------- fp16 | bf16
 *     |   |    `------------------------------------- HEAD_DIM
 *     `---`------------------------------------------ direction and kernel family
 *
 * The compile target (sm_80, sm_90, ...) is not part of the name: one sm80-family variant
 * runs on sm80/86/89/90 and the target is recorded beside it.
 */
#ifndef FA_VARIANT_H
#define FA_VARIANT_H

#include <stddef.h>

#include "fa_status.h"

typedef enum fa_dtype { FA_DTYPE_FP16 = 0, FA_DTYPE_BF16 = 1 } fa_dtype;

/* What a problem asks for (fa_family.h: names and parsing). */
typedef enum fa_op {
    FA_OP_FWD = 0,    /* forward prefill: "fwd" */
    FA_OP_DECODE = 1, /* decode against a (paged) KV cache: "decode" (reserved) */
    FA_OP_COUNT
} fa_op;

/* A kernel family (fa_family.h); every family is a static constant of the registry. */
typedef struct fa_family fa_family;

/* A GPU architecture fa-tune targets. */
typedef struct fa_arch {
    const char *name;       /* "sm80", "sm90a" */
    int cc;                 /* compute capability * 10: 80, 86, 89, 90 */
    const char *nvrtc_arch; /* "sm_80", "sm_90a" */
    int smem_optin_max;     /* opt-in shared memory per block, bytes */
    int regs_per_sm;        /* 32-bit registers per SM */
} fa_arch;

/* The supported archs, NULL-terminated by name. */
extern const fa_arch fa_archs[];
/* Look up "sm80" etc.; NULL if unknown. */
const fa_arch *fa_arch_find(const char *name);
/* The arch entry for a compute capability (90 -> sm90); NULL if unsupported. */
const fa_arch *fa_arch_from_cc(int cc);
/* "sm80, sm86, sm89, sm90, sm90a" for error messages. */
const char *fa_arch_list(void);

/* Head dims the kernel families support, and a printable list of them. */
extern const int fa_head_dims[];
extern const int fa_num_head_dims;
int fa_head_dim_supported(int d);
const char *fa_head_dim_list(void);

const char *fa_dtype_name(fa_dtype t); /* "fp16" | "bf16" */
/* Parse "fp16"/"bf16" (also "float16"/"bfloat16"); FA_INVALID otherwise. */
fa_status fa_dtype_parse(const char *s, fa_dtype *out);

/* Tunable parameters of one variant, at most. */
#define FA_MAX_PARAMS 8

typedef struct fa_variant {
    const fa_family *family;
    fa_op op;
    fa_dtype dtype;
    int head_dim;
    int causal;                /* 0/1 */
    int varlen;                /* 0/1 */
    int params[FA_MAX_PARAMS]; /* the family's axes, in order; unused entries 0 */
} fa_variant;

/* Longest name plus NUL. */
#define FA_VARIANT_NAME_MAX 96

/* Write the procedural name into buf (>= FA_VARIANT_NAME_MAX bytes). */
void fa_variant_name(const fa_variant *v, char *buf, size_t n);
/* Parse a procedural name; FA_INVALID with a message naming the bad part otherwise.
 * *out is written only on success. */
fa_status fa_variant_parse(const char *name, fa_variant *out, fa_err *err);
/* The NVRTC name expression of the template instance, e.g.
 * "fa_fwd_sm80<__nv_bfloat16, 128, 128, 64, 4, 2, true, false, false>". */
void fa_variant_name_expr(const fa_variant *v, char *buf, size_t n);
/* The name expression of kernel k of the variant (k < family->nkernels). */
void fa_variant_kernel_expr(const fa_variant *v, int k, char *buf, size_t n);
/* Template header the variant's family lives in ("fa_fwd_sm80.cuh"). */
const char *fa_variant_template(const fa_variant *v);

/* Launch geometry: threads per CTA and dynamic shared memory in bytes. */
int fa_variant_threads(const fa_variant *v);
int fa_variant_smem_bytes(const fa_variant *v);

/* Static legality model, applied before compiling. Returns FA_OK if the variant may run on
 * arch; FA_UNSUPPORTED with the reason in err otherwise (shared memory over the opt-in limit,
 * rows per warp not a multiple of 16, accumulators that cannot fit the register file...). */
fa_status fa_variant_check(const fa_variant *v, const fa_arch *arch, fa_err *err);

/* Parameter key (an axis of v's family, e.g. "block_m") of v; -1 if v's family has no such
 * axis. */
int fa_variant_param(const fa_variant *v, const char *key);

/* Equality on every parameter. */
int fa_variant_equal(const fa_variant *a, const fa_variant *b);

/* The variant that stands for v's kernels: the one with v's kernels -- every name expression
 * the same -- and each parameter that does not change them at its axis's first value.
 * Variants that differ only in parameters of the launch plan (decode's splits and fused
 * combine: one cubin for 26 variants) get the same one, e.g.
 * decode_splitkv_hd128_bf16_m16n64w4s3k0 for ..._m16n64w4s3k12f. */
void fa_variant_kernels_of(const fa_variant *v, fa_variant *out);
/* Its name (buf >= FA_VARIANT_NAME_MAX bytes). Compiles are shared by it: one cache entry and
 * one compile in flight for all the variants it stands for, and one cubin in an emitted
 * header. */
void fa_variant_kernel_label(const fa_variant *v, char *buf, size_t n);

#endif /* FA_VARIANT_H */
