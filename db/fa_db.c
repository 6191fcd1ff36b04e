/*
 * This file implements opening and closing the results database, the translation of SQLite
 * errors into fa_status with messages naming the file, and the transaction helpers.
 *
 * Opening checks everything it can before writing a byte: the path (missing, directory, not
 * a regular file, permissions), that the file is SQLite, its schema version (a newer one is
 * refused), that it is an fa-tune database, and PRAGMA quick_check. Only then does a
 * read-write handle migrate; it switches to WAL at its first write transaction (fa_db_begin),
 * so a command refused after opening (a merge whose source is refused) leaves the file's bytes
 * as they were. A read-only handle never writes: an older schema is upgraded in a private
 * in-memory copy, and when SQLite cannot read a WAL file in place (read-only directory: no -shm
 * can be made) it is reopened with immutable=1.
 *
 * Sidecar files: reading a WAL database makes SQLite create -wal and -shm files, and a
 * connection opened SQLITE_OPEN_READONLY cannot remove them when it closes (that needs a
 * checkpoint, a write). So where the file and its folder are writable and no interrupted
 * transaction waits in a -wal or -journal, a read-only handle is an SQLite read-write
 * connection with PRAGMA query_only = ON from its first statement: SQL cannot write through it,
 * and SQLite removes the sidecars it made when the last connection closes -- a refused open
 * (newer schema, not fa-tune's) leaves nothing beside the file. Elsewhere (read-only file or
 * folder, a pending transaction that only a writer may recover) it is SQLITE_OPEN_READONLY.
 * One effect to know: when a writer commits while such a handle reads and closes before it,
 * the handle's close is the last one and checkpoints those commits into the file -- committed
 * rows only, what the writer's own close would have done; the content never changes.
 */
#include "fa_db_internal.h"

#include "fa_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FA_DB_BUSY_DEFAULT_MS 15000
#define FA_DB_BUSY_MAX_MS (24 * 3600 * 1000)

/* FA_DB_BUSY_TIMEOUT_MS, or the default when unset or empty; a value that is not a number of
 * milliseconds in range is refused (silently waiting 15 s instead would hide the typo). */
static fa_status busy_timeout_ms(int *out, fa_err *err)
{
    const char *s = getenv("FA_DB_BUSY_TIMEOUT_MS");
    int64_t ms = FA_DB_BUSY_DEFAULT_MS;
    if (s && *s && fa_parse_int64(s, 0, FA_DB_BUSY_MAX_MS, 0, &ms) != 0) {
        char shown[128];
        return FA_ERR(err, FA_INVALID,
                      "environment variable FA_DB_BUSY_TIMEOUT_MS='%s': expected milliseconds, "
                      "an integer in [0, %d]",
                      fa_printable(s, shown, sizeof shown), FA_DB_BUSY_MAX_MS);
    }
    *out = (int)ms;
    return FA_OK;
}

