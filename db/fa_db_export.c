/*
 * This file implements `fa-tune db export`: measurements as flat CSV (RFC 4180, header row)
 * or JSON (an array of objects keyed like the CSV header), one row per measurement, for
 * spreadsheets and pandas. Unknown figures (stored NULL, -1 in the structs) are empty CSV
 * cells and JSON nulls. The column list is one table, so both formats always agree.
 */
#include "fa_db_internal.h"
#include "fa_escape.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

typedef enum col_kind {
    COL_TEXT,    /* char[] in fa_db_row */
    COL_INT,     /* int, never unknown */
    COL_INT_OPT, /* int, negative = unknown */
    COL_I64_OPT, /* int64_t, negative = unknown */
    COL_U64,     /* uint64_t */
    COL_DBL_OPT, /* double, negative or NaN = unknown */
    COL_DTYPE,   /* fa_dtype */
    COL_LAYOUT   /* fa_layout */
} col_kind;

static const struct column {
    const char *name;
    col_kind kind;
    size_t offset;
} columns[] = {
#define C(name, kind, field)                                                                       \
    {                                                                                              \
        name, kind, offsetof(fa_db_row, field)                                                     \
    }
    C("uuid", COL_TEXT, uuid),
    C("arch", COL_TEXT, arch),
    C("variant", COL_TEXT, variant_name),
    C("family", COL_TEXT, family),
    C("op", COL_TEXT, op),
    C("params", COL_TEXT, params),
    C("problem", COL_TEXT, problem_name),
    C("dtype", COL_DTYPE, problem.dtype),
    C("head_dim", COL_INT, problem.head_dim),
    C("causal", COL_INT, problem.causal),
    C("varlen", COL_INT, problem.varlen),
    C("batch", COL_INT, problem.batch),
    C("heads_q", COL_INT, problem.heads_q),
    C("heads_kv", COL_INT, problem.heads_kv),
    C("gqa", COL_INT, gqa),
    C("seqlen_q", COL_INT, problem.seqlen_q),
    C("seqlen_k", COL_INT, problem.seqlen_k),
    C("bucket", COL_INT, bucket),
    C("layout", COL_LAYOUT, problem.layout),
    C("status", COL_TEXT, status),
    C("median_ms", COL_DBL_OPT, m.median_ms),
    C("min_ms", COL_DBL_OPT, m.min_ms),
    C("cv", COL_DBL_OPT, m.cv),
    C("reps", COL_INT_OPT, m.reps),
    C("tflops", COL_DBL_OPT, m.tflops),
    C("max_abs_err", COL_DBL_OPT, m.max_abs_err),
    C("rel_l2_err", COL_DBL_OPT, m.rel_l2_err),
    C("eager_max_abs_err", COL_DBL_OPT, m.eager_max_abs_err),
    C("lse_max_err", COL_DBL_OPT, m.lse_max_err),
    C("nonfinite", COL_I64_OPT, m.nonfinite),
    C("unwritten", COL_I64_OPT, m.unwritten),
    C("check_seed", COL_U64, m.check_seed),
    C("peak_extra_bytes", COL_I64_OPT, m.peak_extra_bytes),
    C("eager_median_ms", COL_DBL_OPT, m.eager_median_ms),
    C("eager_peak_extra_bytes", COL_I64_OPT, m.eager_peak_extra_bytes),
    C("registers", COL_INT_OPT, m.build.registers),
    C("smem_static", COL_INT_OPT, m.build.smem_static),
    C("stack_bytes", COL_INT_OPT, m.build.stack_bytes),
    C("spill_stores", COL_INT_OPT, m.build.spill_stores),
    C("spill_loads", COL_INT_OPT, m.build.spill_loads),
    C("compile_ms", COL_DBL_OPT, m.build.compile_ms),
    C("cache_hit", COL_INT_OPT, m.build.cache_hit),
    C("message", COL_TEXT, m.message),
    C("measured_at", COL_TEXT, measured_at),
    C("run_uuid", COL_TEXT, run_uuid),
    C("source_hash", COL_TEXT, source_hash),
    C("fa_tune_version", COL_TEXT, fa_tune_version),
    C("device", COL_TEXT, device_name),
#undef C
};

enum { NCOLS = sizeof columns / sizeof columns[0] };

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF), 0 if the bytes there are not one. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
               : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* Bytes of text that are not UTF-8 become '?': JSON must be UTF-8 (RFC 8259), and a text
 * column holds fa-tune's own ASCII unless something else wrote the database. */
static void make_utf8(char *text)
{
    unsigned char *s = (unsigned char *)text;
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0)
            *s++ = '?';
        else
            s += n;
    }
}

/* One cell as text: *is_text says whether it is a string (quoted in JSON); returns 0 for an
 * unknown value. */
