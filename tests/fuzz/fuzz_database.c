/*
 * fuzz_database.c -- a results database from elsewhere, fuzzed: what `fa-tune report` and
 * `fa-tune emit` read from it must never crash them, and a header emitted from it must stay
 * the C it claims to be.
 *
 * The database: the report tests' fixture (tests/report/fixture.sql + families.sql +
 * decode.sql: two forward families and decode on sm90 and sm80, peers, ceilings), built once
 * per process at this build's schema; or, for an input that starts with 0xff and a byte b, a
 * database an older fa-tune wrote (tests/db/fixtures: schema v1, v2 or v3, 1 + b % 3), which
 * is also upgraded in place at the end. The rest of the input is a list of edits applied to a
 * copy of it, each `UPDATE table SET column = value [WHERE rowid = r]`:
 *     byte 0  the column: an index into every column of every table (PRAGMA table_info)
 *     byte 1  the row: 0 every row, else rowid (byte 1)
 *     byte 2  the value's type (modulo 4): text, integer, real, NULL
 *     byte 3  the value's length n (text: n bytes; integer, real: 8 bytes)
 *     then the value's bytes
 * (an edit the schema refuses, NOT NULL or UNIQUE, is skipped). Then, for sm90 and sm80: the
 * report's data (fa_report_data_load: every series, heatmap and table the plots are drawn
 * from) and the emitted header (fa_emit_render), which must lex as C: no control character
 * but newline, no string or character literal that runs past its line or the file, every
 * comment closed, no trigraph (gcc -std=c99 reads "??/" as a backslash). Then, for sm90 (sm80
 * on v1), the whole report (fa_report_write, with fake_gnuplot.c for gnuplot): every gnuplot
 * script must lex as the writer's own statements (check_gnuplot: strings closed on their line, no
 * file name that is a pipe, no backquote, no statement but set / unset / plot / replot / if and
 * assignments, none of gnuplot's commands that run or read something), and the index pages
 * must hold no script. Last, the edited database is merged into a pristine copy of the fixture
 * (fa_db_merge, `fa-tune db merge`): taken or refused whole, the result passes SQLite's
 * integrity and foreign-key checks, and merging it again adds nothing.
 *
 * Built for libFuzzer with -DFA_FUZZ=ON (clang), else with fuzz_replay.c as the CPU test
 * fuzz.database, which replays tests/fuzz/database/ (seeds, the inputs that found the bugs
 * fixed so far, and found.hex: what fuzzing kept for coverage). To fuzz (~10 inputs a second):
 *     build/tests/fuzz/fuzz_database -max_total_time=600 -max_len=512 NEW tests/fuzz/database
 *     build/tests/fuzz/fuzz_database -merge=1 KEPT NEW
 */
#include <ctype.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fa_emit.h"
#include "fa_report.h"
#include "fa_report_data.h"

#if !defined(FA_FUZZ_SQL_DIR) || !defined(FA_FUZZ_OLD_DB_DIR) || !defined(FA_FUZZ_FAKE_GNUPLOT)
#error "FA_FUZZ_SQL_DIR, FA_FUZZ_OLD_DB_DIR, FA_FUZZ_FAKE_GNUPLOT: see tests/fuzz/CMakeLists.txt"
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

/* ---- the fixtures, each built once -------------------------------------------------------- */

/* 0: this build's schema (the report tests' SQL); 1-3: databases older fa-tune versions wrote
 * (tests/db/fixtures: schema v1 by hand, v2 and v3 from real runs), which every command
 * upgrades: a read-only one in a private copy, a writing one in place. */
enum { N_FIXTURES = 4, MAX_COLUMNS = 256 };
static const char *const fixture_sql[N_FIXTURES][3] = {{FA_FUZZ_SQL_DIR "/fixture.sql",
                                                        FA_FUZZ_SQL_DIR "/families.sql",
                                                        FA_FUZZ_SQL_DIR "/decode.sql"},
                                                       {FA_FUZZ_OLD_DB_DIR "/v1.sql"},
                                                       {FA_FUZZ_OLD_DB_DIR "/v2_real.sql"},
                                                       {FA_FUZZ_OLD_DB_DIR "/v3_real.sql"}};
typedef struct fixture {
    unsigned char *image; /* the database file */
    size_t image_len;
    int n_columns;
    char table[MAX_COLUMNS][32], column[MAX_COLUMNS][64];
} fixture;
static struct {
    char path[4096]; /* the copy each input edits */
    fixture f[N_FIXTURES];
} fx;