const char *fa_db_errno_text(int e, char *buf, size_t n)
{
    snprintf(buf, n, "%s", strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a'); /* house style: lowercase messages */
    return buf;
}

static const char *io_reason(int sys, const char *fallback)
{
    switch (sys) {
    case ENOSPC:
        return "disk full";
    case EFBIG:
        return "disk full (file size limit reached)";
    case EDQUOT:
        return "disk quota exceeded";
    case EROFS:
        return "read-only file system";
    case EACCES:
    case EPERM:
        return "permission denied";
    case ENOENT:
        return "no such file or directory";
    case EISDIR:
        return "is a directory";
    case 0:
        return fallback;
    default:
        return fallback; /* the caller adds SQLite's own words */
    }
}

fa_status fa_db_fail(const fa_db *db, int rc, const char *what, fa_err *err, const char *file,
                     int line)
{
    int saved_errno = errno; /* what the failing write saw, unless SQLite kept it itself */
    const char *path = db ? db->path : "?";
    sqlite3 *h = db ? db->h : NULL;
    const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
    int sys = h ? sqlite3_system_errno(h) : 0;
    if (!sys && (saved_errno == ENOSPC || saved_errno == EFBIG || saved_errno == EDQUOT))
        sys = saved_errno;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return fa_err_set(err, FA_BUSY, file, line,
                          "%s '%s': locked by another process (waited %d ms; "
                          "FA_DB_BUSY_TIMEOUT_MS sets the wait)",
                          what, path, db ? db->busy_ms : 0);
    case SQLITE_FULL:
        return fa_err_set(err, FA_IO, file, line, "%s '%s': %s", what, path,
                          io_reason(sys == EFBIG || sys == EDQUOT ? sys : ENOSPC, "disk full"));
    case SQLITE_IOERR:
        return fa_err_set(err, FA_IO, file, line, "%s '%s': %s (%s)", what, path,
                          io_reason(sys, "i/o error"), msg);
    case SQLITE_CANTOPEN:
        return fa_err_set(err, FA_IO, file, line, "%s '%s': %s", what, path,
                          io_reason(sys, "unable to open the file"));
    case SQLITE_READONLY:
        return fa_err_set(err, FA_IO, file, line, "%s '%s': the file or its directory is read-only",
                          what, path);
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return fa_err_set(err, FA_IO, file, line, "%s '%s': permission denied", what, path);
    case SQLITE_NOTADB:
        return fa_err_set(err, FA_DB, file, line, "%s '%s': not an SQLite database", what, path);
    case SQLITE_CORRUPT:
        return fa_err_set(err, FA_DB, file, line, "%s '%s': the database is corrupt (%s)", what,
                          path, msg);
    case SQLITE_NOMEM:
        return fa_err_set(err, FA_NOMEM, file, line, "%s '%s': out of memory", what, path);
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return fa_err_set(err, FA_INVALID, file, line,
                              "%s '%s': it refers to a run, device, variant or problem that is "
                              "not in the database",
                              what, path);
        return fa_err_set(err, FA_DB, file, line, "%s '%s': %s", what, path, msg);
    default:
        return fa_err_set(err, FA_DB, file, line, "%s '%s': %s", what, path, msg);
    }
}

/* ---- small helpers shared by the other files ---------------------------------------------- */

void fa_db_col_text(sqlite3_stmt *s, int i, char *buf, size_t n)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(buf, n, "%s", t ? (const char *)t : "");
}

double fa_db_col_double(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? -1.0 : sqlite3_column_double(s, i);
}

int64_t fa_db_col_int64(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : (int64_t)sqlite3_column_int64(s, i);
}

int fa_db_col_int(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int(s, i);
}

int fa_db_bind_double_opt(sqlite3_stmt *s, int i, double x)
{
    /* NaN and negative "not measured" values are stored as NULL. */
    return x >= 0 ? sqlite3_bind_double(s, i, x) : sqlite3_bind_null(s, i);
}

int fa_db_bind_int64_opt(sqlite3_stmt *s, int i, int64_t x)
{
    return x >= 0 ? sqlite3_bind_int64(s, i, (sqlite3_int64)x) : sqlite3_bind_null(s, i);
}

