/* This file implements the import of peer measurements (bench/peers.py JSON lines) into the
 * results database (see fa_peers_import.h).
 *
 * The lines are parsed by cJSON (Debian's libcjson-dev): small, in main since Debian 10, one C
 * file with no dependencies, and it parses a line into a tree we walk, which is all a flat
 * object needs (json-c and jansson would do too, with more API than this file uses). */
#include "fa_peers_import.h"

#include "fa_family.h"
#include "fa_parse.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LARGEST_EXACT 9007199254740992.0 /* 2^53: every integer up to it is a double */

/* Where a message about the current line points, and the line's object. */
struct line_ctx {
    const char *path;
    int lineno;
    const cJSON *obj;
    fa_err *err;
};

static fa_status bad(const struct line_ctx *c, const char *field, const char *what,
                     const cJSON *item)
{
    char shown[64] = "";
    if (item && cJSON_IsNumber(item))
        snprintf(shown, sizeof shown, ", got %.17g", item->valuedouble);
    else if (item && cJSON_IsString(item)) {
        char text[48];
        snprintf(shown, sizeof shown, ", got '%s'",
                 fa_printable(item->valuestring, text, sizeof text));
    } else if (item && cJSON_IsBool(item))
        snprintf(shown, sizeof shown, ", got %s", cJSON_IsTrue(item) ? "true" : "false");
    else if (item)
        snprintf(shown, sizeof shown, ", got %s", cJSON_IsNull(item) ? "null" : "an array/object");
    return FA_ERR(c->err, FA_INVALID, "%s:%d: field '%s': %s%s", c->path, c->lineno, field, what,
                  shown);
}

/* An integer field in [lo, hi]; booleans read as 0/1. *present = 0 when absent (or null). */
static fa_status get_int(const struct line_ctx *c, const char *key, double lo, double hi,
                         int64_t *out, int *present)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(c->obj, key);
    *present = it && !cJSON_IsNull(it);
    if (!*present)
        return FA_OK;
    double x;
    if (cJSON_IsBool(it))
        x = cJSON_IsTrue(it) ? 1 : 0;
    else if (cJSON_IsNumber(it))
        x = it->valuedouble;
    else
        x = NAN;
    if (!(x >= lo && x <= hi) || x != floor(x)) {
        char what[96];
        snprintf(what, sizeof what, "expected an integer in [%.0f, %.0f]", lo, hi);
        return bad(c, key, what, it);
    }
    *out = (int64_t)x;
    return FA_OK;
}

/* A finite number in (lo, hi] (lo excluded: times and rates are positive). */
static fa_status get_positive(const struct line_ctx *c, const char *key, double hi, double *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(c->obj, key);
    if (!it || !cJSON_IsNumber(it) || !isfinite(it->valuedouble) || !(it->valuedouble > 0) ||
        it->valuedouble > hi) {
        char what[96];
        snprintf(what, sizeof what, "expected a number above 0 and at most %g (required)", hi);
        return bad(c, key, what, it);
    }
    *out = it->valuedouble;
    return FA_OK;
}

/* A string field into buf; *present = 0 when absent or null. Too long or not a string: error. */
static fa_status get_str(const struct line_ctx *c, const char *key, char *buf, size_t n,
                         int *present)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(c->obj, key);
    *present = it && !cJSON_IsNull(it);
    if (!*present)
        return FA_OK;
    if (!cJSON_IsString(it))
        return bad(c, key, "expected a string", it);
    if (strlen(it->valuestring) >= n) {
        char what[64];
        snprintf(what, sizeof what, "longer than %zu bytes", n - 1);
        return bad(c, key, what, it);
    }
    memcpy(buf, it->valuestring, strlen(it->valuestring) + 1);
    return FA_OK;
}

/* What becomes of one line's row. */
typedef enum { ROW_SKIPPED, ROW_SHAPE_COPY, ROW_STORED } row_fate;

/* The object on one line into row; *fate says whether it is stored, skipped (an "error" row:
 * the backend refused the shape) or a per-shape copy (counted, not stored). */
