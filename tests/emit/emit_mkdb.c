/*
 * This file implements emit_mkdb, a test helper: it creates a results database with
 * fa-tune's current schema (fa_db_open with FA_DB_CREATE) and fills it from checked-in SQL
 * files, so the emit tests need no binary fixtures and no sqlite3 shell (the GPU machines
 * have none). Like tests/db's robustness test, it talks to SQLite directly for that one step.
 *
 *   emit_mkdb FILE [SQL ...]     exit 0 on success, 1 with a message on stderr otherwise
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "fa_db.h"

/* The whole of a file as a NUL-terminated string (free it); NULL on error. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    fa_db *db = NULL;
    sqlite3 *h = NULL;
    fa_err err;
    int rc = 0;
    fa_err_clear(&err);
    if (argc < 2) {
        fprintf(stderr, "usage: emit_mkdb FILE [SQL ...]\n");
        return 2;
    }
    if (fa_db_open(argv[1], FA_DB_CREATE, &db, &err) != FA_OK) {
        fprintf(stderr, "emit_mkdb: %s\n", err.msg);
        return 1;
    }
    fa_db_close(db);
    if (argc == 2)
        return 0;
    if (sqlite3_open_v2(argv[1], &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "emit_mkdb: cannot open '%s': %s\n", argv[1], sqlite3_errmsg(h));
        sqlite3_close(h);
        return 1;
    }
    for (int i = 2; i < argc && rc == 0; i++) {
        char *sql = slurp(argv[i]), *msg = NULL;
        if (!sql) {
            fprintf(stderr, "emit_mkdb: cannot read '%s'\n", argv[i]);
            rc = 1;
        } else if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
            fprintf(stderr, "emit_mkdb: %s: %s\n", argv[i], msg ? msg : "sqlite error");
            rc = 1;
        }
        sqlite3_free(msg);
        free(sql);
    }
    if (sqlite3_close(h) != SQLITE_OK) {
        fprintf(stderr, "emit_mkdb: cannot close '%s'\n", argv[1]);
        rc = 1;
    }
    return rc;
}