int fa_db_bind_text(sqlite3_stmt *s, int i, const char *t)
{
    return t ? sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

fa_status fa_db_status_from_token(const char *token)
{
    /* Walk the status table until fa_status_token runs off its end ("unknown"). */
    for (int st = FA_OK; token && st < 256; st++) {
        const char *t = fa_status_token((fa_status)st);
        if (strcmp(t, "unknown") == 0)
            break;
        if (strcmp(t, token) == 0)
            return (fa_status)st;
    }
    return FA_ERROR;
}

fa_status fa_db_require_writable(fa_db *db, const char *what, fa_err *err)
{
    if (!db)
        return FA_ERR(err, FA_INVALID, "%s: no database handle", what);
    if (db->readonly)
        return FA_ERR(err, FA_INVALID, "%s '%s': the database was opened read-only", what,
                      db->path);
    return FA_OK;
}

/* ---- transactions -------------------------------------------------------------------------- */

/* ensure_wal: how many times an ENOENT I/O error of the WAL switch is retried (5 ms apart). */
#define FA_DB_WAL_IOERR_RETRIES 20

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A retry of a call SQLite answered busy without waiting: pause 5 ms and say 1, or say 0 once
 * deadline (now_ms's clock) has passed. */
static int busy_pause(double deadline)
{
    if (now_ms() >= deadline)
        return 0;
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
    return 1;
}

/* WAL lets readers (reports, emit) run while a tuner writes. NORMAL sync in WAL mode never
 * corrupts the file and keeps every commit across a crash or a kill of fa-tune; only a power
 * cut or an OS crash can lose the last commits, which a rerun re-measures. FULL synced the
 * disk once per measurement: 4-7 s of a 62-73 s sweep on an H100 machine, with the GPU waiting
 * on it. The switch writes the file's header, so it waits for the first write transaction: a
 * handle that writes nothing leaves the file's bytes as they were. */
static fa_status ensure_wal(fa_db *db, fa_err *err)
{
    if (db->wal_ready || db->in_memory)
        return FA_OK;
    /* Two processes making the same new file (two tuners started at once on one database)
     * race here: the switch needs the file alone, and SQLite answers SQLITE_BUSY without
     * calling the busy handler, or an I/O error when the other process removed the
     * rollback journal it was looking at (ENOENT). Both pass once the other's switch is
     * done, so they are retried until the busy timeout, the I/O error a few times only. */
    double deadline = now_ms() + db->busy_ms;
    for (int ioerr = 0;;) {
        int rc = sqlite3_exec(db->h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            break;
        const int base = rc & 0xff;
        const int transient = base == SQLITE_BUSY || base == SQLITE_LOCKED ||
                              (base == SQLITE_IOERR && sqlite3_system_errno(db->h) == ENOENT &&
                               ++ioerr <= FA_DB_WAL_IOERR_RETRIES);
        if (!transient || !busy_pause(deadline))
            return FA_DB_FAIL(db, rc, "cannot switch to WAL mode", err);
    }
    db->wal_ready = 1;
    return FA_OK;
}

fa_status fa_db_begin(fa_db *db, fa_err *err)
{
    if (db->batch && db->batch_failed)
        return FA_ERR(err, FA_DB, "cannot write to '%s': an earlier write of this batch failed",
                      db->path);
    if (db->batch && !sqlite3_get_autocommit(db->h))
        return FA_OK; /* the batch's transaction is the one this write joins */
    sqlite3_stmt *s = NULL;
    fa_status st = ensure_wal(db, err);
    if (st != FA_OK)
        return st;
    st = fa_db_stmt(db, STMT_BEGIN, &s, err);
    if (st != FA_OK)
        return st;
    /* The busy handler normally does the waiting; this loop covers the cases where SQLite
     * returns SQLITE_BUSY without calling it (e.g. while another connection recovers the WAL). */
    double deadline = now_ms() + db->busy_ms;
    for (;;) {
        int rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc == SQLITE_DONE)
            return FA_OK;
        if ((rc & 0xff) == SQLITE_BUSY && busy_pause(deadline))
            continue;
        return FA_DB_FAIL(db, rc, "cannot start a write transaction on", err);
    }
}

fa_status fa_db_commit(fa_db *db, fa_err *err)
{
    if (db->batch && !db->batch_failed)
        return FA_OK; /* fa_db_batch_end commits */
    sqlite3_stmt *s = NULL;
    fa_status st = fa_db_stmt(db, STMT_COMMIT, &s, err);
    if (st != FA_OK) {
        fa_db_rollback(db);
        return st;
    }
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        st = FA_DB_FAIL(db, rc, "cannot commit to", err);
        fa_db_rollback(db);
        return st;
    }
    return FA_OK;
}

void fa_db_rollback(fa_db *db)
{
    if (db && db->batch)
        db->batch_failed = 1; /* one write failed: the whole batch goes */
    if (!db || !db->h || sqlite3_get_autocommit(db->h))
        return; /* no transaction open (SQLite may have rolled it back itself) */
    sqlite3_stmt *s = NULL;
    if (fa_db_stmt(db, STMT_ROLLBACK, &s, NULL) == FA_OK) {
        sqlite3_step(s);
        sqlite3_reset(s);
    } else {
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    }
}

/* ---- opening ------------------------------------------------------------------------------- */

int fa_db_exec_int(sqlite3 *h, const char *sql, int *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/* Look at the file without writing: SQLite at all, schema version, fa-tune's, intact. */
static fa_status probe(fa_db *db, int *sqlite_rc, fa_err *err)
{
    fa_status st = FA_OK;
    sqlite3_stmt *s = NULL;
    int objects = 0, version = 0;
    int rc = fa_db_exec_int(db->h, "SELECT count(*) FROM sqlite_schema", &objects);
    if (rc == SQLITE_OK)
        rc = fa_db_exec_int(db->h, "PRAGMA user_version", &version);
    *sqlite_rc = rc;
    if (rc != SQLITE_OK) {
        st = FA_DB_FAIL(db, rc, "cannot open", err);
        goto cleanup;
    }
    if (version > FA_DB_SCHEMA_VERSION) {
        st = FA_ERR(err, FA_DB,
                    "cannot open '%s': schema version %d is newer than this fa-tune understands "
                    "(%d); use a newer fa-tune (the file was left untouched)",
                    db->path, version, FA_DB_SCHEMA_VERSION);
        goto cleanup;
    }
    /* user_version is any 32-bit integer; fa-tune only ever writes 1 .. the current one */
    if ((version == 0 && objects > 0) || version < 0) {
        st = FA_ERR(err, FA_DB, "cannot open '%s': an SQLite database, but not an fa-tune one",
                    db->path);
        goto cleanup;
    }
    if (objects > 0) {
        rc = sqlite3_prepare_v2(db->h, "PRAGMA quick_check(1)", -1, &s, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(s);
        *sqlite_rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
        if (rc != SQLITE_ROW) {
            st = FA_DB_FAIL(db, rc, "cannot open", err);
            goto cleanup;
        }
        const unsigned char *verdict = sqlite3_column_text(s, 0);
        if (!verdict || strcmp((const char *)verdict, "ok") != 0) {
            st = FA_ERR(err, FA_DB, "cannot open '%s': the database is corrupt (%s)", db->path,
                        verdict ? (const char *)verdict : "no verdict");
            goto cleanup;
        }
        st = fa_db_schema_check(db->h, version, db->path, err);
        if (st != FA_OK)
            goto cleanup;
    }
    db->disk_version = version;
    db->version = version;

cleanup:
    sqlite3_finalize(s);
    return st;
}

/* "file:" URI of path with immutable=1, for a read-only directory. */
static char *immutable_uri(const char *path)
{
    size_t n = strlen(path);
    char *uri = malloc(n * 3 + 32);
    if (!uri)
        return NULL;
    char *o = uri;
    o += sprintf(o, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x21 || *p > 0x7e)
            o += sprintf(o, "%%%02X", *p);
        else
            *o++ = (char)*p;
    }
    strcpy(o, "?immutable=1");
    return uri;
}

static void close_handle(fa_db *db)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(db->stmts[i]);
        db->stmts[i] = NULL;
    }
    sqlite3_close(db->h);
    db->h = NULL;
}