static fa_status parse_row(const struct line_ctx *c, fa_peer_row *row, row_fate *fate)
{
    fa_status s;
    int present;
    char dtype[16] = "", layout[16] = "", op[16] = "";
    memset(row, 0, sizeof *row);
    *fate = ROW_SKIPPED;
    if (cJSON_GetArraySize(c->obj) > 64) /* bounds the pairwise repeat check below */
        return FA_ERR(c->err, FA_INVALID, "%s:%d: more than 64 fields", c->path, c->lineno);
    for (const cJSON *a = c->obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (!strcmp(a->string, b->string)) {
                char shown[64];
                return FA_ERR(c->err, FA_INVALID, "%s:%d: field '%s' given twice", c->path,
                              c->lineno, fa_printable(a->string, shown, sizeof shown));
            }
    if ((s = get_str(c, "peer", row->peer, sizeof row->peer, &present)) != FA_OK)
        return s;
    if (!present || !row->peer[0])
        return FA_ERR(c->err, FA_INVALID, "%s:%d: no \"peer\" field", c->path, c->lineno);
    if (cJSON_GetObjectItemCaseSensitive(c->obj, "error"))
        return FA_OK; /* the backend refused the shape: counted, not stored */
    row->p.dtype = FA_DTYPE_BF16;
    if ((s = get_str(c, "dtype", dtype, sizeof dtype, &present)) != FA_OK)
        return s;
    if (present && fa_dtype_parse(dtype, &row->p.dtype) != FA_OK)
        return bad(c, "dtype", "expected fp16 or bf16",
                   cJSON_GetObjectItemCaseSensitive(c->obj, "dtype"));
    row->p.op = FA_OP_FWD;
    if ((s = get_str(c, "op", op, sizeof op, &present)) != FA_OK)
        return s;
    const int op_given = present;
    if (present && fa_op_parse(op, &row->p.op) != FA_OK)
        return bad(c, "op", "expected fwd or decode",
                   cJSON_GetObjectItemCaseSensitive(c->obj, "op"));
    /* The copy row and decode rows carry a bandwidth ("tbps": TB/s), not a FLOP rate: it is
     * what the database's tflops column holds for decode (fa_problem.h) and for a copy
     * ceiling (fa_db.h). */
    const int copy = fa_db_is_copy_ceiling(row->peer);
    const char *rate = copy || row->p.op == FA_OP_DECODE ? "tbps" : "tflops";
    if (copy && op_given) { /* a copy of one shape's bytes, not the device's copy bandwidth */
        *fate = ROW_SHAPE_COPY;
        return FA_OK;
    }
    if ((s = get_positive(c, "median_ms", 1e9, &row->median_ms)) != FA_OK ||
        (s = get_positive(c, rate, 1e9, &row->tflops)) != FA_OK)
        return s;
    *fate = ROW_STORED;
    if (copy || !strncmp(row->peer, "gemm_", 5)) {
        row->ceiling = 1;
        return FA_OK;
    }
    static const struct {
        const char *key;
        double lo, hi;
        int required;
    } ints[] = {
        {"head_dim", 1, 1024, 1}, {"batch", 1, 1 << 20, 1},    {"heads_q", 1, 4096, 1},
        {"heads_kv", 1, 4096, 1}, {"seqlen_q", 1, 1 << 24, 1}, {"seqlen_k", 1, 1 << 24, 1},
        {"causal", 0, 1, 0},      {"varlen", 0, 1, 0},         {"page_size", 0, 1 << 16, 0}};
    int *dst[] = {&row->p.head_dim, &row->p.batch,    &row->p.heads_q,
                  &row->p.heads_kv, &row->p.seqlen_q, &row->p.seqlen_k,
                  &row->p.causal,   &row->p.varlen,   &row->p.page_size};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t x = 0;
        if ((s = get_int(c, ints[i].key, ints[i].lo, ints[i].hi, &x, &present)) != FA_OK)
            return s;
        if (!present && ints[i].required)
            return FA_ERR(c->err, FA_INVALID, "%s:%d: field '%s' missing", c->path, c->lineno,
                          ints[i].key);
        *dst[i] = (int)x;
    }
    row->p.layout = FA_LAYOUT_BSHD;
    if ((s = get_str(c, "layout", layout, sizeof layout, &present)) != FA_OK)
        return s;
    if (present && !strcmp(layout, "bhsd"))
        row->p.layout = FA_LAYOUT_BHSD;
    else if (present && strcmp(layout, "bshd") != 0)
        return bad(c, "layout", "expected bshd or bhsd",
                   cJSON_GetObjectItemCaseSensitive(c->obj, "layout"));
    /* A decode problem is keyed like fa-tune's own (fa_problem.h): bshd, every sequence's cache
     * seqlen_k rows. The layout field is the peer's own tensors' (SDPA's bhsd), which is no part
     * of a decode problem: the K/V bytes read are the same either way. */
    if (row->p.op == FA_OP_DECODE)
        row->p.layout = FA_LAYOUT_BSHD;
    fa_err perr = {0};
    if (fa_problem_check(&row->p, &perr) != FA_OK)
        return FA_ERR(c->err, FA_INVALID, "%s:%d: %s", c->path, c->lineno, perr.msg);
    row->peak_extra_bytes = -1;
    if ((s = get_int(c, "peak_extra_bytes", -1, LARGEST_EXACT, &row->peak_extra_bytes, &present)) !=
        FA_OK)
        return s;
    if ((s = get_str(c, "versions", row->version, sizeof row->version, &present)) != FA_OK)
        return s;
    return FA_OK;
}

