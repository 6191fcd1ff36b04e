/*
 * fa_problem.h -- one attention problem: the shape and mode a variant is timed on.
 *
 * FLOP convention (printed with every table): 4 * B * Hq * Nq * Nk * D, halved for causal
 * when Nq == Nk (FlashAttention's benchmark convention; cuDNN counts N(N+1)/2 instead).
 * For varlen the sum over sequences of 4 * Hq * nq_i * nk_i * D is used.
 *
 * Decode (op FA_OP_DECODE) is memory-bound, so its figure of merit is bytes, not FLOPs: the
 * K/V bytes the kernel must read, sum over sequences of 2 * len_b * Hkv * D * 2 (K and V,
 * 16-bit elements), where len_b is sequence b's cache length. fa_problem_work() returns FLOPs
 * for the forward op and these bytes for decode; work / time is then TFLOP/s or TB/s
 * (fa_problem_rate_unit), and the database's tflops column holds that rate for the problem's
 * op (a decode row's "tflops" is TB/s of K/V read).
 *
 * Decode problems: seqlen_q new tokens (1..16: decode, speculative or chunked decoding) per
 * sequence against a KV cache of at most seqlen_k rows. Q/O are (batch, seqlen_q, heads_q,
 * dim); the caches are contiguous (batch, seqlen_k, heads_kv, dim) when page_size is 0, else
 * paged (num_pages, page_size, heads_kv, dim) through a block table (templates/fa_params.h).
 * Sequence b's cache length len_b (0 <= len_b <= seqlen_k) comes from cache_lens:
 *   FA_CACHE_FIXED    every sequence holds seqlen_k rows;
 *   FA_CACHE_UNIFORM  uniform in [N/2, N], N = seqlen_k, drawn from the problem's seed like
 *                     varlen lengths (fa_varlen_lengths);
 *   lengths.id != 0   a user's distribution (--seqlens-file), quantiles drawn from the seed
 *                     and cut at seqlen_k; lengths of 0 are allowed here (an empty cache).
 * Causal masking is bottom-right aligned with sk = len_b. The layout is BSHD, varlen is 0.
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
    fa_op op;               /* FA_OP_FWD (0) or FA_OP_DECODE */
    /* Decode only (0 for the forward op); see the top of the file. */
    int page_size;  /* rows per K/V page, 16..256; 0: contiguous caches */
    int cache_lens; /* fa_cache_lens: how the cache lengths are drawn (lengths.id overrides) */
} fa_problem;

/* The cache-length distributions of a decode problem (fa_problem.cache_lens). */
typedef enum fa_cache_lens { FA_CACHE_FIXED = 0, FA_CACHE_UNIFORM = 1 } fa_cache_lens;

/* Limits of the decode op. */
#define FA_DECODE_SEQLEN_Q_MAX 16
#define FA_PAGE_SIZE_MIN 16
#define FA_PAGE_SIZE_MAX 256

#define FA_PROBLEM_NAME_MAX 128

/* "b8_h16_kv16_q2048_k2048_d128_bf16_causal_varlen_bhsd": every field but the seed; a varlen
 * problem with a user's distribution ends in "_lens<id as 8 hex digits>". A decode problem:
 * "b64_h32_kv8_q1_k4096_d128_bf16_causal_decode[_page64][_uniform|_lens<id>]". */
void fa_problem_name(const fa_problem *p, char *buf, size_t n);
/* GQA ratio g = heads_q / heads_kv. */
int fa_problem_gqa(const fa_problem *p);
/* Is GQA ratio a nearer to g than ratio b, by their quotient (4 is as near to 8 as 16 is),
 * the larger one on a tie? (Halving's rung 1: a ratio that got no rung-0 problem takes the
 * nearest ratio's survivors.) Ratios are at most 2^24: the products fit in 64 bits. */
int fa_gqa_nearer(int a, int b, int g);
/* The dispatch seqlen bucket (see top of file). */
int fa_seqlen_bucket(int seqlen);
/* A decode problem's seqlen_q bucket (the decode winners' and the emitted header's key): 1 for
 * plain decode, 4 for 2..4 new tokens, 16 for 5..16 (speculative and chunked decoding). */
int fa_decode_q_bucket(int seqlen_q);
/* FLOPs of the problem by the convention above, given the varlen lengths (may be NULL for
 * fixed-length problems). */
double fa_problem_flops(const fa_problem *p, const int *seqlens_q, const int *seqlens_k);
/* The figure of merit's numerator (see the top of the file): FLOPs for the forward op (as
 * fa_problem_flops), K/V bytes read for decode given the cache lengths (cache_lens may be NULL:
 * every sequence seqlen_k). */
double fa_problem_work(const fa_problem *p, const int *seqlens_q, const int *seqlens_k,
                       const int *cache_lens);
/* "TFLOP/s" for the forward op, "TB/s" for decode: the unit of work / time / 1e12. */
const char *fa_problem_rate_unit(const fa_problem *p);
/* The softmax scale actually used. */
float fa_problem_scale(const fa_problem *p);
/* Validate sizes and modes; FA_INVALID naming the bad field. */
fa_status fa_problem_check(const fa_problem *p, fa_err *err);
/* Same class: op, dtype, head dim, causal and varlen agree, so one variant space serves both.
 * Decode problems also need the same seqlen_q and page size: a variant serves every one, but
 * a class is checked on one problem (fa_tune_check_problem), which must exercise the same
 * causal rows and the same paging as the problems it vouches for. */
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
/* A decode problem's cache lengths (see the top of the file), p->batch of them into out; each
 * in [0, seqlen_k]. */
void fa_problem_cache_lens(const fa_problem *p, int *out);
/* "fixed" | "uniform"; "?" for anything else. */
const char *fa_cache_lens_name(int c);
/* Parse "fixed"/"uniform"; FA_INVALID otherwise (*out untouched). */
fa_status fa_cache_lens_parse(const char *s, int *out);
/* Build a distribution from n >= 1 lengths (each >= 0, >= 1 for varlen; need not be sorted). */
void fa_varlen_dist_from(const int *lengths, int n, fa_varlen_dist *d);
/* Mean of the distribution's lengths cut at seqlen. */
double fa_varlen_dist_mean(const fa_varlen_dist *d, int seqlen);

#endif /* FA_PROBLEM_H */
