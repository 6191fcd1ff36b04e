/* This file implements problem names, FLOP counts, seqlen buckets and the seeded varlen
 * length distribution (see fa_problem.h). */
#include "fa_problem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_family.h"
#include "fa_util.h"

void fa_problem_name(const fa_problem *p, char *buf, size_t n)
{
    char lens[16] = "", decode[48] = "";
    if ((p->varlen || p->op == FA_OP_DECODE) && p->lengths.id)
        snprintf(lens, sizeof lens, "_lens%08x", (unsigned)p->lengths.id);
    else if (p->op == FA_OP_DECODE && p->cache_lens != FA_CACHE_FIXED)
        snprintf(lens, sizeof lens, "_%s", fa_cache_lens_name(p->cache_lens));
    if (p->op == FA_OP_DECODE) {
        if (p->page_size)
            snprintf(decode, sizeof decode, "_decode_page%d", p->page_size);
        else
            snprintf(decode, sizeof decode, "_decode");
    } else if (p->op != FA_OP_FWD) {
        snprintf(decode, sizeof decode, "_%s", fa_op_name(p->op));
    }
    snprintf(buf, n, "b%d_h%d_kv%d_q%d_k%d_d%d_%s%s%s%s%s%s", p->batch, p->heads_q, p->heads_kv,
             p->seqlen_q, p->seqlen_k, p->head_dim, fa_dtype_name(p->dtype),
             p->causal ? "_causal" : "", p->varlen ? "_varlen" : "", decode, lens,
             p->layout == FA_LAYOUT_BHSD ? "_bhsd" : "");
}

int fa_problem_gqa(const fa_problem *p)
{
    return p->heads_kv > 0 ? p->heads_q / p->heads_kv : 0;
}

int fa_gqa_nearer(int a, int b, int g)
{
    const int64_t na = a > g ? a : g, da = a > g ? g : a; /* a's distance: na / da >= 1 */
    const int64_t nb = b > g ? b : g, db = b > g ? g : b;
    return na * db < nb * da || (na * db == nb * da && a > b);
}

int fa_seqlen_bucket(int seqlen)
{
    int b = 128;
    while (b < seqlen && b < (1 << 30))
        b <<= 1;
    return b;
}

int fa_decode_q_bucket(int seqlen_q)
{
    return seqlen_q <= 1 ? 1 : seqlen_q <= 4 ? 4 : 16;
}

/* Visible (query, key) pairs for one sequence, bottom-right aligned causal mask. */
static double visible_pairs(int sq, int sk, int causal)
{
    if (sq <= 0 || sk <= 0)
        return 0;
    if (!causal)
        return (double)sq * sk;
    if (sq == sk)
        return 0.5 * (double)sq * sk; /* the benchmark convention: halve N^2 */
    /* Query i sees keys 0 .. i + sk - sq: none for i < sq - sk, then i + sk - sq + 1 keys, up
     * to sk for the last query. In closed form, so a length read from a database costs no loop
     * (an even integer halved: exact in a double up to 2^53, as the row-by-row sum was). */
    const double first = sq > sk ? sq - sk : 0; /* the first query that sees a key */
    const double rows = sq - first, lo = first + sk - sq + 1;
    return rows * (lo + sk) / 2;
}

double fa_problem_flops(const fa_problem *p, const int *seqlens_q, const int *seqlens_k)
{
    double pairs = 0;
    if (p->varlen && seqlens_q && seqlens_k) {
        for (int b = 0; b < p->batch; b++)
            pairs += visible_pairs(seqlens_q[b], seqlens_k[b], p->causal);
    } else {
        pairs = p->batch * visible_pairs(p->seqlen_q, p->seqlen_k, p->causal);
    }
    return 4.0 * p->heads_q * p->head_dim * pairs;
}