fa_status fa_peers_read(const char *path, fa_peer_row **rows, int *n, fa_peers_import_stats *st,
                        fa_err *err)
{
    fa_status s = FA_OK;
    fa_peers_import_stats count = {0};
    fa_peer_row *v = NULL;
    int k = 0, cap = 0, got;
    char *line = NULL;
    size_t line_cap = 0, len = 0;
    struct line_ctx c = {path, 0, NULL, err};
    FILE *f = fopen(path, "r");
    if (!f)
        return FA_ERR(err, FA_IO, "cannot read '%s': %s", path, strerror(errno));
    while ((got = fa_read_line(f, &line, &line_cap, &len)) != 0) {
        c.lineno++;
        if (got == -1)
            break; /* ferror below */
        if (got < -1) {
            s = FA_ERR(err, FA_INVALID, "%s:%d: %s", path, c.lineno, fa_read_line_problem(got));
            goto cleanup;
        }
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        /* end: past the value, or where parsing failed (cJSON sets it either way). */
        const char *end = NULL;
        cJSON *obj = cJSON_ParseWithOpts(line, &end, 0);
        int junk = obj && end && end[strspn(end, " \t\r\n")] != '\0';
        if (!obj || junk || !cJSON_IsObject(obj)) {
            char shown[64];
            size_t at = end && end >= line && end <= line + len ? (size_t)(end - line) : 0;
            at += junk ? strspn(line + at, " \t") : 0;
            if (obj && !junk)
                s = FA_ERR(err, FA_INVALID, "%s:%d: expected one JSON object", path, c.lineno);
            else
                s = FA_ERR(
                    err, FA_INVALID, "%s:%d: not one JSON object: byte %zu, near '%s'", path,
                    c.lineno, at + 1,
                    fa_printable_n(line + at, strcspn(line + at, "\n"), shown, sizeof shown));
            cJSON_Delete(obj);
            goto cleanup;
        }
        if (k == cap) {
            cap = cap ? 2 * cap : 64;
            fa_peer_row *grown = realloc(v, (size_t)cap * sizeof *v);
            if (!grown) {
                cJSON_Delete(obj);
                s = FA_ERR(err, FA_NOMEM, "out of memory reading '%s'", path);
                goto cleanup;
            }
            v = grown;
        }
        row_fate fate = ROW_SKIPPED;
        c.obj = obj;
        s = parse_row(&c, &v[k], &fate);
        cJSON_Delete(obj);
        if (s != FA_OK)
            goto cleanup;
        if (fate == ROW_SHAPE_COPY)
            count.shape_copies++;
        else if (fate == ROW_SKIPPED)
            count.skipped++;
        else if (v[k++].ceiling)
            count.ceilings++;
        else
            count.peers++;
    }
    if (ferror(f)) {
        s = FA_ERR(err, FA_IO, "cannot read '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    *rows = v;
    *n = k;
    *st = count;
    v = NULL;
cleanup:
    free(v);
    free(line);
    fclose(f);
    return s;
}

fa_status fa_peers_store(fa_db *db, int64_t run_id, const fa_peer_row *rows, int n, fa_err *err)
{
    fa_status s = FA_OK;
    for (int i = 0; i < n && s == FA_OK; i++) {
        const fa_peer_row *r = &rows[i];
        if (r->ceiling)
            s = fa_db_record_ceiling(db, run_id, r->peer, r->p.dtype, r->median_ms, r->tflops, err);
        else
            s = fa_db_record_peer(db, run_id, &r->p, r->peer, r->version, r->median_ms, r->tflops,
                                  r->peak_extra_bytes, err);
    }
    return s;
}

fa_status fa_peers_import(fa_db *db, int64_t run_id, const char *path, fa_peers_import_stats *st,
                          fa_err *err)
{
    fa_peer_row *rows = NULL;
    int n = 0;
    fa_peers_import_stats count = {0};
    fa_status s = fa_peers_read(path, &rows, &n, &count, err);
    if (s == FA_OK)
        s = fa_db_batch_begin(db, err);
    if (s == FA_OK) {
        s = fa_peers_store(db, run_id, rows, n, err);
        fa_status e = fa_db_batch_end(db, s == FA_OK, s == FA_OK ? err : NULL);
        s = s == FA_OK ? e : s;
    }
    if (s == FA_OK)
        *st = count;
    free(rows);
    return s;
}
