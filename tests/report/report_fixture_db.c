/*
 * This file implements report_fixture_db, the test helper that builds the report tests'
 * databases: an empty results database at the schema of this build (fa_db_open with
 * FA_DB_CREATE), then SQL run into it -- fixture.sql, or a statement that edits a copy. So no
 * binary database is checked in, the fixture follows the schema as it evolves, and no sqlite3
 * shell is needed (GPU images lack one). Like test_db_robust it links SQLite itself: a test
 * tool, not library code.
 *
 * usage: report_fixture_db OUT.db [--keep] [FILE.sql | -c SQL]...
 *   OUT.db is replaced by an empty database unless --keep (then SQL edits the existing file)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_db.h"

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        char *more = realloc(buf, cap *= 2);
        if (!more) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = more;
    }
    if (buf)
        buf[len] = '\0';
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: report_fixture_db OUT.db [--keep] [FILE.sql | -c SQL]...\n");
        return 2;
    }
    const char *path = argv[1];
    int first = 2;
    if (argc > 2 && !strcmp(argv[2], "--keep")) {
        first = 3;
    } else {
        char side[4096];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        fa_err err;
        fa_err_clear(&err);
        fa_db *db = NULL;
        if (fa_db_open(path, FA_DB_CREATE, &db, &err) != FA_OK) {
            fprintf(stderr, "report_fixture_db: %s\n", err.msg);
            return 1;
        }
        fa_db_close(db);
    }

    sqlite3 *h = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "report_fixture_db: cannot open '%s': %s\n", path, sqlite3_errmsg(h));
        sqlite3_close(h);
        return 1;
    }
    int rc = 0;
    for (int i = first; i < argc && !rc; i++) {
        const char *what = argv[i];
        char *sql = NULL;
        if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            what = "-c";
            sql = strdup(argv[++i]);
        } else {
            sql = read_all(argv[i]);
        }
        if (!sql) {
            fprintf(stderr, "report_fixture_db: cannot read '%s'\n", what);
            rc = 1;
            break;
        }
        char *msg = NULL;
        if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
            fprintf(stderr, "report_fixture_db: %s: %s\n", what, msg ? msg : "sqlite error");
            rc = 1;
        }
        sqlite3_free(msg);
        free(sql);
    }
    /* leave a plain file behind: no -wal to carry along when the tests copy it */
    if (!rc && sqlite3_exec(h, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "report_fixture_db: %s\n", sqlite3_errmsg(h));
        rc = 1;
    }
    sqlite3_close(h);
    return rc;
}
