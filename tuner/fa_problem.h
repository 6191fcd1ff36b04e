/*
 * fa_problem.h -- one attention problem: the shape and mode a variant is timed on.
 *
 * FLOP convention (printed with every table): 4 * B * Hq * Nq * Nk * D, halved for causal
 * when Nq == Nk (FlashAttention's benchmark convention; cuDNN counts N(N+1)/2 instead).
 * For varlen the sum over sequences of 4 * Hq * nq_i * nk_i * D is used.
 *
 * Seqlen bucket (the dispatch key): the smallest power of two >= max(seqlen_q, seqlen_k),
 * at least 128. A problem with N = 1000 lands in bucket 1024, N = 4097 in 8192.
 */
#ifndef FA_PROBLEM_H
#define FA_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

#include "fa_variant.h"

typedef enum fa_layout { FA_LAYOUT_BSHD = 0, FA_LAYOUT_BHSD = 1 } fa_layout;

typedef struct fa_problem {
    fa_dtype dtype;
    int head_dim;
    int causal; /* bottom-right aligned */
    int varlen; /* packed sequences; seqlen_q/k are the maxima */
    int batch;
    int heads_q, heads_kv; /* heads_q = g * heads_kv */
    int seqlen_q, seqlen_k;
    fa_layout layout;
    float softmax_scale; /* 0 means 1/sqrt(head_dim) */
    uint64_t seed;       /* inputs and varlen lengths are drawn from it */
} fa_problem;

#define FA_PROBLEM_NAME_MAX 128

/* "b8_h16_kv16_q2048_k2048_d128_bf16_causal_varlen_bhsd": every field but the seed. */
void fa_problem_name(const fa_problem *p, char *buf, size_t n);
/* GQA ratio g = heads_q / heads_kv. */
int fa_problem_gqa(const fa_problem *p);
/* The dispatch seqlen bucket (see top of file). */
int fa_seqlen_bucket(int seqlen);
/* FLOPs of the problem by the convention above, given the varlen lengths (may be NULL for
 * fixed-length problems). */
double fa_problem_flops(const fa_problem *p, const int *seqlens_q, const int *seqlens_k);
/* The softmax scale actually used. */
float fa_problem_scale(const fa_problem *p);
/* Validate sizes and modes; FA_INVALID naming the bad field. */
fa_status fa_problem_check(const fa_problem *p, fa_err *err);
/* Same class: dtype, head dim, causal and varlen agree, so one variant space serves both. */
int fa_problem_same_class(const fa_problem *a, const fa_problem *b);
/* Does variant v implement problem p's mode (dtype, head dim, causal, varlen)? */
int fa_variant_matches(const fa_variant *v, const fa_problem *p);

/* Varlen sequence lengths: the documented, seeded distribution -- uniform in [N/2, N] with
 * N = seqlen, from a splitmix64 stream of `seed`. Writes batch lengths into out. */
void fa_varlen_lengths(uint64_t seed, int seqlen, int batch, int *out);

#endif /* FA_PROBLEM_H */