static void remove_files(void)
{
    char p[4200];
    unlink(fx.path);
    snprintf(p, sizeof p, "%s-wal", fx.path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", fx.path);
    unlink(p);
    snprintf(p, sizeof p, "%s.report", fx.path); /* emptied after each input */
    rmdir(p);
    static const char *const merge[] = {"%s.merge.db", "%s.merge.db-wal", "%s.merge.db-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, merge[i], fx.path);
        unlink(p);
    }
}

static void build_fixture(int v)
{
    fixture *x = &fx.f[v];
    if (!fx.path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(fx.path, sizeof fx.path, "%s/fa_fuzz_db_%d.db", dir && *dir ? dir : "/tmp",
                 (int)getpid());
        atexit(remove_files);
    }
    remove_files();
    if (v == 0) { /* an empty database at this build's schema */
        fa_db *db = NULL;
        fa_err err;
        if (fa_db_open(fx.path, FA_DB_CREATE, &db, &err) != FA_OK)
            fail("cannot create the fixture database", err.msg);
        fa_db_close(db);
    }
    sqlite3 *s = NULL;
    if (sqlite3_open(fx.path, &s) != SQLITE_OK)
        fail("cannot open the fixture database", sqlite3_errmsg(s));
    for (int i = 0; i < 3 && fixture_sql[v][i]; i++) {
        char *msg = NULL, *sql = read_file(fixture_sql[v][i], NULL);
        if (sqlite3_exec(s, sql, NULL, NULL, &msg) != SQLITE_OK)
            fail(fixture_sql[v][i], msg);
        free(sql);
    }
    static const char *const tables[] = {"devices",      "runs",  "variants", "problems",
                                         "measurements", "peers", "ceilings"};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char q[128];
        snprintf(q, sizeof q, "PRAGMA table_info(%s)", tables[t]); /* none if absent (v1) */
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s, q, -1, &st, NULL) != SQLITE_OK)
            fail("cannot list the columns of", tables[t]);
        while (sqlite3_step(st) == SQLITE_ROW && x->n_columns < MAX_COLUMNS) {
            snprintf(x->table[x->n_columns], sizeof x->table[0], "%s", tables[t]);
            snprintf(x->column[x->n_columns], sizeof x->column[0], "%s",
                     (const char *)sqlite3_column_text(st, 1));
            x->n_columns++;
        }
        sqlite3_finalize(st);
    }
    /* one file, no WAL beside it: the image is the whole database */
    sqlite3_exec(s, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_close(s);
    x->image = (unsigned char *)read_file(fx.path, &x->image_len);
}

/* SQLite's checks on the database at path: 1 if PRAGMA name (integrity_check,
 * foreign_key_check) finds nothing wrong. */
static int sqlite_check(const char *path, const char *name)
{
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    char q[64];
    snprintf(q, sizeof q, "PRAGMA %s", name);
    if (sqlite3_open(path, &s) != SQLITE_OK || sqlite3_prepare_v2(s, q, -1, &st, NULL) != SQLITE_OK)
        fail("cannot check", path);
    const int rc = sqlite3_step(st);
    const char *text = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    const int ok =
        !strcmp(name, "integrity_check") ? text && !strcmp(text, "ok") : rc == SQLITE_DONE;
    sqlite3_finalize(st);
    sqlite3_close(s);
    return ok;
}

/* ---- one input ------------------------------------------------------------------------- */

/* A fresh copy of fixture x at path, with no -wal of an earlier copy beside it. */
static void write_copy(const fixture *x, const char *path)
{
    char p[4400];
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(x->image, 1, x->image_len, f) != x->image_len || fclose(f) != 0)
        fail("cannot write a copy of the fixture", path);
}