double fa_problem_work(const fa_problem *p, const int *seqlens_q, const int *seqlens_k,
                       const int *cache_lens)
{
    if (p->op != FA_OP_DECODE)
        return fa_problem_flops(p, seqlens_q, seqlens_k);
    double rows = 0;
    for (int b = 0; b < p->batch; b++)
        rows += cache_lens ? cache_lens[b] : p->seqlen_k;
    return rows * 2.0 * p->heads_kv * p->head_dim * 2.0; /* K and V, 16-bit elements */
}

const char *fa_problem_rate_unit(const fa_problem *p)
{
    return p->op == FA_OP_DECODE ? "TB/s" : "TFLOP/s";
}

float fa_problem_scale(const fa_problem *p)
{
    return p->softmax_scale > 0 ? p->softmax_scale : 1.0f / sqrtf((float)p->head_dim);
}

fa_status fa_problem_check(const fa_problem *p, fa_err *err)
{
    if (!fa_head_dim_supported(p->head_dim))
        return FA_ERR(err, FA_INVALID, "head dim %d is not supported (supported: %s)", p->head_dim,
                      fa_head_dim_list());
    if (p->batch < 1)
        return FA_ERR(err, FA_INVALID, "batch %d must be at least 1", p->batch);
    if (p->heads_q < 1 || p->heads_kv < 1)
        return FA_ERR(err, FA_INVALID, "heads (%d) and kv heads (%d) must be at least 1",
                      p->heads_q, p->heads_kv);
    if (p->heads_q % p->heads_kv != 0)
        return FA_ERR(err, FA_INVALID, "heads %d is not a multiple of kv heads %d", p->heads_q,
                      p->heads_kv);
    if (p->seqlen_q < 1 || p->seqlen_k < 1)
        return FA_ERR(err, FA_INVALID, "seqlens must be at least 1 (got q %d, k %d)", p->seqlen_q,
                      p->seqlen_k);
    const int decode = p->op == FA_OP_DECODE;
    for (int i = 0; p->lengths.id && i < FA_VARLEN_QUANTILES; i++)
        if (p->lengths.q[i] < (decode ? 0 : 1))
            return FA_ERR(err, FA_INVALID, "%s length distribution holds length %d",
                          decode ? "cache" : "varlen", p->lengths.q[i]);
    if (p->varlen && p->layout != FA_LAYOUT_BSHD)
        return FA_ERR(err, FA_INVALID,
                      "varlen problems are packed (tokens, heads, dim): bhsd "
                      "layout does not apply");
    if (p->op != FA_OP_FWD && !decode)
        return FA_ERR(err, FA_INVALID, "op %d is not an op fa-tune knows", (int)p->op);
    if (!decode && (p->page_size || p->cache_lens))
        return FA_ERR(err, FA_INVALID,
                      "page size and cache lengths apply to decode problems only (op fwd)");
    if (!decode)
        return FA_OK;
    if (p->seqlen_q > FA_DECODE_SEQLEN_Q_MAX)
        return FA_ERR(err, FA_INVALID, "decode seqlen_q %d is above %d (new tokens per sequence)",
                      p->seqlen_q, FA_DECODE_SEQLEN_Q_MAX);
    if (p->varlen)
        return FA_ERR(err, FA_INVALID,
                      "decode problems are not varlen: the cache lengths vary instead");
    /* A contiguous cache may be either layout (the kernel reads K/V through strides): bshd is
     * FlashAttention's flash_attn_with_kvcache, bhsd a Hugging Face past_key_value. Pages hold
     * (page_size, heads, dim) rows, so a paged cache is bshd. */
    if (p->layout != FA_LAYOUT_BSHD && p->page_size)
        return FA_ERR(err, FA_INVALID,
                      "paged decode caches are bshd (page_size rows of heads x dim): bhsd "
                      "layout applies to contiguous caches only");
    if (p->page_size && (p->page_size < FA_PAGE_SIZE_MIN || p->page_size > FA_PAGE_SIZE_MAX))
        return FA_ERR(err, FA_INVALID, "page size %d is not 0 (contiguous) or in [%d, %d]",
                      p->page_size, FA_PAGE_SIZE_MIN, FA_PAGE_SIZE_MAX);
    if (p->cache_lens != FA_CACHE_FIXED && p->cache_lens != FA_CACHE_UNIFORM)
        return FA_ERR(err, FA_INVALID, "cache lengths %d are not fixed (0) or uniform (1)",
                      p->cache_lens);
    return FA_OK;
}

