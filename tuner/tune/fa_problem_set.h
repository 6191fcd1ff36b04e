/*
 * fa_problem_set.h -- the problems a tuning run measures.
 *
 * The default set for a head dim D is FlashAttention's benchmark grid crossed with the modes
 * users ship: seqlens 512, 1k, 2k, 4k, 8k, 16k with batch = tokens / N (16k tokens) and
 * heads = hidden / D (hidden 2048); causal and non-causal; fixed-length and varlen; GQA ratio
 * g in {1, 4, 8} (heads_kv = heads / g); bf16 and fp16. Every axis can be narrowed.
 *
 * Varlen problems pack `batch` sequences whose lengths are drawn uniformly from [N/2, N]
 * (fa_varlen_lengths, seeded by the problem's seed, which is derived from its name so the
 * same problem always has the same lengths).
 *
 * A seqlens file (--seqlens-file FILE) replaces that draw with the user's own lengths, e.g.
 * the document lengths of a dataset: integers separated by spaces, commas or newlines, '#'
 * comments. A length of 0 is read (a decode problem's empty cache) but refused by varlen
 * problems (fa_problem_check). The file becomes a distribution (fa_varlen_dist: 64 quantiles); each
 * varlen problem with maximum N draws its sequences from it, each cut at N, and packs as many as
 * fill the token budget on average: batch = round(tokens / mean length cut at N). The
 * problem's name then ends in _lens<id>, so results of different files never mix.
 *
 * The default decode set (op decode, `--op decode`) for a head dim D: bf16; seqlen_q 1 and 4
 * (decode and speculative decoding), causal (bottom-right: with one new token the same as
 * non-causal); cache lengths 1k, 4k, 16k, 64k, 128k, each at batch 1 and at batch = tokens /
 * cache (tokens 256k, batch at most 128); heads 32/8, 64/8, 16/16 and 32/1 at D = 128, the
 * query heads scaled by 128 / D (the kv heads too, except MQA's one); contiguous caches and
 * pages of 64 rows; every sequence at the full cache length (cache_lens fixed). --seqlens
 * gives the cache lengths, --gqa narrows the head pairs by ratio, --heads/--heads-kv replace
 * them, --seqlens-q, --page-size and --cache-lens set the decode axes.
 *
 * A shapes file (--shapes FILE) lists the user's own problems, one a line, as key=value
 * fields separated by spaces; '#' starts a comment:
 *     # keys: dtype headdim batch heads heads_kv seqlen_q seqlen_k causal varlen layout
 *     #       op page_size cache_lens
 *     dtype=bf16 headdim=128 batch=4 heads=16 heads_kv=4 seqlen_q=4096 causal=1
 *     op=decode batch=64 heads=32 heads_kv=8 seqlen_q=1 seqlen_k=4096 page_size=64
 * Defaults: dtype and headdim from the command line, heads_kv = heads, seqlen_k = seqlen_q,
 * causal=0, varlen=0, layout=bshd, op=fwd, page_size=0 (contiguous), cache_lens=fixed (or
 * uniform: each sequence's cache length uniform in [seqlen_k/2, seqlen_k]); page_size and
 * cache_lens need op=decode, where seqlen_k is the longest cache. --seqlens-file replaces a
 * decode problem's cache lengths by the file's, as it does a varlen problem's lengths. A bad line
 * is reported as FILE:LINE with the field; a key given twice on a line, a value out of range and a
 * NUL byte are errors. Lines may be of any length (in both files).
 */
#ifndef FA_PROBLEM_SET_H
#define FA_PROBLEM_SET_H

#include "fa_problem.h"

#define FA_MAX_AXIS 16

typedef struct fa_problem_axes {
    int head_dim;
    int n_dtypes;
    fa_dtype dtypes[2];
    int n_seqlens;
    int seqlens[FA_MAX_AXIS];
    int n_causal;
    int causal[2];
    int n_varlen;
    int varlen[2];
    int n_gqa;
    int gqa[FA_MAX_AXIS];
    int tokens;                    /* batch * seqlen */
    int hidden;                    /* heads * head_dim (ignored when heads > 0) */
    int heads;                     /* 0: hidden / head_dim */
    int heads_kv;                  /* 0: from the gqa axis */
    const fa_varlen_dist *lengths; /* varlen lengths from a seqlens file; NULL: uniform */
    /* The op; decode's own axes below (fa_problem_axes_decode fills them). */
    fa_op op;
    int n_seqlens_q;
    int seqlens_q[FA_MAX_AXIS]; /* decode: new tokens per sequence */
    int n_page_sizes;
    int page_sizes[FA_MAX_AXIS]; /* decode: 0 contiguous */
    int n_cache_lens;
    int cache_lens[2]; /* decode: fa_cache_lens values */
} fa_problem_axes;

/* The default axes for head_dim (see top of file). */
void fa_problem_axes_default(int head_dim, fa_problem_axes *ax);

/* The default decode axes for head_dim (see top of file): op decode, tokens 256k. */
void fa_problem_axes_decode(int head_dim, fa_problem_axes *ax);

/* Expand axes into problems (new array, caller frees). Combinations that make no sense
 * (heads not divisible by g) are skipped; FA_INVALID if nothing is left. */
fa_status fa_problem_set_build(const fa_problem_axes *ax, fa_problem **out, int *n, fa_err *err);

/* Read a shapes file (format at top). Lines naming another head dim than default_head_dim are
 * kept (a shapes file may span head dims). New array, caller frees. FA_INVALID with
 * "FILE:LINE: ..." on a bad line; FA_IO if the file cannot be read. */
fa_status fa_problem_set_read(const char *path, fa_dtype default_dtype, int default_head_dim,
                              fa_problem **out, int *n, fa_err *err);

/* Read a seqlens file (format at top) into a distribution. *count, *min, *max describe the
 * file (may be NULL). FA_INVALID "FILE:LINE: ..." naming a bad token; FA_IO if unreadable. */
fa_status fa_seqlens_file_read(const char *path, fa_varlen_dist *d, int *count, int *min, int *max,
                               fa_err *err);
/* Give every varlen and every decode problem of ps the distribution d (a shapes file's problems
 * keep their batch) and re-derive its seed from its new name. */
void fa_problem_set_use_lengths(fa_problem *ps, int n, const fa_varlen_dist *d);

/* Largest value of a list fa_parse_int_list reads. */
#define FA_INT_LIST_MAX (1 << 24)

/* Parse a comma list of ints in [1, FA_INT_LIST_MAX] ("512,1024,4k"; k = *1024) into out (at
 * most max). FA_INVALID naming the bad item and the range. */
fa_status fa_parse_int_list(const char *s, int *out, int max, int *n, fa_err *err);

/* Deterministic seed of a problem from its name (FNV-1a), so inputs and varlen lengths are
 * the same in every run, on every node. */
uint64_t fa_problem_seed(const fa_problem *p);

/* Shard membership: is `key` (a variant name) in shard i of n? Deterministic across hosts
 * (FNV-1a of the key mod n). */
int fa_shard_has(const char *key, int shard_index, int shard_count);

#endif /* FA_PROBLEM_SET_H */