static void apply_edits(const fixture *x, const uint8_t *d, size_t n)
{
    write_copy(x, fx.path);
    sqlite3 *s = NULL;
    if (sqlite3_open(fx.path, &s) != SQLITE_OK)
        fail("cannot open the database copy", fx.path);
    while (n >= 4) {
        const int col = d[0] % x->n_columns, row = d[1], type = d[2] % 4;
        size_t len = type == 0 ? d[3] : type == 3 ? 0 : 8;
        d += 4;
        n -= 4;
        len = len < n ? len : n;
        char sql[256];
        snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1%s", x->table[col], x->column[col],
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

/* ---- the report's files ------------------------------------------------------------------ */

static int is_word(const char *w, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && !strncmp(w, *list, n))
            return 1;
    return 0;
}

/* One statement of a gnuplot script, its strings already replaced by S: set / unset / plot /
 * replot / if, or an assignment (name = ..., name(args) = ...); no command word anywhere. */
static void check_statement(const char *file, const char *st, size_t n)
{
    static const char *const heads[] = {"set", "unset", "plot", "replot", "if", NULL};
    static const char *const banned[] = {"system", "load", "call", "shell", "save",     "print",
                                         "exit",   "quit", "cd",   "pwd",   "reread",   "pause",
                                         "import", "fit",  "test", "eval",  "evaluate", NULL};
    size_t i = 0;
    while (i < n && isspace((unsigned char)st[i]))
        i++;
    if (i == n || st[i] == '}' || st[i] == '{')
        return;
    size_t w = i;
    while (w < n && (isalnum((unsigned char)st[w]) || st[w] == '_'))
        w++;
    if (w == i)
        fail("a gnuplot statement that does not start with a word", file);
    if (!is_word(st + i, w - i, heads)) {
        size_t j = w;
        if (j < n && st[j] == '(') /* name(args) = ... */
            while (j < n && st[j] != ')')
                j++;
        j += j < n && st[j] == ')';
        while (j < n && st[j] == ' ')
            j++;
        if (!(j < n && st[j] == '=' && (j + 1 == n || st[j + 1] != '=')))
            fail("a gnuplot statement that is not the writer's (a set, plot... or assignment)",
                 file);
    }
    for (size_t k = i; k < n;) {
        if (isalpha((unsigned char)st[k]) || st[k] == '_') {
            size_t e = k;
            while (e < n && (isalnum((unsigned char)st[e]) || st[e] == '_'))
                e++;
            if (is_word(st + k, e - k, banned))
                fail("a gnuplot command that runs or reads something", file);
            k = e;
        } else {
            k++;
        }
    }
}

/* A script the report wrote: see the top of the file. */
static void check_gnuplot(const char *file, const char *t, size_t len)
{
    char *code = malloc(len + 1); /* the statement in progress, strings as S */
    size_t n = 0;
    enum { CODE, SQ, DQ, COMMENT } state = CODE;
    if (!code)
        fail("out of memory", NULL);
    for (size_t i = 0; i < len; i++) {
        const char c = t[i];
        if (((unsigned char)c < 0x20 && c != '\n') || c == 0x7f)
            fail("a control character in a gnuplot script", file);
        if (c == '\\' && i + 1 < len && t[i + 1] == '\n') { /* gnuplot joins the lines first */
            if (state == SQ || state == DQ || state == COMMENT)
                fail("a string or comment continued onto the next line in a gnuplot script", file);
            i++;
            continue;
        }
        switch (state) {
        case CODE:
            if (c == '`')
                fail("a backquote (command substitution) in a gnuplot script", file);
            if (c == '#') {
                state = COMMENT;
            } else if (c == '\'' || c == '"') {
                state = c == '\'' ? SQ : DQ;
                code[n++] = 'S';
                if (i + 1 < len && (t[i + 1] == '|' || t[i + 1] == '<'))
                    fail("a gnuplot string that names a pipe", file);
            } else if (c == ';' || c == '\n') {
                check_statement(file, code, n);
                n = 0;
            } else {
                code[n++] = c;
            }
            break;
        case SQ:
            if (c == '\n')
                fail("a gnuplot string runs past its line", file);
            if (c == '\'' && i + 1 < len && t[i + 1] == '\'')
                i++;
            else if (c == '\'')
                state = CODE;
            break;
        case DQ:
            if (c == '\n' || c == '`')
                fail("a double-quoted gnuplot string past its line or with a backquote", file);
            if (c == '\\')
                i++;
            else if (c == '"')
                state = CODE;
            break;
        case COMMENT:
            if (c == '\n') {
                check_statement(file, code, n);
                n = 0;
                state = CODE;
            }
            break;
        }
    }
    if (state == SQ || state == DQ)
        fail("a gnuplot script ends inside a string", file);
    check_statement(file, code, n);
    free(code);
}

/* The length of the run of backticks at p. */
static size_t backticks(const char *p)
{
    size_t n = 0;
    while (p[n] == '`')
        n++;
    return n;
}

/* An index page holds no script, whatever the names in it. Markdown (CommonMark): a tag whose
 * '<' is escaped with a backslash, or inside a code span (a run of n backticks up to the next
 * run of exactly n), is text. */
static void check_page(const char *file, const char *t, int markdown)
{
    for (const char *p = t; *p; p++) {
        if (markdown && *p == '\\' && p[1]) {
            p++; /* an escaped character */
            continue;
        }
        if (markdown && *p == '`') {
            const size_t n = backticks(p);
            const char *q = p + n;
            while (*q && !(*q == '`' && backticks(q) == n))
                q += *q == '`' ? backticks(q) : 1;
            if (*q) {
                p = q + n - 1; /* the span is text */
                continue;
            }
            p += n - 1; /* an unclosed run is literal backticks */
            continue;
        }
        if (!strncasecmp(p, "<script", 7) || !strncasecmp(p, "<iframe", 7) ||
            (!markdown && !strncasecmp(p, "javascript:", 11))) {
            char where[200];
            const int back = (int)(p - t < 60 ? p - t : 60);
            snprintf(where, sizeof where, "%s: '%.*s'", file, back + 8, p - back);
            fail("an index page with a script", where);
        }
    }
}

/* fa_report_write for arch into a fresh folder, then every file it wrote checked and removed. */
static void write_report(const char *arch)
{
    static char dir[4200];
    if (!dir[0])
        snprintf(dir, sizeof dir, "%s.report", fx.path);
    fa_report_options o;
    memset(&o, 0, sizeof o);
    o.db_path = fx.path;
    o.arch = arch;
    o.out_dir = dir;
    o.gnuplot = FA_FUZZ_FAKE_GNUPLOT;
    fa_report_summary sum;
    fa_err err;
    fa_report_write(&o, &sum, &err); /* a database it refuses is a result too */
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[8400];
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        const size_t nl = strlen(e->d_name);
        size_t len = 0;
        if (nl > 3 && !strcmp(e->d_name + nl - 3, ".gp")) {
            char *t = read_file(path, &len);
            check_gnuplot(path, t, len);
            free(t);
        } else if (nl > 5 && !strcmp(e->d_name + nl - 5, ".html")) {
            char *t = read_file(path, &len);
            check_page(path, t, 0);
            free(t);
        } else if (nl > 3 && !strcmp(e->d_name + nl - 3, ".md")) {
            char *t = read_file(path, &len);
            check_page(path, t, 1);
            free(t);
        }
        unlink(path);
    }
    if (d)
        closedir(d);
}