static fa_status open_handle(fa_db *db, const char *name, int oflags, fa_err *err)
{
    int rc = sqlite3_open_v2(name, &db->h, oflags | SQLITE_OPEN_EXRESCODE, NULL);
    if (rc != SQLITE_OK) {
        fa_status st = FA_DB_FAIL(db, rc, "cannot open", err);
        close_handle(db);
        return st;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, db->busy_ms);
    return FA_OK;
}

unsigned char *fa_db_snapshot(fa_db *db, sqlite3_int64 *size)
{
    unsigned char *bytes = sqlite3_serialize(db->h, "main", size, 0);
    /* Header bytes 18-19 say "WAL" for a WAL file; an in-memory database cannot have a WAL,
     * so the copy is marked as a rollback-journal database. */
    if (bytes && *size >= 100) {
        bytes[18] = 1;
        bytes[19] = 1;
    }
    return bytes;
}

/* Replace the read-only file handle by a private in-memory copy, then migrate the copy. */
static fa_status migrate_in_memory(fa_db *db, fa_err *err)
{
    sqlite3_int64 size = 0;
    int pages = -1;
    unsigned char *bytes = fa_db_snapshot(db, &size);
    /* sqlite3_serialize has nothing to return for a file of zero pages (an empty file):
     * its copy is an empty in-memory database, which the migration then fills. */
    if (!bytes && (fa_db_exec_int(db->h, "PRAGMA page_count", &pages) != SQLITE_OK || pages))
        return FA_ERR(err, FA_NOMEM, "cannot read '%s' into memory to upgrade its schema",
                      db->path);
    close_handle(db);
    fa_status st = open_handle(db, ":memory:", SQLITE_OPEN_READWRITE, err);
    if (st != FA_OK) {
        sqlite3_free(bytes);
        return st;
    }
    if (bytes) {
        int rc =
            sqlite3_deserialize(db->h, "main", bytes, size, size,
                                SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
        if (rc != SQLITE_OK)
            return FA_DB_FAIL(db, rc, "cannot load a copy of", err);
    }
    db->in_memory = 1;
    db->readonly = 0; /* the copy is private: migrating it writes nothing to the file */
    st = fa_db_migrate(db, err);
    db->readonly = 1;
    return st;
}

/* Did a read-only open fail because SQLite could not set up the WAL index (-shm)? */
static int needs_shm(int rc)
{
    return (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY ||
           rc == SQLITE_IOERR_SHMOPEN || rc == SQLITE_IOERR_SHMSIZE || rc == SQLITE_IOERR_SHMMAP ||
           rc == SQLITE_IOERR_SHMLOCK;
}

/* A non-empty -wal or a -journal beside the file: pending or crashed writes. */
static int has_unfinished_transaction(const char *path)
{
    char side[4096];
    struct stat sb;
    snprintf(side, sizeof side, "%s-wal", path);
    if (stat(side, &sb) == 0 && sb.st_size > 0)
        return 1;
    snprintf(side, sizeof side, "%s-journal", path);
    return stat(side, &sb) == 0 && sb.st_size > 0;
}

/* Can a read-only handle use a query_only read-write connection (see the top of this file)? */
static int query_only_ok(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return access(path, R_OK | W_OK) == 0 && access(dir, W_OK) == 0 &&
           !has_unfinished_transaction(path);
}

static fa_status check_path(const char *path, unsigned flags, int *created, fa_err *err)
{
    struct stat sb;
    *created = 0;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) {
            char why[128];
            return FA_ERR(err, FA_IO, "cannot open '%s': %s", path,
                          fa_db_errno_text(errno, why, sizeof why));
        }
        if ((flags & FA_DB_READONLY) || !(flags & FA_DB_CREATE))
            return FA_ERR(err, FA_NOT_FOUND, "cannot open '%s': no such file", path);
        *created = 1;
        return FA_OK;
    }
    if (S_ISDIR(sb.st_mode))
        return FA_ERR(err, FA_IO, "cannot open '%s': is a directory", path);
    if (!S_ISREG(sb.st_mode))
        return FA_ERR(err, FA_IO, "cannot open '%s': not a regular file", path);
    if (access(path, R_OK) != 0)
        return FA_ERR(err, FA_IO, "cannot open '%s': %s", path, io_reason(errno, "unreadable"));
    if (!(flags & FA_DB_READONLY) && access(path, W_OK) != 0)
        return FA_ERR(err, FA_IO, "cannot open '%s' for writing: %s", path,
                      io_reason(errno, "not writable"));
    return FA_OK;
}

