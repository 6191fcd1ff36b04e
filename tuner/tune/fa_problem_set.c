/* This file implements the default problem grid, shapes files and shard membership
 * (see fa_problem_set.h). */
#include "fa_problem_set.h"

#include "fa_family.h"
#include "fa_parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fa_problem_axes_default(int head_dim, fa_problem_axes *ax)
{
    static const int seqlens[] = {512, 1024, 2048, 4096, 8192, 16384};
    memset(ax, 0, sizeof *ax);
    ax->head_dim = head_dim;
    ax->n_dtypes = 2;
    ax->dtypes[0] = FA_DTYPE_BF16;
    ax->dtypes[1] = FA_DTYPE_FP16;
    ax->n_seqlens = 6;
    memcpy(ax->seqlens, seqlens, sizeof seqlens);
    ax->n_causal = 2;
    ax->causal[0] = 0;
    ax->causal[1] = 1;
    ax->n_varlen = 2;
    ax->varlen[0] = 0;
    ax->varlen[1] = 1;
    ax->n_gqa = 3;
    ax->gqa[0] = 1;
    ax->gqa[1] = 4;
    ax->gqa[2] = 8;
    ax->tokens = 16384;
    ax->hidden = 2048;
}

void fa_problem_axes_decode(int head_dim, fa_problem_axes *ax)
{
    static const int caches[] = {1024, 4096, 16384, 65536, 131072};
    memset(ax, 0, sizeof *ax);
    ax->op = FA_OP_DECODE;
    ax->head_dim = head_dim;
    ax->n_dtypes = 1;
    ax->dtypes[0] = FA_DTYPE_BF16;
    ax->n_seqlens = 5;
    memcpy(ax->seqlens, caches, sizeof caches);
    ax->n_causal = 1;
    ax->causal[0] = 1;
    ax->n_varlen = 1;
    ax->varlen[0] = 0;
    ax->n_gqa = 0; /* every default head pair */
    ax->tokens = 256 * 1024;
    ax->hidden = 0;
    ax->n_seqlens_q = 2;
    ax->seqlens_q[0] = 1;
    ax->seqlens_q[1] = 4;
    ax->n_page_sizes = 2;
    ax->page_sizes[0] = 0;
    ax->page_sizes[1] = 64;
    ax->n_cache_lens = 1;
    ax->cache_lens[0] = FA_CACHE_FIXED;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

uint64_t fa_problem_seed(const fa_problem *p)
{
    char name[FA_PROBLEM_NAME_MAX];
    fa_problem_name(p, name, sizeof name);
    return fnv1a(name);
}

int fa_shard_has(const char *key, int shard_index, int shard_count)
{
    if (shard_count <= 1)
        return 1;
    return (int)(fnv1a(key) % (uint64_t)shard_count) == shard_index;
}

/* The head pairs of the decode grid: {heads_q, heads_kv} at head dim 128. */
static const int decode_heads[][2] = {{32, 8}, {64, 8}, {16, 16}, {32, 1}};
#define DECODE_HEAD_PAIRS ((int)(sizeof decode_heads / sizeof decode_heads[0]))
#define DECODE_BATCH_MAX 128

/* The decode pairs (heads_q, heads_kv) the axes ask for into hq/hk; returns their count. */
static int decode_head_pairs(const fa_problem_axes *ax, int *hq, int *hk)
{
    int n = 0;
    if (ax->heads > 0 && (ax->heads_kv > 0 || !ax->n_gqa)) {
        hq[0] = ax->heads; /* --heads alone: one kv head per query head */
        hk[0] = ax->heads_kv > 0 ? ax->heads_kv : ax->heads;
        return 1;
    }
    if (ax->heads > 0) {
        for (int g = 0; g < ax->n_gqa; g++)
            if (ax->gqa[g] >= 1 && ax->heads % ax->gqa[g] == 0) {
                hq[n] = ax->heads;
                hk[n++] = ax->heads / ax->gqa[g];
            }
        return n;
    }
    for (int i = 0; i < DECODE_HEAD_PAIRS; i++) {
        int q = decode_heads[i][0] * 128 / ax->head_dim;
        int kv = decode_heads[i][1] == 1 ? 1 : decode_heads[i][1] * 128 / ax->head_dim;
        q = q < 1 ? 1 : q;
        kv = kv < 1 ? 1 : kv;
        int keep = !ax->n_gqa;
        for (int g = 0; g < ax->n_gqa; g++)
            keep |= kv * ax->gqa[g] == q;
        if (keep) {
            hq[n] = q;
            hk[n++] = kv;
        }
    }
    return n;
}

static fa_status decode_set_build(const fa_problem_axes *ax, fa_problem **out, int *n, fa_err *err)
{
    int hq[FA_MAX_AXIS], hk[FA_MAX_AXIS];
    int npairs = decode_head_pairs(ax, hq, hk);
    int cap = ax->n_dtypes * ax->n_causal * ax->n_seqlens_q * npairs * ax->n_cache_lens *
              ax->n_page_sizes * ax->n_seqlens * 2;
    fa_problem *ps = calloc(cap > 0 ? (size_t)cap : 1, sizeof *ps);
    if (!ps)
        return FA_ERR(err, FA_NOMEM, "out of memory building the problem set");
    int k = 0;
    for (int t = 0; t < ax->n_dtypes; t++)
        for (int c = 0; c < ax->n_causal; c++)
            for (int q = 0; q < ax->n_seqlens_q; q++)
                for (int h = 0; h < npairs; h++)
                    for (int l = 0; l < ax->n_cache_lens; l++)
                        for (int g = 0; g < ax->n_page_sizes; g++)
                            for (int s = 0; s < ax->n_seqlens; s++) {
                                int full = ax->tokens / ax->seqlens[s];
                                full = full < 1                  ? 1
                                       : full > DECODE_BATCH_MAX ? DECODE_BATCH_MAX
                                                                 : full;
                                const int batches[2] = {1, full};
                                for (int b = 0; b < (full > 1 ? 2 : 1); b++) {
                                    fa_problem p = {0};
                                    p.op = FA_OP_DECODE;
                                    p.dtype = ax->dtypes[t];
                                    p.head_dim = ax->head_dim;
                                    p.causal = ax->causal[c];
                                    p.seqlen_q = ax->seqlens_q[q];
                                    p.seqlen_k = ax->seqlens[s];
                                    p.batch = batches[b];
                                    p.heads_q = hq[h];
                                    p.heads_kv = hk[h];
                                    p.layout = FA_LAYOUT_BSHD;
                                    p.page_size = ax->page_sizes[g];
                                    p.cache_lens = ax->cache_lens[l];
                                    if (ax->lengths && ax->lengths->id)
                                        p.lengths = *ax->lengths;
                                    if (fa_problem_check(&p, NULL) != FA_OK)
                                        continue;
                                    p.seed = fa_problem_seed(&p);
                                    ps[k++] = p;
                                }
                            }
    if (k == 0) {
        free(ps);
        return FA_ERR(err, FA_INVALID,
                      "no decode problem left: the heads and gqa ratios asked for leave no "
                      "(heads, kv heads) pair");
    }
    *out = ps;
    *n = k;
    return FA_OK;
}

fa_status fa_problem_set_build(const fa_problem_axes *ax, fa_problem **out, int *n, fa_err *err)
{
    if (ax->op == FA_OP_DECODE)
        return decode_set_build(ax, out, n, err);
    int cap = ax->n_dtypes * ax->n_seqlens * ax->n_causal * ax->n_varlen * ax->n_gqa;
    fa_problem *ps = calloc(cap > 0 ? (size_t)cap : 1, sizeof *ps);
    if (!ps)
        return FA_ERR(err, FA_NOMEM, "out of memory building the problem set");
    int k = 0;
    int heads = ax->heads > 0 ? ax->heads : ax->hidden / ax->head_dim;
    for (int t = 0; t < ax->n_dtypes; t++)
        for (int c = 0; c < ax->n_causal; c++)
            for (int v = 0; v < ax->n_varlen; v++)
                for (int g = 0; g < ax->n_gqa; g++)
                    for (int s = 0; s < ax->n_seqlens; s++) {
                        fa_problem p = {0};
                        p.dtype = ax->dtypes[t];
                        p.head_dim = ax->head_dim;
                        p.causal = ax->causal[c];
                        p.varlen = ax->varlen[v];
                        p.seqlen_q = p.seqlen_k = ax->seqlens[s];
                        p.batch = ax->tokens / ax->seqlens[s] > 0 ? ax->tokens / ax->seqlens[s] : 1;
                        p.heads_q = heads;
                        if (ax->heads_kv > 0) {
                            if (ax->gqa[g] != heads / ax->heads_kv)
                                continue; /* --heads-kv fixes g: one value of the axis */
                            p.heads_kv = ax->heads_kv;
                        } else {
                            if (ax->gqa[g] < 1 || heads % ax->gqa[g] != 0)
                                continue;
                            p.heads_kv = heads / ax->gqa[g];
                        }
                        p.layout = FA_LAYOUT_BSHD;
                        if (p.varlen && ax->lengths && ax->lengths->id) {
                            /* As many of the user's sequences as fill the token budget. */
                            p.lengths = *ax->lengths;
                            double mean = fa_varlen_dist_mean(ax->lengths, p.seqlen_q);
                            long b = lround(ax->tokens / mean);
                            p.batch = b < 1 ? 1 : b > (1 << 20) ? 1 << 20 : (int)b;
                        }
                        if (fa_problem_check(&p, NULL) != FA_OK)
                            continue;
                        p.seed = fa_problem_seed(&p);
                        ps[k++] = p;
                    }
    if (k == 0) {
        free(ps);
        return FA_ERR(err, FA_INVALID,
                      "no problem left: heads %d is not divisible by any requested gqa ratio",
                      heads);
    }
    *out = ps;
    *n = k;
    return FA_OK;
}

fa_status fa_parse_int_list(const char *s, int *out, int max, int *n, fa_err *err)
{
    char shown[128], item[64];
    int k = 0;
    const char *p = s ? s : "";
    fa_printable(s, shown, sizeof shown);
    while (*p) {
        size_t len = strcspn(p, ",");
        int64_t x;
        if (len >= sizeof item)
            len = sizeof item - 1; /* too long for any value in range: refused below */
        memcpy(item, p, len);
        item[len] = '\0';
        if (fa_parse_int64(item, 1, FA_INT_LIST_MAX, FA_NUM_SUFFIX_K, &x) != 0) {
            char bad[80];
            return FA_ERR(err, FA_INVALID,
                          "'%s': '%s' is not an integer in [1, %d] (a k suffix multiplies by "
                          "1024)",
                          shown, fa_printable(item, bad, sizeof bad), FA_INT_LIST_MAX);
        }
        if (k == max)
            return FA_ERR(err, FA_INVALID, "'%s': at most %d values", shown, max);
        out[k++] = (int)x;
        p += strcspn(p, ",");
        if (*p == ',' && !*++p)
            return FA_ERR(err, FA_INVALID, "'%s': ends in ','", shown);
    }
    if (k == 0)
        return FA_ERR(err, FA_INVALID, "'%s': empty list", shown);
    *n = k;
    return FA_OK;
}

/* Parses one "key=value" field of a shapes line into p; 0 ok, -1 with a message in why.
 * *seen has bit i set for field i already given on this line (a repeat is an error: which
 * of two values was meant cannot be guessed). */
static int shape_field(fa_problem *p, const char *key, const char *val, unsigned *seen, char *why,
                       size_t nwhy)
{
    static const char *const keys[] = {"headdim",  "batch",  "heads",     "heads_kv",  "seqlen_q",
                                       "seqlen_k", "causal", "varlen",    "page_size", "dtype",
                                       "layout",   "op",     "cache_lens"};
    struct {
        int *dst;
        long lo, hi;
    } ints[] = {
        {&p->head_dim, 1, 1024}, {&p->batch, 1, 1 << 20},    {&p->heads_q, 1, 4096},
        {&p->heads_kv, 1, 4096}, {&p->seqlen_q, 1, 1 << 24}, {&p->seqlen_k, 1, 1 << 24},
        {&p->causal, 0, 1},      {&p->varlen, 0, 1},         {&p->page_size, 0, FA_PAGE_SIZE_MAX},
    };
    char shown_key[64], shown[128];
    fa_printable(val, shown, sizeof shown);
    size_t i = 0;
    while (i < sizeof keys / sizeof keys[0] && strcmp(key, keys[i]) != 0)
        i++;
    if (i == sizeof keys / sizeof keys[0]) {
        snprintf(why, nwhy,
                 "unknown field '%s' (fields: dtype headdim batch heads heads_kv seqlen_q "
                 "seqlen_k causal varlen layout op page_size cache_lens)",
                 fa_printable(key, shown_key, sizeof shown_key));
        return -1;
    }
    if (*seen & (1u << i)) {
        snprintf(why, nwhy, "field '%s' given twice (again as '%s')", key, shown);
        return -1;
    }
    *seen |= 1u << i;
    if (i < sizeof ints / sizeof ints[0]) {
        int64_t x;
        if (fa_parse_int64(val, ints[i].lo, ints[i].hi, 0, &x) != 0) {
            snprintf(why, nwhy, "field '%s': expected an integer in [%ld, %ld], got '%s'", key,
                     ints[i].lo, ints[i].hi, shown);
            return -1;
        }
        *ints[i].dst = (int)x;
        return 0;
    }
    if (!strcmp(key, "dtype")) {
        if (fa_dtype_parse(val, &p->dtype) != FA_OK) {
            snprintf(why, nwhy, "field 'dtype': expected fp16 or bf16, got '%s'", shown);
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "op")) {
        if (fa_op_parse(val, &p->op) != FA_OK) {
            snprintf(why, nwhy, "field 'op': expected fwd or decode, got '%s'", shown);
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "cache_lens")) {
        if (fa_cache_lens_parse(val, &p->cache_lens) != FA_OK) {
            snprintf(why, nwhy, "field 'cache_lens': expected fixed or uniform, got '%s'", shown);
            return -1;
        }
        return 0;
    }
    if (!strcmp(val, "bshd"))
        p->layout = FA_LAYOUT_BSHD;
    else if (!strcmp(val, "bhsd"))
        p->layout = FA_LAYOUT_BHSD;
    else {
        snprintf(why, nwhy, "field 'layout': expected bshd or bhsd, got '%s'", shown);
        return -1;
    }
    return 0;
}

fa_status fa_problem_set_read(const char *path, fa_dtype default_dtype, int default_head_dim,
                              fa_problem **out, int *n, fa_err *err)
{
    fa_status st = FA_OK;
    fa_problem *ps = NULL;
    int k = 0, cap = 0, lineno = 0, got;
    char *line = NULL;
    size_t line_cap = 0, len = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return FA_ERR(err, FA_IO, "cannot read shapes file '%s': %s", path, strerror(errno));
    while ((got = fa_read_line(f, &line, &line_cap, &len)) != 0) {
        lineno++;
        if (got == -1)
            break; /* ferror below */
        if (got < -1) {
            st = FA_ERR(err, FA_INVALID, "%s:%d: %s", path, lineno, fa_read_line_problem(got));
            goto cleanup;
        }
        unsigned seen = 0;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        fa_problem p = {0};
        p.dtype = default_dtype;
        p.head_dim = default_head_dim;
        p.seqlen_k = -1;
        p.heads_kv = -1;
        int fields = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, " \t\r\n", &save); tok;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
            char why[512], shown[128];
            char *eq = strchr(tok, '=');
            if (!eq) {
                st = FA_ERR(err, FA_INVALID, "%s:%d: '%s' is not key=value", path, lineno,
                            fa_printable(tok, shown, sizeof shown));
                goto cleanup;
            }
            *eq = '\0';
            if (shape_field(&p, tok, eq + 1, &seen, why, sizeof why) != 0) {
                st = FA_ERR(err, FA_INVALID, "%s:%d: %s", path, lineno, why);
                goto cleanup;
            }
            fields++;
        }
        if (fields == 0)
            continue;
        if (p.batch == 0 || p.heads_q == 0 || p.seqlen_q == 0) {
            st = FA_ERR(err, FA_INVALID,
                        "%s:%d: fields 'batch', 'heads' and 'seqlen_q' are required", path, lineno);
            goto cleanup;
        }
        if (p.seqlen_k < 0 && p.op == FA_OP_DECODE) {
            st = FA_ERR(err, FA_INVALID,
                        "%s:%d: field 'seqlen_k' (the longest cache) is required with op=decode",
                        path, lineno);
            goto cleanup;
        }
        if (p.seqlen_k < 0)
            p.seqlen_k = p.seqlen_q;
        if (p.heads_kv < 0)
            p.heads_kv = p.heads_q;
        fa_err perr = {0};
        if (fa_problem_check(&p, &perr) != FA_OK) {
            st = FA_ERR(err, FA_INVALID, "%s:%d: %s", path, lineno, perr.msg);
            goto cleanup;
        }
        p.seed = fa_problem_seed(&p);
        if (k == cap) {
            cap = cap ? 2 * cap : 16;
            fa_problem *grown = realloc(ps, (size_t)cap * sizeof *ps);
            if (!grown) {
                st = FA_ERR(err, FA_NOMEM, "out of memory reading '%s'", path);
                goto cleanup;
            }
            ps = grown;
        }
        ps[k++] = p;
    }
    if (ferror(f)) {
        st = FA_ERR(err, FA_IO, "cannot read shapes file '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    if (k == 0) {
        st = FA_ERR(err, FA_INVALID, "shapes file '%s' lists no problem", path);
        goto cleanup;
    }
    *out = ps;
    *n = k;
    ps = NULL;
cleanup:
    free(ps);
    free(line);
    fclose(f);
    return st;
}