/* The edited database merged into a pristine copy of this build's fixture (fa-tune db merge,
 * which takes any schema version): the merge takes it or refuses it whole; the result passes
 * SQLite's integrity and foreign-key checks; a second merge of the same file adds nothing
 * (fa_db.h's contract). */
static void merge_into_fixture(void)
{
    static char target[4300];
    if (!target[0])
        snprintf(target, sizeof target, "%s.merge.db", fx.path);
    write_copy(&fx.f[0], target);
    fa_db *db = NULL;
    fa_err err;
    if (fa_db_open(target, 0, &db, &err) != FA_OK)
        fail("cannot open the merge target", err.msg);
    fa_db_merge_stats once, again;
    if (fa_db_merge(db, fx.path, &once, &err) == FA_OK) {
        if (fa_db_merge(db, fx.path, &again, &err) != FA_OK)
            fail("a database merged once cannot be merged again", err.msg);
        if (again.devices || again.runs || again.variants || again.problems || again.measurements ||
            again.peers || again.ceilings)
            fail("a second merge of the same database added rows", NULL);
    }
    fa_db_close(db);
    if (!sqlite_check(target, "integrity_check") || !sqlite_check(target, "foreign_key_check"))
        fail("merging a database broke the target's integrity or foreign keys", NULL);
}

/* An older database opened for writing is upgraded in place (fa_db.h's migrations): opened or
 * refused whole; the upgraded file passes SQLite's integrity check, and its foreign-key check
 * when the edited file passed it (an edit may leave a reference dangling itself). */
static void upgrade_in_place(void)
{
    const int keys = sqlite_check(fx.path, "foreign_key_check");
    fa_db *db = NULL;
    fa_err err;
    if (fa_db_open(fx.path, 0, &db, &err) == FA_OK)
        fa_db_close(db);
    if (!sqlite_check(fx.path, "integrity_check") ||
        (keys && !sqlite_check(fx.path, "foreign_key_check")))
        fail("upgrading a database broke its integrity or foreign keys", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int v = 0; /* 0xff, then a byte: an older fixture (1 + byte % 3) */
    if (size >= 2 && data[0] == 0xff) {
        v = 1 + data[1] % (N_FIXTURES - 1);
        data += 2;
        size -= 2;
    }
    if (!fx.f[0].image)
        build_fixture(0); /* the merge target, for every input */
    if (!fx.f[v].image)
        build_fixture(v);
    apply_edits(&fx.f[v], data, size);
    read_back("sm90");
    read_back("sm80");
    write_report(v == 1 ? "sm80" : "sm90");
    merge_into_fixture();
    if (v > 0)
        upgrade_in_place();
    return 0;
}
