/*
 * This file implements the schema check of a database fa-tune did not necessarily write: the
 * objects its version should hold are built in memory from the migrations and compared with
 * the file's, before anything reads or migrates it.
 *
 * Why: every query trusts the file's schema. A view named winners that recurses forever, a
 * table replaced by such a view, a generated column, or a trigger that fires when a merge or
 * a migration writes rows would hang fa-tune, fill the disk with SQLite's sort files, or change
 * data behind the user's back. What is compared:
 *   - every table of the reference is a table in the file with the same columns (name,
 *     declared type, NOT NULL, default, primary key; no hidden or generated ones);
 *   - every view of the reference is a view with the same SQL text (fa-tune's views are only
 *     ever created by a CREATE VIEW of its own, never rewritten by ALTER TABLE);
 *   - every index of the reference is an index on the same table;
 *   - no trigger at all (fa-tune creates none).
 * Objects the reference does not have (a user's own table, index or view) are allowed: no
 * query of fa-tune reads them.
 */
#include "fa_db_internal.h"

#include <string.h>

/* One row of sqlite_schema. */
typedef struct schema_obj {
    char type[16];
    char tbl[128];
    char *sql; /* sqlite3_malloc'd copy; NULL if the column is NULL */
} schema_obj;

/* The object called name in h into *o (free o->sql); 0 if there is none. */
static int find_obj(sqlite3 *h, const char *name, schema_obj *o)
{
    sqlite3_stmt *s = NULL;
    int found = 0;
    memset(o, 0, sizeof *o);
    if (sqlite3_prepare_v2(h, "SELECT type, tbl_name, sql FROM sqlite_schema WHERE name = ?1", -1,
                           &s, NULL) == SQLITE_OK &&
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        found = 1;
        fa_db_col_text(s, 0, o->type, sizeof o->type);
        fa_db_col_text(s, 1, o->tbl, sizeof o->tbl);
        const unsigned char *sql = sqlite3_column_text(s, 2);
        o->sql = sql ? sqlite3_mprintf("%s", (const char *)sql) : NULL;
    }
    sqlite3_finalize(s);
    return found;
}

/* Column lists of table t in a and b (PRAGMA table_xinfo: hidden and generated columns
 * too) equal? */
static int same_columns(sqlite3 *a, sqlite3 *b, const char *t)
{
    sqlite3_stmt *sa = NULL, *sb = NULL;
    int same = 0;
    const char *sql = "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                      "FROM pragma_table_xinfo(?1) ORDER BY cid";
    if (sqlite3_prepare_v2(a, sql, -1, &sa, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b, sql, -1, &sb, NULL) != SQLITE_OK ||
        sqlite3_bind_text(sa, 1, t, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(sb, 1, t, -1, SQLITE_STATIC) != SQLITE_OK)
        goto done;
    for (;;) {
        int ra = sqlite3_step(sa), rb = sqlite3_step(sb);
        if (ra != rb || (ra != SQLITE_ROW && ra != SQLITE_DONE))
            goto done;
        if (ra == SQLITE_DONE)
            break;
        for (int i = 0; i < 6; i++) {
            const unsigned char *x = sqlite3_column_text(sa, i), *y = sqlite3_column_text(sb, i);
            if ((x == NULL) != (y == NULL) || (x && strcmp((const char *)x, (const char *)y)))
                goto done;
        }
    }
    same = 1;
done:
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    return same;
}

/* Is the file's object `name` what the reference's is? On a difference, *why says how. */
static int same_object(sqlite3 *ref, sqlite3 *file, const char *name, const char **why)
{
    schema_obj r, f;
    int ok = 0;
    find_obj(ref, name, &r);
    if (!find_obj(file, name, &f)) {
        *why = "is missing";
    } else if (strcmp(r.type, f.type) != 0) {
        *why = "is not of the type fa-tune made it";
    } else if (!strcmp(r.type, "table")) {
        ok = same_columns(ref, file, name);
        *why = "has other columns than fa-tune's";
    } else if (!strcmp(r.type, "view")) {
        ok = r.sql && f.sql && !strcmp(r.sql, f.sql);
        *why = "is not fa-tune's view";
    } else {
        ok = !strcmp(r.tbl, f.tbl);
        *why = "indexes another table";
    }
    sqlite3_free(r.sql);
    sqlite3_free(f.sql);
    return ok;
}

fa_status fa_db_schema_check(sqlite3 *file, int version, const char *path, fa_err *err)
{
    sqlite3 *ref = NULL;
    sqlite3_stmt *s = NULL;
    fa_status st = FA_OK;
    int triggers = -1;
    if (version <= 0)
        return FA_OK; /* an empty file: the migration creates everything */
    if (fa_db_exec_int(file, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'",
                       &triggers) != SQLITE_OK)
        return FA_ERR(err, FA_DB, "cannot open '%s': cannot read its schema", path);
    if (triggers)
        return FA_ERR(err, FA_DB,
                      "cannot open '%s': it holds %d trigger(s), which fa-tune never creates "
                      "(they could change rows when fa-tune writes); the file was left "
                      "untouched",
                      path, triggers);
    if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        st = FA_ERR(err, FA_NOMEM, "cannot open '%s': out of memory checking its schema", path);
        goto done;
    }
    for (int v = 0; v < version; v++)
        if (sqlite3_exec(ref, fa_db_migration_sql(v), NULL, NULL, NULL) != SQLITE_OK) {
            st = FA_ERR(err, FA_DB, "cannot open '%s': cannot build schema version %d: %s", path,
                        v + 1, sqlite3_errmsg(ref));
            goto done;
        }
    if (sqlite3_prepare_v2(ref,
                           "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' "
                           "ESCAPE '\\' ORDER BY name",
                           -1, &s, NULL) != SQLITE_OK) {
        st = FA_ERR(err, FA_DB, "cannot open '%s': %s", path, sqlite3_errmsg(ref));
        goto done;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        char name[128];
        const char *why = "";
        fa_db_col_text(s, 0, name, sizeof name);
        if (!same_object(ref, file, name, &why)) {
            st = FA_ERR(err, FA_DB,
                        "cannot open '%s': its schema (version %d) is not fa-tune's: '%s' %s; "
                        "the file was left untouched",
                        path, version, name, why);
            goto done;
        }
    }
done:
    sqlite3_finalize(s);
    sqlite3_close(ref);
    return st;
}
