/* This file implements the default problem grid, shapes files and shard membership
 * (see fa_problem_set.h). */
#include "fa_problem_set.h"

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

fa_status fa_problem_set_build(const fa_problem_axes *ax, fa_problem **out, int *n, fa_err *err)
{
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
    int k = 0;
    const char *p = s ? s : "";
    while (*p) {
        char *end = NULL;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x <= 0)
            return FA_ERR(err, FA_INVALID, "'%s': expected a comma list of positive integers", s);
        if (*end == 'k' || *end == 'K') {
            x *= 1024;
            end++;
        }
        if (x > (1 << 24))
            return FA_ERR(err, FA_INVALID, "'%s': %ld is too large", s, x);
        if (*end && *end != ',')
            return FA_ERR(err, FA_INVALID, "'%s': unexpected '%c'", s, *end);
        if (k == max)
            return FA_ERR(err, FA_INVALID, "'%s': at most %d values", s, max);
        out[k++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (k == 0)
        return FA_ERR(err, FA_INVALID, "empty list");
    *n = k;
    return FA_OK;
}

/* Parses one "key=value" field of a shapes line into p; 0 ok, -1 with a message in why. */
static int shape_field(fa_problem *p, const char *key, const char *val, char *why, size_t nwhy)
{
    char *end = NULL;
    long x = strtol(val, &end, 10);
    int is_int = *val && !*end;
    struct {
        const char *key;
        int *dst;
        long lo, hi;
    } ints[] = {
        {"headdim", &p->head_dim, 1, 1024},     {"batch", &p->batch, 1, 1 << 20},
        {"heads", &p->heads_q, 1, 4096},        {"heads_kv", &p->heads_kv, 1, 4096},
        {"seqlen_q", &p->seqlen_q, 1, 1 << 24}, {"seqlen_k", &p->seqlen_k, 1, 1 << 24},
        {"causal", &p->causal, 0, 1},           {"varlen", &p->varlen, 0, 1},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (strcmp(key, ints[i].key) != 0)
            continue;
        if (!is_int || x < ints[i].lo || x > ints[i].hi) {
            snprintf(why, nwhy, "field '%s': expected an integer in [%ld, %ld], got '%s'", key,
                     ints[i].lo, ints[i].hi, val);
            return -1;
        }
        *ints[i].dst = (int)x;
        return 0;
    }
    if (!strcmp(key, "dtype")) {
        if (fa_dtype_parse(val, &p->dtype) != FA_OK) {
            snprintf(why, nwhy, "field 'dtype': expected fp16 or bf16, got '%s'", val);
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "layout")) {
        if (!strcmp(val, "bshd"))
            p->layout = FA_LAYOUT_BSHD;
        else if (!strcmp(val, "bhsd"))
            p->layout = FA_LAYOUT_BHSD;
        else {
            snprintf(why, nwhy, "field 'layout': expected bshd or bhsd, got '%s'", val);
            return -1;
        }
        return 0;
    }
    snprintf(why, nwhy,
             "unknown field '%s' (fields: dtype headdim batch heads heads_kv seqlen_q seqlen_k "
             "causal varlen layout)",
             key);
    return -1;
}

fa_status fa_problem_set_read(const char *path, fa_dtype default_dtype, int default_head_dim,
                              fa_problem **out, int *n, fa_err *err)
{
    fa_status st = FA_OK;
    fa_problem *ps = NULL;
    int k = 0, cap = 0, lineno = 0;
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return FA_ERR(err, FA_IO, "cannot read shapes file '%s': %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        lineno++;
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
            char why[256];
            char *eq = strchr(tok, '=');
            if (!eq) {
                st = FA_ERR(err, FA_INVALID, "%s:%d: '%s' is not key=value", path, lineno, tok);
                goto cleanup;
            }
            *eq = '\0';
            if (shape_field(&p, tok, eq + 1, why, sizeof why) != 0) {
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
    int *v = NULL, k = 0, cap = 0, lineno = 0;
    char line[4096];
    while (st == FA_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        for (char *tok = strtok_r(line, " \t\r\n,", &save); tok && st == FA_OK;
             tok = strtok_r(NULL, " \t\r\n,", &save)) {
            char *end = NULL;
            errno = 0;
            long x = strtol(tok, &end, 10);
            if (end == tok || *end || errno || x < 1 || x > (1 << 24)) {
                st = FA_ERR(err, FA_INVALID,
                            "%s:%d: '%s' is not a sequence length (an integer from 1 to %d)", path,
                            lineno, tok, 1 << 24);
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
    fclose(f);
    return st;
}

void fa_problem_set_use_lengths(fa_problem *ps, int n, const fa_varlen_dist *d)
{
    for (int i = 0; i < n; i++)
        if (ps[i].varlen) {
            ps[i].lengths = *d;
            ps[i].seed = fa_problem_seed(&ps[i]);
        }
}
