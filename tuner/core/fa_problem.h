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

/* A user's varlen length distribution (--seqlens-file): the file's lengths resolved to
 * FA_VARLEN_QUANTILES equally likely values (the mid-point quantiles of the sorted lengths).
 * id 0: none, the uniform [N/2, N] draw applies. */
#define FA_VARLEN_QUANTILES 64
typedef struct fa_varlen_dist {
    uint32_t id; /* a hash of q[], never 0 when set: it names the problem (fa_problem_name) */
    int32_t q[FA_VARLEN_QUANTILES];
} fa_varlen_dist;

typedef struct fa_problem {
    fa_dtype dtype;
    int head_dim;
    int causal; /* bottom-right aligned */
    int varlen; /* packed sequences; seqlen_q/k are the maxima */
    int batch;
    int heads_q, heads_kv; /* heads_q = g * heads_kv */
    int seqlen_q, seqlen_k;
    fa_layout layout;
    float softmax_scale;    /* 0 means 1/sqrt(head_dim) */
    uint64_t seed;          /* inputs and varlen lengths are drawn from it */
    fa_varlen_dist lengths; /* varlen: a user's distribution, or id 0 for uniform [N/2, N] */
    fa_op op;               /* FA_OP_FWD (0); decode adds its fields after this one */
} fa_problem;

#define FA_PROBLEM_NAME_MAX 128

/* "b8_h16_kv16_q2048_k2048_d128_bf16_causal_varlen_bhsd": every field but the seed; a varlen
 * problem with a user's distribution ends in "_lens<id as 8 hex digits>". */
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
/* Does variant v implement problem p's op and mode (dtype, head dim, causal, varlen)? */
int fa_variant_matches(const fa_variant *v, const fa_problem *p);

/* Varlen sequence lengths: the documented, seeded distribution -- uniform in [N/2, N] with
 * N = seqlen, from a splitmix64 stream of `seed`. Writes batch lengths into out. */
void fa_varlen_lengths(uint64_t seed, int seqlen, int batch, int *out);
/* A problem's varlen lengths of at most seqlen: fa_varlen_lengths without a user's
 * distribution; with one, each length is one of its quantiles drawn uniformly from the
 * splitmix64 stream of `seed`, cut at seqlen (a longer sequence is truncated to the
 * problem's maximum). Writes p->batch lengths into out. */
void fa_problem_varlen_lengths(const fa_problem *p, uint64_t seed, int seqlen, int *out);
/* Build a distribution from n >= 1 lengths (each >= 1; need not be sorted). */
void fa_varlen_dist_from(const int *lengths, int n, fa_varlen_dist *d);
/* Mean of the distribution's lengths cut at seqlen. */
double fa_varlen_dist_mean(const fa_varlen_dist *d, int seqlen);

#endif /* FA_PROBLEM_H */
