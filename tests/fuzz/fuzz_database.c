/*
 * fuzz_database.c -- a results database from elsewhere, fuzzed: what `fa-tune report` and
 * `fa-tune emit` read from it must never crash them, and a header emitted from it must stay
 * the C it claims to be.
 *
 * The database: the report tests' fixture (tests/report/fixture.sql + families.sql +
 * decode.sql: two forward families and decode on sm90 and sm80, peers, ceilings), built once
 * per process at this build's schema. An input is a list of edits applied to a copy of it, each
 * `UPDATE table SET column = value [WHERE rowid = r]`:
 *     byte 0  the column: an index into every column of every table (PRAGMA table_info)
 *     byte 1  the row: 0 every row, else rowid (byte 1)
 *     byte 2  the value's type (modulo 4): text, integer, real, NULL
 *     byte 3  the value's length n (text: n bytes; integer, real: 8 bytes)
 *     then the value's bytes
 * (an edit the schema refuses, NOT NULL or UNIQUE, is skipped). Then, for sm90 and sm80: the
 * report's data (fa_report_data_load: every series, heatmap and table the plots are drawn
 * from) and the emitted header (fa_emit_render), which must lex as C: no control character
 * but newline, no string or character literal that runs past its line or the file, every
 * comment closed, no trigraph (gcc -std=c99 reads "??/" as a backslash). `fa-tune report`
 * writes what fa_report_data holds through the escapers the report tests check byte for byte.
 *
 * Built for libFuzzer with -DFA_FUZZ=ON (clang), else with fuzz_replay.c as the CPU test
 * fuzz.database, which replays tests/fuzz/database/ (seeds, the inputs that found the bugs
 * fixed so far, and found.hex: what fuzzing kept for coverage). To fuzz (~10 inputs a second):
 *     build/tests/fuzz/fuzz_database -max_total_time=600 -max_len=512 NEW tests/fuzz/database
 *     build/tests/fuzz/fuzz_database -merge=1 KEPT NEW
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_emit.h"
#include "fa_report_data.h"

#ifndef FA_FUZZ_SQL_DIR
#error "FA_FUZZ_SQL_DIR: the folder of the report tests' fixture SQL (tests/report)"
#endif

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_database: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    if (!buf)
        fail("cannot read", path);
    return buf;
}

/* ---- the fixture, built once ---------------------------------------------------------- */

enum { MAX_COLUMNS = 256 };
static struct {
    char path[4096]; /* the copy each input edits */
    unsigned char *image;
    size_t image_len;
    int n_columns;
    char table[MAX_COLUMNS][32], column[MAX_COLUMNS][64];
} fx;

static void remove_files(void)
{
    char p[4200];
    unlink(fx.path);
    snprintf(p, sizeof p, "%s-wal", fx.path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", fx.path);
    unlink(p);
}

static void build_fixture(void)
{
    const char *dir = getenv("TMPDIR");
    snprintf(fx.path, sizeof fx.path, "%s/fa_fuzz_db_%d.db", dir && *dir ? dir : "/tmp",
             (int)getpid());
    atexit(remove_files);
    remove_files();
    fa_db *db = NULL;
    fa_err err;
    if (fa_db_open(fx.path, FA_DB_CREATE, &db, &err) != FA_OK)
        fail("cannot create the fixture database", err.msg);
    fa_db_close(db);
    sqlite3 *s = NULL;
    if (sqlite3_open(fx.path, &s) != SQLITE_OK)
        fail("cannot open the fixture database", sqlite3_errmsg(s));
    static const char *const files[] = {"fixture.sql", "families.sql", "decode.sql"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096], *msg = NULL;
        snprintf(path, sizeof path, "%s/%s", FA_FUZZ_SQL_DIR, files[i]);
        char *sql = read_file(path, NULL);
        if (sqlite3_exec(s, sql, NULL, NULL, &msg) != SQLITE_OK)
            fail(path, msg);
        free(sql);
    }
    static const char *const tables[] = {"devices",      "runs",  "variants", "problems",
                                         "measurements", "peers", "ceilings"};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char q[128];
        snprintf(q, sizeof q, "PRAGMA table_info(%s)", tables[t]);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s, q, -1, &st, NULL) != SQLITE_OK)
            fail("cannot list the columns of", tables[t]);
        while (sqlite3_step(st) == SQLITE_ROW && fx.n_columns < MAX_COLUMNS) {
            snprintf(fx.table[fx.n_columns], sizeof fx.table[0], "%s", tables[t]);
            snprintf(fx.column[fx.n_columns], sizeof fx.column[0], "%s",
                     (const char *)sqlite3_column_text(st, 1));
            fx.n_columns++;
        }
        sqlite3_finalize(st);
    }
    /* one file, no WAL beside it: the image is the whole database */
    sqlite3_exec(s, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_close(s);
    fx.image = (unsigned char *)read_file(fx.path, &fx.image_len);
}