int fa_problem_same_class(const fa_problem *a, const fa_problem *b)
{
    return a->op == b->op && a->dtype == b->dtype && a->head_dim == b->head_dim &&
           a->causal == b->causal && a->varlen == b->varlen &&
           (a->op != FA_OP_DECODE || (a->seqlen_q == b->seqlen_q && a->page_size == b->page_size));
}

int fa_variant_matches(const fa_variant *v, const fa_problem *p)
{
    return v->op == p->op && v->dtype == p->dtype && v->head_dim == p->head_dim &&
           v->causal == p->causal && v->varlen == p->varlen;
}

void fa_varlen_lengths(uint64_t seed, int seqlen, int batch, int *out)
{
    uint64_t s = seed;
    int lo = seqlen / 2 > 0 ? seqlen / 2 : 1;
    for (int b = 0; b < batch; b++)
        out[b] = lo + (int)(fa_splitmix64(&s) % (uint64_t)(seqlen - lo + 1));
}

void fa_problem_varlen_lengths(const fa_problem *p, uint64_t seed, int seqlen, int *out)
{
    if (!p->lengths.id) {
        fa_varlen_lengths(seed, seqlen, p->batch, out);
        return;
    }
    uint64_t s = seed;
    for (int b = 0; b < p->batch; b++) {
        int x = p->lengths.q[fa_splitmix64(&s) % FA_VARLEN_QUANTILES];
        out[b] = x < seqlen ? x : seqlen;
    }
}

void fa_problem_cache_lens(const fa_problem *p, int *out)
{
    if (p->lengths.id)
        fa_problem_varlen_lengths(p, p->seed, p->seqlen_k, out);
    else if (p->cache_lens == FA_CACHE_UNIFORM)
        fa_varlen_lengths(p->seed, p->seqlen_k, p->batch, out);
    else
        for (int b = 0; b < p->batch; b++)
            out[b] = p->seqlen_k;
}

const char *fa_cache_lens_name(int c)
{
    return c == FA_CACHE_FIXED ? "fixed" : c == FA_CACHE_UNIFORM ? "uniform" : "?";
}

fa_status fa_cache_lens_parse(const char *s, int *out)
{
    if (!strcmp(s, "fixed"))
        *out = FA_CACHE_FIXED;
    else if (!strcmp(s, "uniform"))
        *out = FA_CACHE_UNIFORM;
    else
        return FA_INVALID;
    return FA_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void fa_varlen_dist_from(const int *lengths, int n, fa_varlen_dist *d)
{
    memset(d, 0, sizeof *d);
    int *s = malloc(sizeof *s * (size_t)n);
    if (!s || n < 1) {
        free(s);
        return;
    }
    memcpy(s, lengths, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_int);
    uint32_t h = 2166136261u; /* FNV-1a over the quantiles */
    for (int i = 0; i < FA_VARLEN_QUANTILES; i++) {
        d->q[i] = s[(int)(((double)i + 0.5) * n / FA_VARLEN_QUANTILES)];
        for (int k = 0; k < 4; k++)
            h = (h ^ (((uint32_t)d->q[i] >> (8 * k)) & 0xffu)) * 16777619u;
    }
    d->id = h ? h : 1;
    free(s);
}

double fa_varlen_dist_mean(const fa_varlen_dist *d, int seqlen)
{
    double sum = 0;
    for (int i = 0; i < FA_VARLEN_QUANTILES; i++)
        sum += d->q[i] < seqlen ? d->q[i] : seqlen;
    return sum / FA_VARLEN_QUANTILES;
}
