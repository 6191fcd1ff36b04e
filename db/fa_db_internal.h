/*
 * fa_db_internal.h -- what the files of db/ share and nobody else sees: the handle, the
 * statement cache, the one SQLite checking macro and transaction helpers.
 */
#ifndef FA_DB_INTERNAL_H
#define FA_DB_INTERNAL_H

#include <sqlite3.h>

#include "fa_db.h"
#include "fa_family.h"

/* Every statement db/ runs more than once, prepared on first use and kept on the handle
 * (fa_db_stmt). The SQL text of each lives in fa_db_stmt.c. */
typedef enum fa_db_stmt_id {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_DEVICE_INSERT,
    STMT_DEVICE_SELECT,
    STMT_RUN_INSERT,
    STMT_RUN_END,
    STMT_RUNS_RUNNING,
    STMT_RUN_MARK_INTERRUPTED,
    STMT_VARIANT_INSERT,
    STMT_VARIANT_SELECT,
    STMT_PROBLEM_INSERT,
    STMT_PROBLEM_SELECT,
    STMT_MEASUREMENT_INSERT,
    STMT_HAS_MEASUREMENT,
    STMT_BEST_OK_MS, /* the fastest ok median of one (variant, problem) a resume skips */
    STMT_HAS_OK,     /* any ok row of one variant for one arch */
    STMT_PEER_UPSERT,
    STMT_CEILING_UPSERT,
    STMT_Q_MEASUREMENTS,
    STMT_Q_MEASUREMENTS_OF, /* the same, for one arch and variant (both given) */
    STMT_Q_WINNERS,
    STMT_Q_DECODE_WINNERS,
    STMT_Q_PEERS,
    STMT_Q_CEILINGS,
    STMT_Q_CEILING_BEST,
    STMT_Q_RUNS,
    STMT_Q_SUMMARIES,
    STMT_COUNT
} fa_db_stmt_id;

struct fa_db {
    sqlite3 *h;
    char *path;
    unsigned flags;
    int readonly;     /* no writes through this handle */
    int in_memory;    /* read-only handle working on a private, migrated in-memory copy */
    int version;      /* schema version after open */
    int disk_version; /* schema version the file had */
    int busy_ms;      /* busy timeout */
    int wal_ready;    /* journal_mode = WAL done (at the first write, see fa_db_begin) */
    int run_lock_fd;  /* the folder, locked for the run in progress; -1 (fa_db_runlock.c) */
    int batch;        /* inside fa_db_batch_begin/_end: one transaction, inner ones nest */
    int batch_failed; /* a write inside the batch failed and rolled the batch back */
    sqlite3_stmt *stmts[STMT_COUNT];
};

/* Liveness of runs (fa_db_runlock.c). fa_db_run_lock: hold the lock of run uuid on this handle
 * until fa_db_run_unlock (fa_db_run_end, fa_db_close); never fails (without a lock the run only
 * risks being marked early, and its end corrects that). fa_db_run_gone: 1 when no process holds
 * the lock of run uuid (it is dead), 0 when one does or nobody can tell. */
void fa_db_run_lock(fa_db *db, const char *uuid);
void fa_db_run_unlock(fa_db *db);
int fa_db_run_gone(const fa_db *db, const char *uuid);

/* Turn an SQLite result code into an fa_status with a message naming db->path and what was
 * being done ("cannot record measurement"). Busy -> FA_BUSY, disk full / I/O -> FA_IO,
 * corrupt / not a database -> FA_DB, foreign-key violation -> FA_INVALID, else FA_DB. */
fa_status fa_db_fail(const fa_db *db, int rc, const char *what, fa_err *err, const char *file,
                     int line);

#define FA_DB_FAIL(db, rc, what, err) fa_db_fail((db), (rc), (what), (err), __FILE__, __LINE__)