fa_status fa_db_open(const char *path, unsigned flags, fa_db **out, fa_err *err)
{
    fa_status st = FA_OK;
    fa_db *db = NULL;
    char *uri = NULL;
    int created = 0;
    int probe_rc = SQLITE_OK;

    int busy_ms = 0;
    if (!path || !*path || !out) {
        st = FA_ERR(err, FA_INVALID, "cannot open a database: no path given");
        goto cleanup;
    }
    if ((st = busy_timeout_ms(&busy_ms, err)) != FA_OK)
        goto cleanup;
    st = check_path(path, flags, &created, err);
    if (st != FA_OK)
        goto cleanup;
    db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        st = FA_ERR(err, FA_NOMEM, "cannot open '%s': out of memory", path);
        goto cleanup;
    }
    db->flags = flags;
    db->readonly = (flags & FA_DB_READONLY) != 0;
    db->busy_ms = busy_ms;
    db->run_lock_fd = -1;

    int query_only = db->readonly && query_only_ok(path);
    int oflags = db->readonly && !query_only
                     ? SQLITE_OPEN_READONLY
                     : SQLITE_OPEN_READWRITE | (created ? SQLITE_OPEN_CREATE : 0);
    st = open_handle(db, path, oflags, err);
    if (st != FA_OK)
        goto cleanup;
    if (query_only && sqlite3_exec(db->h, "PRAGMA query_only = ON", NULL, NULL, NULL)) {
        st = FA_DB_FAIL(db, sqlite3_errcode(db->h), "cannot open", err);
        goto cleanup;
    }
    st = probe(db, &probe_rc, err);
    if (st != FA_OK && db->readonly && needs_shm(probe_rc)) {
        if (has_unfinished_transaction(path)) {
            /* Reading it as immutable would ignore committed data in the -wal (or read
             * half-rolled-back pages): say what is needed instead. */
            st = FA_ERR(
                err, FA_DB,
                "cannot open '%s' read-only: a writer was interrupted and left a transaction "
                "in its -wal or -journal file that only a read-write open can recover "
                "(run any writing fa-tune command on it where its directory is writable)",
                path);
            goto cleanup;
        }
        /* A WAL database SQLite cannot read in place without creating -shm (read-only
         * directory) and with nothing pending: read the main file as immutable. */
        close_handle(db);
        uri = immutable_uri(path);
        if (!uri) {
            st = FA_ERR(err, FA_NOMEM, "cannot open '%s': out of memory", path);
            goto cleanup;
        }
        fa_err_clear(err);
        st = open_handle(db, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err);
        if (st == FA_OK)
            st = probe(db, &probe_rc, err);
    }
    if (st != FA_OK)
        goto cleanup;

    if (db->readonly) {
        if (db->version < FA_DB_SCHEMA_VERSION)
            st = migrate_in_memory(db, err);
        if (st == FA_OK && sqlite3_exec(db->h, "PRAGMA query_only = ON", NULL, NULL, NULL))
            st = FA_DB_FAIL(db, sqlite3_errcode(db->h), "cannot open", err);
        goto cleanup;
    }

    FA_DB_CHECK(db, sqlite3_exec(db->h, "PRAGMA foreign_keys = ON", NULL, NULL, NULL),
                "cannot open", err);
    FA_DB_CHECK(db, sqlite3_exec(db->h, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL),
                "cannot open", err);
    if (db->version < FA_DB_SCHEMA_VERSION) {
        st = fa_db_migrate(db, err);
        if (st != FA_OK)
            goto cleanup;
    }