fa_status fa_seqlens_file_read(const char *path, fa_varlen_dist *d, int *count, int *min, int *max,
                               fa_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return FA_ERR(err, FA_IO, "cannot read seqlens file '%s': %s", path, strerror(errno));
    fa_status st = FA_OK;
    int *v = NULL, k = 0, cap = 0, lineno = 0, got;
    char *line = NULL;
    size_t line_cap = 0, len = 0;
    while (st == FA_OK && (got = fa_read_line(f, &line, &line_cap, &len)) != 0) {
        lineno++;
        if (got == -1)
            break; /* ferror below */
        if (got < -1) {
            st = FA_ERR(err, FA_INVALID, "%s:%d: %s", path, lineno, fa_read_line_problem(got));
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        for (char *tok = strtok_r(line, " \t\r\n,", &save); tok && st == FA_OK;
             tok = strtok_r(NULL, " \t\r\n,", &save)) {
            int64_t x;
            if (fa_parse_int64(tok, 0, 1 << 24, 0, &x) != 0) {
                char shown[128];
                st = FA_ERR(err, FA_INVALID,
                            "%s:%d: '%s' is not a sequence length (an integer from 0 to %d)", path,
                            lineno, fa_printable(tok, shown, sizeof shown), 1 << 24);
                break;
            }
            if (k == cap) {
                cap = cap ? 2 * cap : 1024;
                int *grown = realloc(v, sizeof *v * (size_t)cap);
                if (!grown) {
                    st = FA_ERR(err, FA_NOMEM, "out of memory reading '%s'", path);
                    break;
                }
                v = grown;
            }
            v[k++] = (int)x;
        }
    }
    if (st == FA_OK && ferror(f))
        st = FA_ERR(err, FA_IO, "cannot read seqlens file '%s': %s", path, strerror(errno));
    if (st == FA_OK && k == 0)
        st = FA_ERR(err, FA_INVALID, "seqlens file '%s' lists no length", path);
    if (st == FA_OK) {
        fa_varlen_dist_from(v, k, d);
        int lo = v[0], hi = v[0];
        for (int i = 1; i < k; i++) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
        if (count)
            *count = k;
        if (min)
            *min = lo;
        if (max)
            *max = hi;
    }
    free(v);
    free(line);
    fclose(f);
    return st;
}

void fa_problem_set_use_lengths(fa_problem *ps, int n, const fa_varlen_dist *d)
{
    for (int i = 0; i < n; i++)
        if (ps[i].varlen || ps[i].op == FA_OP_DECODE) {
            ps[i].lengths = *d;
            ps[i].seed = fa_problem_seed(&ps[i]);
        }
}