/* The one checking macro: on an SQLite error, record it and jump to cleanup with st set.
 * Use inside functions that declare `fa_status st` and a `cleanup:` label. */
#define FA_DB_CHECK(db, call, what, err)                                                           \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != SQLITE_OK && rc_ != SQLITE_DONE && rc_ != SQLITE_ROW) {                         \
            st = FA_DB_FAIL(db, rc_, what, err);                                                   \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

/* The cached statement id in *out, reset and with its bindings cleared. Fails if it cannot be
 * prepared or is already being stepped (a callback re-entering the same query). */
fa_status fa_db_stmt(fa_db *db, fa_db_stmt_id id, sqlite3_stmt **out, fa_err *err);

/* SQL text of a cached statement (fa_db_stmt.c). */
const char *fa_db_stmt_sql(fa_db_stmt_id id);

/* BEGIN IMMEDIATE, waiting up to the busy timeout for other writers; FA_BUSY after that. */
fa_status fa_db_begin(fa_db *db, fa_err *err);
/* COMMIT; on failure the transaction is rolled back and the error returned. */
fa_status fa_db_commit(fa_db *db, fa_err *err);
/* ROLLBACK if a transaction is open; never fails (the first error is what matters). */
void fa_db_rollback(fa_db *db);

/* FA_INVALID naming the file if db is read-only. */
fa_status fa_db_require_writable(fa_db *db, const char *what, fa_err *err);

/* A copy of the whole database (sqlite3_free it), marked as a rollback-journal file so it
 * can be loaded with sqlite3_deserialize; NULL when out of memory. */
unsigned char *fa_db_snapshot(fa_db *db, sqlite3_int64 *size);

/* Apply migrations from the database's user_version up to FA_DB_SCHEMA_VERSION in one
 * transaction (fa_db_schema.c). The caller has checked the version is not newer. */
fa_status fa_db_migrate(fa_db *db, fa_err *err);

/* FA_DB naming the first difference if the schema of file (at the given user_version, >= 1)
 * is not the one fa-tune's migrations build: see fa_db_schema_check.c. */
fa_status fa_db_schema_check(sqlite3 *file, int version, const char *path, fa_err *err);

/* Run a query whose first row's first column is an integer (a count, a PRAGMA) into *out.
 * An SQLite result code: SQLITE_OK, or the error. */
int fa_db_exec_int(sqlite3 *h, const char *sql, int *out);
/* Number of migrations (== FA_DB_SCHEMA_VERSION) and the SQL of migration i (0-based: it
 * takes a database from version i to i + 1). */
int fa_db_migration_count(void);
const char *fa_db_migration_sql(int i);

/* Text helpers for result columns: copy column i (NULL -> "") into buf of size n. */
void fa_db_col_text(sqlite3_stmt *s, int i, char *buf, size_t n);
/* Column i as a number with NULL -> -1. */
double fa_db_col_double(sqlite3_stmt *s, int i);
int64_t fa_db_col_int64(sqlite3_stmt *s, int i);
int fa_db_col_int(sqlite3_stmt *s, int i);

/* Bind a figure where negative means "not measured": NULL then. */
int fa_db_bind_double_opt(sqlite3_stmt *s, int i, double x);
int fa_db_bind_int64_opt(sqlite3_stmt *s, int i, int64_t x);
/* Bind text (NULL binds SQL NULL). */
int fa_db_bind_text(sqlite3_stmt *s, int i, const char *t);

/* strerror(e), lowercased, in buf; returns buf. */
const char *fa_db_errno_text(int e, char *buf, size_t n);

/* Status token -> fa_status (FA_ERROR for an unknown token). */
fa_status fa_db_status_from_token(const char *token);

/* Fill a fresh random (version 4) uuid into buf (>= FA_DB_UUID_MAX). */
fa_status fa_db_uuid(char buf[FA_DB_UUID_MAX], fa_err *err);

#endif /* FA_DB_INTERNAL_H */
