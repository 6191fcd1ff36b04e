/*
 * This file implements report_fixture_db, the test helper that creates an empty results
 * database at the schema of this build (fa_db_open with FA_DB_CREATE). The report tests then
 * fill it from fixture.sql with the sqlite3 shell, so no binary database is checked in and the
 * fixture follows the schema as it evolves.
 *
 * usage: report_fixture_db OUT.db   (an existing OUT.db is replaced)
 */
#include <stdio.h>
#include <unistd.h>

#include "fa_db.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: report_fixture_db OUT.db\n");
        return 2;
    }
    fa_err err;
    fa_err_clear(&err);
    char side[4096];
    unlink(argv[1]);
    snprintf(side, sizeof side, "%s-wal", argv[1]);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", argv[1]);
    unlink(side);
    fa_db *db = NULL;
    if (fa_db_open(argv[1], FA_DB_CREATE, &db, &err) != FA_OK) {
        fprintf(stderr, "report_fixture_db: %s\n", err.msg);
        return 1;
    }
    fa_db_close(db);
    return 0;
}
