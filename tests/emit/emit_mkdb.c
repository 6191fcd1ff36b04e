/*
 * This file implements emit_mkdb, a test helper: it creates an empty results database with
 * fa-tune's current schema (fa_db_open with FA_DB_CREATE), so the emit tests can fill it from
 * checked-in SQL with the sqlite3 shell -- no binary fixtures in the repository.
 *
 *   emit_mkdb FILE     exit 0 on success, 1 with a message on stderr otherwise
 */
#include <stdio.h>

#include "fa_db.h"

int main(int argc, char **argv)
{
    fa_db *db = NULL;
    fa_err err;
    fa_err_clear(&err);
    if (argc != 2) {
        fprintf(stderr, "usage: emit_mkdb FILE\n");
        return 2;
    }
    if (fa_db_open(argv[1], FA_DB_CREATE, &db, &err) != FA_OK) {
        fprintf(stderr, "emit_mkdb: %s\n", err.msg);
        return 1;
    }
    fa_db_close(db);
    return 0;
}