/* ---- one input ------------------------------------------------------------------------- */

static void apply_edits(const uint8_t *d, size_t n)
{
    FILE *f = fopen(fx.path, "wb");
    if (!f || fwrite(fx.image, 1, fx.image_len, f) != fx.image_len || fclose(f) != 0)
        fail("cannot write the database copy", fx.path);
    char p[4200];
    snprintf(p, sizeof p, "%s-wal", fx.path);
    unlink(p);
    sqlite3 *s = NULL;
    if (sqlite3_open(fx.path, &s) != SQLITE_OK)
        fail("cannot open the database copy", fx.path);
    while (n >= 4) {
        const int col = d[0] % fx.n_columns, row = d[1], type = d[2] % 4;
        size_t len = type == 0 ? d[3] : type == 3 ? 0 : 8;
        d += 4;
        n -= 4;
        len = len < n ? len : n;
        char sql[256];
        snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1%s", fx.table[col], fx.column[col],
                 row ? " WHERE rowid = ?2" : "");
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
            fail("cannot prepare", sql);
        int64_t i = 0;
        double r = 0;
        if (type == 0)
            sqlite3_bind_text(st, 1, (const char *)d, (int)len, SQLITE_TRANSIENT);
        else if (type == 1 && len == 8)
            memcpy(&i, d, 8), sqlite3_bind_int64(st, 1, i);
        else if (type == 2 && len == 8)
            memcpy(&r, d, 8), sqlite3_bind_double(st, 1, r);
        else
            sqlite3_bind_null(st, 1);
        if (row)
            sqlite3_bind_int(st, 2, row);
        sqlite3_step(st); /* a constraint may refuse it: the edit is skipped */
        sqlite3_finalize(st);
        d += len;
        n -= len;
    }
    sqlite3_close(s);
}

/* The header lexes as C: see the top of the file. */
static void check_header(const char *h, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)h[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f) {
            char where[160];
            size_t from = i < 60 ? 0 : i - 60;
            snprintf(where, sizeof where, "byte 0x%02x at offset %zu, after '%.*s'", c, i,
                     (int)(i - from), h + from);
            fail("a control character in the emitted header", where);
        }
        if (c == '?' && i + 2 < len && h[i + 1] == '?' && strchr("=/'()!<>-", h[i + 2]))
            fail("a trigraph in the emitted header", NULL);
    }
    enum { CODE, STRING, CHAR, LINE_COMMENT, BLOCK_COMMENT } state = CODE;
    for (size_t i = 0; i < len; i++) {
        const char c = h[i];
        switch (state) {
        case CODE:
            if (c == '"')
                state = STRING;
            else if (c == '\'')
                state = CHAR;
            else if (c == '/' && i + 1 < len && h[i + 1] == '/')
                state = LINE_COMMENT, i++;
            else if (c == '/' && i + 1 < len && h[i + 1] == '*')
                state = BLOCK_COMMENT, i++;
            break;
        case STRING:
        case CHAR:
            if (c == '\n')
                fail("a literal runs past its line in the emitted header", NULL);
            if (c == '\\') {
                if (i + 1 < len && h[i + 1] == '\n')
                    fail("a backslash-newline inside a literal in the emitted header", NULL);
                i++; /* the escaped character */
            } else if (c == (state == STRING ? '"' : '\'')) {
                state = CODE;
            }
            break;
        case LINE_COMMENT:
            if (c == '\\' && i + 1 < len && h[i + 1] == '\n')
                fail("a line comment continued by a backslash in the emitted header", NULL);
            if (c == '\n')
                state = CODE;
            break;
        case BLOCK_COMMENT:
            if (c == '*' && i + 1 < len && h[i + 1] == '/')
                state = CODE, i++;
            break;
        }
    }
    if (state != CODE && state != LINE_COMMENT)
        fail("the emitted header ends inside a literal or a comment", NULL);
}

static void read_back(const char *arch_name)
{
    fa_db *db = NULL;
    fa_err err;
    if (fa_db_open(fx.path, FA_DB_READONLY, &db, &err) != FA_OK)
        return; /* refused whole (e.g. a schema version it does not know): nothing to read */
    fa_report_data rd;
    memset(&rd, 0, sizeof rd);
    if (fa_report_data_load(db, arch_name, NULL, &rd, &err) == FA_OK)
        fa_report_data_release(&rd);
    const fa_arch *arch = fa_arch_find(arch_name);
    fa_emit_opts o = {0};
    o.archs = &arch;
    o.n_archs = 1;
    char *h = NULL;
    size_t len = 0;
    if (fa_emit_render(db, &o, &h, &len, NULL, &err) == FA_OK) {
        if (strlen(h) != len)
            fail("the emitted header has a NUL byte inside", NULL);
        check_header(h, len);
        free(h);
    }
    fa_db_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fx.image)
        build_fixture();
    apply_edits(data, size);
    read_back("sm90");
    read_back("sm80");
    return 0;
}