static int cell(const fa_db_row *r, const struct column *c, char *buf, size_t n, int *is_text)
{
    const char *base = (const char *)r + c->offset;
    *is_text = 0;
    switch (c->kind) {
    case COL_TEXT:
        *is_text = 1;
        snprintf(buf, n, "%s", base);
        make_utf8(buf);
        return 1;
    case COL_INT: {
        int x;
        memcpy(&x, base, sizeof x);
        snprintf(buf, n, "%d", x);
        return 1;
    }
    case COL_INT_OPT: {
        int x;
        memcpy(&x, base, sizeof x);
        snprintf(buf, n, "%d", x);
        return x >= 0;
    }
    case COL_I64_OPT: {
        int64_t x;
        memcpy(&x, base, sizeof x);
        snprintf(buf, n, "%" PRId64, x);
        return x >= 0;
    }
    case COL_U64: {
        uint64_t x;
        memcpy(&x, base, sizeof x);
        snprintf(buf, n, "%" PRIu64, x);
        return 1;
    }
    case COL_DBL_OPT: {
        double x;
        memcpy(&x, base, sizeof x);
        snprintf(buf, n, "%.10g", x);
        return x >= 0 && isfinite(x);
    }
    case COL_DTYPE: {
        fa_dtype x;
        memcpy(&x, base, sizeof x);
        *is_text = 1;
        snprintf(buf, n, "%s", fa_dtype_name(x));
        return 1;
    }
    case COL_LAYOUT: {
        fa_layout x;
        memcpy(&x, base, sizeof x);
        *is_text = 1;
        snprintf(buf, n, "%s", x == FA_LAYOUT_BHSD ? "bhsd" : "bshd");
        return 1;
    }
    }
    return 0;
}

static void put_csv(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

struct export_ctx {
    FILE *out;
    fa_db_format fmt;
    long rows;
    int nomem;
    int tty; /* out is a terminal: control bytes in text become '?' (fa_esc_term) */
};

/* One row as a JSON object through cJSON (strings escaped by it). Numbers go in as the text
 * cell() made: a double would round 64-bit seeds and reformat times. NULL if out of memory. */
static char *json_row(const fa_db_row *r, int tty, char *buf, size_t n)
{
    char shown[FA_DB_MESSAGE_MAX + 64];
    cJSON *obj = cJSON_CreateObject();
    int ok = obj != NULL, is_text = 0;
    for (int i = 0; ok && i < NCOLS; i++) {
        int known = cell(r, &columns[i], buf, n, &is_text);
        const cJSON *added =
            !known    ? cJSON_AddNullToObject(obj, columns[i].name)
            : is_text ? cJSON_AddStringToObject(obj, columns[i].name,
                                                tty ? fa_esc_term(shown, sizeof shown, buf) : buf)
                      : cJSON_AddRawToObject(obj, columns[i].name, buf);
        ok = added != NULL;
    }
    char *text = ok ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return text;
}

static int export_row(const fa_db_row *r, void *user)
{
    struct export_ctx *x = user;
    char buf[FA_DB_MESSAGE_MAX + 64], shown[FA_DB_MESSAGE_MAX + 64];
    int is_text = 0;
    if (x->fmt == FA_DB_FORMAT_JSON) {
        char *text = json_row(r, x->tty, buf, sizeof buf);
        if (!text) {
            x->nomem = 1;
            return 1;
        }
        fprintf(x->out, "%s%s", x->rows ? ",\n  " : "\n  ", text);
        cJSON_free(text);
    } else {
        for (int i = 0; i < NCOLS; i++) {
            int known = cell(r, &columns[i], buf, sizeof buf, &is_text);
            if (i)
                fputc(',', x->out);
            /* A text cell a spreadsheet would run as a formula (a database someone else
             * wrote: fa-tune's own text never starts so) is kept as text by a leading '. */
            if (known && is_text && buf[0] && strchr("=+@", buf[0]))
                fputc('\'', x->out);
            if (known)
                put_csv(x->out, x->tty && is_text ? fa_esc_term(shown, sizeof shown, buf) : buf);
        }
        fputs("\r\n", x->out);
    }
    x->rows++;
    return ferror(x->out) != 0; /* stop at the first write error */
}

fa_status fa_db_format_parse(const char *s, fa_db_format *out)
{
    if (s && strcmp(s, "csv") == 0)
        *out = FA_DB_FORMAT_CSV;
    else if (s && strcmp(s, "json") == 0)
        *out = FA_DB_FORMAT_JSON;
    else
        return FA_INVALID;
    return FA_OK;
}

fa_status fa_db_export(fa_db *db, fa_db_format fmt, const fa_db_filter *filter, FILE *out,
                       fa_err *err)
{
    fa_status st = FA_OK;
    struct export_ctx x = {out, fmt, 0, 0, 0};
    if (!db || !out)
        return FA_ERR(err, FA_INVALID, "cannot export: no database or output");
    x.tty = isatty(fileno(out));
    if (fmt == FA_DB_FORMAT_CSV) {
        for (int i = 0; i < NCOLS; i++) {
            if (i)
                fputc(',', out);
            fputs(columns[i].name, out);
        }
        fputs("\r\n", out);
    } else {
        fputc('[', out);
    }
    st = fa_db_measurements(db, filter, export_row, &x, err);
    if (st == FA_OK && x.nomem)
        st = FA_ERR(err, FA_NOMEM, "cannot export '%s': out of memory", db->path);
    if (st != FA_OK)
        return st;
    if (fmt == FA_DB_FORMAT_JSON)
        fputs(x.rows ? "\n]\n" : "]\n", out);
    if (fflush(out) != 0 || ferror(out)) {
        char why[128];
        return FA_ERR(err, FA_IO, "cannot write the export of '%s': %s", db->path,
                      fa_db_errno_text(errno ? errno : EIO, why, sizeof why));
    }
    return FA_OK;
}