cleanup:
    free(uri);
    if (st != FA_OK) {
        fa_db_close(db);
        struct stat sb;
        /* Do not leave an empty file behind when creating it failed. */
        if (created && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
            unlink(path);
        return st;
    }
    *out = db;
    return FA_OK;
}

fa_status fa_db_batch_begin(fa_db *db, fa_err *err)
{
    static const char what[] = "cannot start a batch of writes in";
    fa_status st = fa_db_require_writable(db, what, err);
    if (st != FA_OK)
        return st;
    if (db->batch)
        return FA_ERR(err, FA_INVALID, "%s '%s': a batch is already open", what, db->path);
    if ((st = fa_db_begin(db, err)) != FA_OK)
        return st;
    db->batch = 1;
    db->batch_failed = 0;
    return FA_OK;
}

fa_status fa_db_batch_end(fa_db *db, int commit, fa_err *err)
{
    if (!db || !db->batch)
        return FA_ERR(err, FA_INVALID, "no batch of writes is open");
    int failed = db->batch_failed;
    db->batch = 0;
    db->batch_failed = 0;
    if (commit && !failed)
        return fa_db_commit(db, err);
    fa_db_rollback(db);
    return commit
               ? FA_ERR(err, FA_DB, "cannot commit to '%s': a write of the batch failed", db->path)
               : FA_OK;
}

void fa_db_close(fa_db *db)
{
    if (!db)
        return;
    close_handle(db);
    fa_db_run_unlock(db);
    free(db->path);
    free(db);
}

const char *fa_db_path(const fa_db *db)
{
    return db ? db->path : NULL;
}

int fa_db_schema_version(const fa_db *db)
{
    return db ? db->version : 0;
}

int fa_db_schema_version_on_disk(const fa_db *db)
{
    return db ? db->disk_version : 0;
}
