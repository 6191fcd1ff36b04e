/*
 * This file tests that the results database never loses or mangles data: every bad input
 * (a directory, a file that is not SQLite, a truncated or corrupt file, a newer schema, a
 * full disk mid-write, a long lock held by another process) gives a clear error naming the
 * file and leaves its bytes unchanged (checksums before and after); two processes writing at
 * once lose nothing; a writer killed with SIGKILL leaves a consistent database that a rerun
 * resumes from; read-only files and directories can be read.
 *
 * The "other process holding a lock" is played with SQLite directly, which is why this test
 * (alone outside db/) includes sqlite3.h.
 */
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "db_test.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A database with n measurements (n distinct problems), closed: no -wal left. */
static void make_db(const char *path, int n, const char *hash)
{
    fa_err err;
    int64_t dev, run;
    fa_db *db = test_open_run(path, hash, &dev, &run);
    for (int i = 0; i < n; i++) {
        fa_variant v = test_variant(FA_DTYPE_BF16, 128, 0, i % 16);
        fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 128 + i, 16, 16);
        fa_measurement m = test_measurement(FA_OK, 100 + i % 7, 1.0);
        if (fa_db_record(db, run, "sm90", &v, &p, &m, &err) != FA_OK) {
            fprintf(stderr, "make_db: %s\n", err.msg);
            exit(1);
        }
    }
    if (fa_db_run_end(db, run, FA_OK, &err) != FA_OK)
        exit(1);
    fa_db_close(db);
}

static void copy_file(const char *from, const char *to, int64_t limit)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    int c;
    int64_t n = 0;
    while (a && b && (limit < 0 || n < limit) && (c = fgetc(a)) != EOF) {
        fputc(c, b);
        n++;
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
}

/* Open path both ways and expect failure `want` with needle in the message, and the bytes
 * unchanged; no -wal/-shm left behind either. */
static void expect_refused(const char *path, fa_status want, const char *needle)
{
    uint64_t sum = file_sum(path);
    int64_t size = file_size(path);
    fa_err err;
    fa_db *db = NULL;
    CHECK_FAILS(fa_db_open(path, FA_DB_CREATE, &db, &err), want, &err, needle);
    CHECK(db == NULL);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK_FAILS(fa_db_open(path, 0, &db, &err), want, &err, needle);
    CHECK_FAILS(fa_db_open(path, FA_DB_READONLY, &db, &err), want, &err, needle);
    CHECK(file_sum(path) == sum && file_size(path) == size);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", path);
    CHECK(!file_exists(side) || file_size(side) == 0);
}

static void test_bad_paths(void)
{
    char path[512];
    fa_err err;
    fa_db *db = NULL;

    test_path(path, sizeof path, "a-directory.db");
    CHECK(mkdir(path, 0755) == 0);
    CHECK_FAILS(fa_db_open(path, FA_DB_CREATE, &db, &err), FA_IO, &err, "is a directory");
    CHECK(strstr(err.msg, "a-directory.db") != NULL);
    CHECK_FAILS(fa_db_open(path, FA_DB_READONLY, &db, &err), FA_IO, &err, "is a directory");

    test_path(path, sizeof path, "missing.db");
    CHECK_FAILS(fa_db_open(path, 0, &db, &err), FA_NOT_FOUND, &err, "no such file");
    CHECK_FAILS(fa_db_open(path, FA_DB_READONLY | FA_DB_CREATE, &db, &err), FA_NOT_FOUND, &err,
                "missing.db");
    CHECK(!file_exists(path));
    CHECK_FAILS(fa_db_open(NULL, 0, &db, &err), FA_INVALID, &err, "no path");

    test_path(path, sizeof path, "no-such-dir/x.db");
    CHECK_FAILS(fa_db_open(path, FA_DB_CREATE, &db, &err), FA_IO, &err, "x.db");

    /* Not SQLite at all. */
    test_path(path, sizeof path, "notes.db");
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 200; i++)
        fprintf(f, "this is a text file, line %d, not a database\n", i);
    fclose(f);
    expect_refused(path, FA_DB, "not an SQLite database");

    /* SQLite, but someone else's. */
    test_path(path, sizeof path, "foreign.db");
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(path, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "CREATE TABLE t (x); INSERT INTO t VALUES (1)", 0, 0, 0) == SQLITE_OK);
    sqlite3_close(h);
    expect_refused(path, FA_DB, "not an fa-tune one");
}

static void test_damaged(void)
{
    char good[512], path[512];
    test_path(good, sizeof good, "good.db");
    make_db(good, 400, "h");
    int64_t size = file_size(good);
    CHECK(size > 16 * 4096);

    /* Truncated: the second half is gone. */
    test_path(path, sizeof path, "truncated.db");
    copy_file(good, path, size / 2);
    expect_refused(path, FA_DB, "corrupt");

    /* Truncated inside the header. */
    test_path(path, sizeof path, "stub.db");
    copy_file(good, path, 60);
    expect_refused(path, FA_DB, "stub.db");

    /* A b-tree page overwritten with garbage. */
    test_path(path, sizeof path, "corrupt.db");
    copy_file(good, path, -1);
    FILE *f = fopen(path, "r+b");
    for (int page = 2; page < size / 4096; page += 3) {
        fseek(f, (long)page * 4096 + 8, SEEK_SET);
        for (int i = 0; i < 512; i++)
            fputc((i * 37 + page) & 0xff, f);
    }
    fclose(f);
    expect_refused(path, FA_DB, "corrupt");

    /* The SQLite magic overwritten. */
    test_path(path, sizeof path, "badmagic.db");
    copy_file(good, path, -1);
    f = fopen(path, "r+b");
    fputs("Not SQLite at a", f);
    fclose(f);
    expect_refused(path, FA_DB, "not an SQLite database");

    /* A newer schema: refused, untouched; and merging it is refused too. */
    test_path(path, sizeof path, "newer.db");
    copy_file(good, path, -1);
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(path, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "PRAGMA user_version = 99", 0, 0, 0) == SQLITE_OK);
    sqlite3_close(h);
    expect_refused(path, FA_DB, "schema version 99 is newer");
    fa_err err;
    fa_db *db = NULL;
    CHECK_OK(fa_db_open(good, 0, &db, &err), &err);
    uint64_t sum = file_sum(path);
    CHECK_FAILS(fa_db_merge(db, path, NULL, &err), FA_DB, &err, "newer");
    CHECK(file_sum(path) == sum);

    /* A negative schema version (user_version is any 32-bit integer) is not ours: refused
     * before any migration runs, also as a merge source. */
    test_path(path, sizeof path, "negative.db");
    copy_file(good, path, -1);
    CHECK(sqlite3_open(path, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "PRAGMA user_version = -1", 0, 0, 0) == SQLITE_OK);
    sqlite3_close(h);
    expect_refused(path, FA_DB, "not an fa-tune one");
    fa_db *ro = NULL;
    sum = file_sum(path);
    CHECK_FAILS(fa_db_merge(db, path, NULL, &err), FA_DB, &err, "not an fa-tune one");
    CHECK(file_sum(path) == sum);

    /* A schema that is not fa-tune's (a database someone else wrote): a winners view that
     * never ends, a table turned into a view, an added generated column, a trigger. Each is
     * refused before any query or migration, the file untouched; a user's own extra table,
     * index and view are fine. */
    static const struct {
        const char *sql, *needle;
    } hostile[] = {
        {"DROP VIEW winners; CREATE VIEW winners AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
         "SELECT x + 1 FROM c) SELECT x FROM c",
         "'winners' is not fa-tune's view"},
        {"DROP TABLE ceilings; CREATE VIEW ceilings AS SELECT 1 AS id",
         "'ceilings' is not of the type fa-tune made it"},
        {"ALTER TABLE peers ADD COLUMN x INTEGER AS (id * 2)",
         "'peers' has other columns than fa-tune's"},
        {"CREATE TRIGGER t AFTER INSERT ON measurements BEGIN DELETE FROM measurements; END",
         "1 trigger(s), which fa-tune never creates"},
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        test_path(path, sizeof path, "hostile.db");
        copy_file(good, path, -1);
        CHECK(sqlite3_open(path, &h) == SQLITE_OK);
        CHECK(sqlite3_exec(h, hostile[i].sql, 0, 0, 0) == SQLITE_OK);
        sqlite3_close(h);
        expect_refused(path, FA_DB, hostile[i].needle);
        sum = file_sum(path);
        CHECK_FAILS(fa_db_merge(db, path, NULL, &err), FA_DB, &err, hostile[i].needle);
        CHECK(file_sum(path) == sum);
    }
    test_path(path, sizeof path, "extras.db");
    copy_file(good, path, -1);
    CHECK(sqlite3_open(path, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h,
                       "CREATE TABLE notes (t TEXT); CREATE INDEX notes_t ON notes (t); "
                       "CREATE INDEX my_by_status ON measurements (status); "
                       "CREATE VIEW my_runs AS SELECT * FROM runs",
                       0, 0, 0) == SQLITE_OK);
    sqlite3_close(h);
    CHECK_OK(fa_db_open(path, 0, &ro, &err), &err);
    fa_db_close(ro);

    /* An empty file reads as an empty database (read-only: nothing written to it) and merges
     * as nothing. */
    test_path(path, sizeof path, "empty.db");
    copy_file(good, path, 0);
    CHECK_OK(fa_db_open(path, FA_DB_READONLY, &ro, &err), &err);
    fa_db_close(ro);
    CHECK(file_size(path) == 0);
    fa_db_merge_stats added;
    CHECK_OK(fa_db_merge(db, path, &added, &err), &err);
    CHECK(added.measurements == 0 && file_size(path) == 0);
    fa_db_close(db);
}

/* ---- full disk -------------------------------------------------------------------------- */

static void limit_file_size(rlim_t bytes)
{
    signal(SIGXFSZ, SIG_IGN); /* write() then fails with EFBIG instead of killing us */
    struct rlimit rl = {bytes, bytes};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        _exit(99);
}

static void test_disk_full(void)
{
    char big[512], small[512];
    test_path(big, sizeof big, "big.db");
    test_path(small, sizeof small, "small.db");
    make_db(big, 2000, "hbig");
    make_db(small, 5, "hsmall");
    uint64_t sum = file_sum(small);

    /* A merge too large for the space left fails as a whole and leaves the file as it was. */
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        limit_file_size(160 * 1024);
        fa_err err;
        fa_db *db = NULL;
        fa_status st = fa_db_open(small, 0, &db, &err);
        if (st == FA_OK)
            st = fa_db_merge(db, big, NULL, &err);
        fa_db_close(db);
        if (write(pfd[1], err.msg, strlen(err.msg)) < 0)
            _exit(98);
        _exit(st);
    }
    close(pfd[1]);
    char msg[2048] = "";
    ssize_t got = read(pfd[0], msg, sizeof msg - 1);
    msg[got > 0 ? got : 0] = '\0';
    close(pfd[0]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == FA_IO);
    CHECK(strstr(msg, "disk full") != NULL && strstr(msg, "small.db") != NULL);
    if (!strstr(msg, "disk full"))
        fprintf(stderr, "  merge under a file size limit said: %s\n", msg);
    CHECK(file_sum(small) == sum);
    fa_err err;
    fa_db *db = NULL;
    CHECK_OK(fa_db_open(small, 0, &db, &err), &err);
    CHECK(count_measurements(db, NULL) == 5);
    fa_db_close(db);
    CHECK(file_sum(small) == sum);

    /* Recording until the disk fills: every committed result survives, nothing else. */
    char fill[512];
    test_path(fill, sizeof fill, "fill.db");
    make_db(fill, 1, "hfill");
    CHECK(pipe(pfd) == 0);
    pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        limit_file_size(1024 * 1024);
        fa_err e;
        fa_db *d = NULL;
        int64_t dev, run;
        fa_db_device dv = test_device("NVIDIA H100 80GB HBM3", "sm90", 90);
        if (fa_db_open(fill, 0, &d, &e) || fa_db_device_upsert(d, &dv, &dev, &e) ||
            fa_db_run_begin(d, dev, "0.1.0", "hfill", "", &run, &e))
            _exit(97);
        int ok = 0;
        fa_status st = FA_OK;
        for (int i = 0; i < 100000 && st == FA_OK; i++) {
            fa_variant v = test_variant(FA_DTYPE_FP16, 64, 0, i % 16);
            fa_problem p = test_problem(FA_DTYPE_FP16, 64, 0, 128 + i, 8, 8);
            fa_measurement m = test_measurement(FA_OK, 10, 1);
            memset(m.message, 'x', sizeof m.message - 1);
            st = fa_db_record(d, run, "sm90", &v, &p, &m, &e);
            ok += st == FA_OK;
        }
        fa_db_close(d);
        if (write(pfd[1], &ok, sizeof ok) != sizeof ok || write(pfd[1], e.msg, strlen(e.msg)) < 0)
            _exit(98);
        _exit(st);
    }
    close(pfd[1]);
    int ok = -1;
    CHECK(read(pfd[0], &ok, sizeof ok) == sizeof ok);
    got = read(pfd[0], msg, sizeof msg - 1);
    msg[got > 0 ? got : 0] = '\0';
    close(pfd[0]);
    waitpid(pid, &ws, 0);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == FA_IO);
    CHECK(strstr(msg, "disk full") != NULL && strstr(msg, "fill.db") != NULL);
    CHECK(ok > 10);
    CHECK_OK(fa_db_open(fill, 0, &db, &err), &err);
    CHECK(count_measurements(db, NULL) == 1 + ok);
    fa_db_close(db);
}

/* ---- another process holds a lock ------------------------------------------------------- */

/* Child: take the lock with `sql`, say so on `ready`, hold it until `release` is readable. */
static pid_t hold_lock(const char *path, const char *sql, int *ready_fd, int *release_fd)
{
    int ready[2], release[2];
    if (pipe(ready) || pipe(release))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        close(release[1]);
        sqlite3 *h = NULL;
        char c = 'L';
        if (sqlite3_open(path, &h) != SQLITE_OK || sqlite3_exec(h, sql, 0, 0, 0) != SQLITE_OK)
            c = 'E';
        if (write(ready[1], &c, 1) != 1 || read(release[0], &c, 1) < 0)
            _exit(1);
        sqlite3_exec(h, "ROLLBACK", 0, 0, 0);
        sqlite3_close(h);
        _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    *ready_fd = ready[0];
    *release_fd = release[1];
    return pid;
}

static void release_lock(pid_t pid, int ready_fd, int release_fd)
{
    char c = 'R';
    if (write(release_fd, &c, 1) != 1)
        kill(pid, SIGKILL);
    close(release_fd);
    close(ready_fd);
    int ws;
    waitpid(pid, &ws, 0);
}

static void test_locked(void)
{
    char path[512];
    test_path(path, sizeof path, "locked.db");
    make_db(path, 3, "hl");
    uint64_t sum = file_sum(path);
    setenv("FA_DB_BUSY_TIMEOUT_MS", "300", 1);

    /* A writer holds the write lock: we can open and read, but writes time out. */
    int ready, release;
    pid_t pid = hold_lock(path, "BEGIN IMMEDIATE", &ready, &release);
    char c = 0;
    CHECK(read(ready, &c, 1) == 1 && c == 'L');
    fa_err err;
    fa_db *db = NULL;
    CHECK_OK(fa_db_open(path, 0, &db, &err), &err);
    if (db) {
        CHECK(count_measurements(db, NULL) == 3);
        fa_variant v = test_variant(FA_DTYPE_BF16, 128, 0, 0);
        fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 4096, 16, 16);
        fa_measurement m = test_measurement(FA_OK, 1, 1);
        double t0 = now_ms();
        CHECK_FAILS(fa_db_record(db, 1, "sm90", &v, &p, &m, &err), FA_BUSY, &err,
                    "locked by another process");
        double waited = now_ms() - t0;
        CHECK(waited >= 250 && waited < 5000);
        CHECK(strstr(err.msg, "locked.db") != NULL);
        int64_t run;
        CHECK_FAILS(fa_db_run_begin(db, 1, "0.1.0", "h", "", &run, &err), FA_BUSY, &err,
                    "locked.db");
        fa_db_close(db);
    }
    release_lock(pid, ready, release);
    CHECK(file_sum(path) == sum);

    /* An exclusive holder: even opening times out, clearly. */
    pid = hold_lock(path, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE", &ready, &release);
    CHECK(read(ready, &c, 1) == 1 && c == 'L');
    db = NULL;
    CHECK_FAILS(fa_db_open(path, 0, &db, &err), FA_BUSY, &err, "locked.db");
    CHECK_FAILS(fa_db_open(path, FA_DB_READONLY, &db, &err), FA_BUSY, &err, "locked");
    release_lock(pid, ready, release);
    CHECK(file_sum(path) == sum);

    /* Once released, writes go through. */
    CHECK_OK(fa_db_open(path, 0, &db, &err), &err);
    fa_db_close(db);
    unsetenv("FA_DB_BUSY_TIMEOUT_MS");
}

/* ---- concurrent writers ----------------------------------------------------------------- */

enum { N_EACH = 150 };

static void writer(const char *path, int who)
{
    fa_err err;
    fa_db *db = NULL;
    int64_t dev, run;
    fa_db_device d = test_device("NVIDIA H100 80GB HBM3", "sm90", 90);
    if (fa_db_open(path, FA_DB_CREATE, &db, &err) || fa_db_device_upsert(db, &d, &dev, &err) ||
        fa_db_run_begin(db, dev, "0.1.0", "hc", "writer", &run, &err)) {
        fprintf(stderr, "writer %d: %s\n", who, err.msg);
        _exit(1);
    }
    for (int i = 0; i < N_EACH; i++) {
        /* Both writers insert the same variants and problems: the upserts race. */
        fa_variant v = test_variant(FA_DTYPE_BF16, 128, 0, i % 16);
        fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 128 + i, 16, 16);
        fa_measurement m = test_measurement(FA_OK, 100 + who, 1.0);
        if (fa_db_record(db, run, "sm90", &v, &p, &m, &err) != FA_OK) {
            fprintf(stderr, "writer %d, row %d: %s\n", who, i, err.msg);
            _exit(2);
        }
    }
    if (fa_db_run_end(db, run, FA_OK, &err) != FA_OK)
        _exit(3);
    fa_db_close(db);
    _exit(0);
}

/* Two processes make the same new database at once, many times: each opens it to write and
 * stores a device (its first write, where the file switches to WAL). Both must succeed. The
 * switch used to fail in about one race of five: SQLITE_BUSY without the busy handler, or
 * ENOENT for the other's rollback journal (fa_db.c's ensure_wal retries both). */
enum { N_CREATE_RACES = 24 };

static void create_racer(const char *path)
{
    fa_err err;
    fa_db *db = NULL;
    int64_t dev;
    fa_db_device d = test_device("NVIDIA H100 80GB HBM3", "sm90", 90);
    if (fa_db_open(path, FA_DB_CREATE, &db, &err) || fa_db_device_upsert(db, &d, &dev, &err)) {
        fprintf(stderr, "create race '%s': %s\n", path, err.msg);
        _exit(1);
    }
    fa_db_close(db);
    _exit(0);
}

static void test_concurrent_create(void)
{
    int ok = 0;
    for (int r = 0; r < N_CREATE_RACES; r++) {
        char name[64], path[512];
        snprintf(name, sizeof name, "race%d.db", r);
        test_path(path, sizeof path, name);
        pid_t a = fork();
        if (a == 0)
            create_racer(path);
        pid_t b = fork();
        if (b == 0)
            create_racer(path);
        int wa = 0, wb = 0;
        waitpid(a, &wa, 0);
        waitpid(b, &wb, 0);
        ok += WIFEXITED(wa) && WEXITSTATUS(wa) == 0 && WIFEXITED(wb) && WEXITSTATUS(wb) == 0;
    }
    CHECK_MSG(ok == N_CREATE_RACES, "%d of %d races had both writers succeed", ok, N_CREATE_RACES);
}

static int count_run_ok(const fa_db_run *r, void *user)
{
    if (strcmp(r->status, "ok") == 0 && r->measurements == N_EACH)
        (*(long *)user)++;
    return 0;
}

static void test_concurrent(void)
{
    char path[512];
    test_path(path, sizeof path, "concurrent.db"); /* created by the racing writers */
    pid_t a = fork();
    if (a == 0)
        writer(path, 1);
    pid_t b = fork();
    if (b == 0)
        writer(path, 2);
    int wa = 0, wb = 0;
    waitpid(a, &wa, 0);
    waitpid(b, &wb, 0);
    CHECK(WIFEXITED(wa) && WEXITSTATUS(wa) == 0);
    CHECK(WIFEXITED(wb) && WEXITSTATUS(wb) == 0);
    fa_err err;
    fa_db *db = NULL;
    CHECK_OK(fa_db_open(path, FA_DB_READONLY, &db, &err), &err);
    if (!db)
        return;
    CHECK(count_measurements(db, NULL) == 2 * N_EACH);
    long runs = 0;
    CHECK_OK(fa_db_runs(db, NULL, count_run_ok, &runs, &err), &err);
    CHECK(runs == 2);
    fa_db_close(db);
}

/* ---- a writer killed mid-run, then resumed ---------------------------------------------- */

static void test_killed(void)
{
    char path[512];
    test_path(path, sizeof path, "killed.db");
    make_db(path, 0, "hk");
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        fa_err err;
        int64_t dev, run;
        fa_db *db = test_open_run(path, "hk2", &dev, &run);
        for (int i = 0; i < 1000000; i++) {
            fa_variant v = test_variant(FA_DTYPE_BF16, 128, 0, i % 16);
            fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 128 + i, 16, 16);
            fa_measurement m = test_measurement(FA_OK, 100, 1.0);
            if (fa_db_record(db, run, "sm90", &v, &p, &m, &err) != FA_OK)
                _exit(2);
            if (write(pfd[1], &i, sizeof i) != sizeof i) /* i is committed */
                _exit(3);
        }
        _exit(0);
    }
    close(pfd[1]);
    int last = -1, i;
    while (last < 60 && read(pfd[0], &i, sizeof i) == sizeof i)
        last = i;
    kill(pid, SIGKILL);
    int ws;
    waitpid(pid, &ws, 0);
    CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    while (read(pfd[0], &i, sizeof i) == sizeof i)
        last = i;
    close(pfd[0]);

    fa_err err;
    fa_db *db = NULL;
    CHECK_OK(fa_db_open(path, 0, &db, &err), &err); /* quick_check passes */
    if (!db)
        return;
    long n = count_measurements(db, NULL);
    CHECK(n == last + 1 || n == last + 2); /* the kill may land between commit and report */

    /* Resume: a rerun on the same device with the same source hash skips exactly what was
     * stored; with another hash it skips nothing. */
    fa_db_device d = test_device("NVIDIA H100 80GB HBM3", "sm90", 90);
    int64_t dev;
    CHECK_OK(fa_db_device_upsert(db, &d, &dev, &err), &err);
    long skipped = 0, skipped_other = 0;
    for (int k = 0; k < last + 10; k++) {
        fa_variant v = test_variant(FA_DTYPE_BF16, 128, 0, k % 16);
        fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 128 + k, 16, 16);
        char vn[FA_VARIANT_NAME_MAX], pn[FA_PROBLEM_NAME_MAX];
        fa_variant_name(&v, vn, sizeof vn);
        fa_problem_name(&p, pn, sizeof pn);
        int found = 0;
        CHECK_OK(fa_db_has_measurement(db, dev, "sm90", "hk2", vn, pn, &found, &err), &err);
        skipped += found;
        CHECK_OK(fa_db_has_measurement(db, dev, "sm90", "hk", vn, pn, &found, &err), &err);
        skipped_other += found;
    }
    CHECK(skipped == n && skipped_other == 0);
    fa_db_run r;
    memset(&r, 0, sizeof r);
    long runs = 0;
    CHECK_OK(fa_db_runs(db, NULL, count_run_ok, &runs, &err), &err);
    CHECK(runs == 0); /* the killed run is still "running" */
    fa_db_close(db);
}

/* ---- read-only files and directories ---------------------------------------------------- */

static int count_winner(const fa_db_winner *w, void *user)
{
    return count_cb(w, user);
}

/* In a child (as an unprivileged user when we are root, so permissions bite): read-only
 * open and queries work; a read-write open is refused. Exit status = failed checks. */
/* In a child: become uid 65534 when root. Returns 1 when unprivileged now. If the scratch
 * folder of path is then out of reach (a sandbox whose "/" is mode 0700, as a chroot made with
 * mktemp -d is), the child has nothing to test as that user: it says so and exits 0. */
static int drop_privileges(const char *path)
{
    if (geteuid() != 0)
        return 1;
    if (setgid(65534) != 0) { /* may lack CAP_SETGID: group root cannot write either */
    }
    if (setuid(65534) != 0)
        return 0;
    char dir[600];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (access(dir, X_OK) != 0) {
        fprintf(stderr,
                "  skipped as uid 65534: '%s' is not reachable (an ancestor folder is "
                "not searchable)\n",
                dir);
        _exit(0);
    }
    return 1;
}

static void read_only_child(const char *path, int expect_rw_refused)
{
    fa_check_failures = 0; /* its exit status is its own checks', not the parent's so far */
    int unprivileged = drop_privileges(path);
    fa_err err;
    fa_db *db = NULL;
    CHECK_OK(fa_db_open(path, FA_DB_READONLY, &db, &err), &err);
    if (db) {
        CHECK(count_measurements(db, NULL) == 20);
        long w = 0;
        CHECK_OK(fa_db_winners(db, "sm90", count_winner, &w, &err), &err);
        CHECK(w > 0);
        fa_db_close(db);
    }
    if (expect_rw_refused && unprivileged) {
        CHECK_FAILS(fa_db_open(path, 0, &db, &err), FA_IO, &err, "permission denied");
    }
    _exit(fa_check_failures);
}

static void test_read_only(void)
{
    char dir[512], path[600];
    test_path(dir, sizeof dir, "ro");
    CHECK(mkdir(dir, 0755) == 0);
    snprintf(path, sizeof path, "%s/results.db", dir);
    make_db(path, 20, "hr");
    uint64_t sum = file_sum(path);

    /* chmod 444 file in a writable directory. */
    CHECK(chmod(path, 0444) == 0);
    pid_t pid = fork();
    if (pid == 0)
        read_only_child(path, 1);
    int ws;
    waitpid(pid, &ws, 0);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    CHECK(file_sum(path) == sum);

    /* And in a read-only directory, where no -shm can be created. */
    CHECK(chmod(dir, 0555) == 0);
    pid = fork();
    if (pid == 0)
        read_only_child(path, 1);
    waitpid(pid, &ws, 0);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    CHECK(file_sum(path) == sum);
    char side[700];
    snprintf(side, sizeof side, "%s-shm", path);
    CHECK(!file_exists(side));
    chmod(dir, 0755);
    chmod(path, 0644);

    /* A writer killed with committed rows still in its -wal, then the directory made
     * read-only. With its -shm left beside it SQLite reads the -wal too; without one,
     * reading the main file as immutable would miss those rows, so that is refused
     * clearly. Never a silent 20. */
    pid = fork();
    if (pid == 0) {
        int64_t d, r;
        fa_err e;
        fa_db *x = test_open_run(path, "hr3", &d, &r);
        fa_variant v = test_variant(FA_DTYPE_BF16, 128, 0, 1);
        fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 7777, 16, 16);
        fa_measurement m = test_measurement(FA_OK, 1, 1);
        if (fa_db_record(x, r, "sm90", &v, &p, &m, &e) != FA_OK)
            _exit(1);
        kill(getpid(), SIGKILL);
    }
    waitpid(pid, &ws, 0);
    CHECK(WIFSIGNALED(ws));
    snprintf(side, sizeof side, "%s-wal", path);
    CHECK(file_size(side) > 0);
    CHECK(chmod(dir, 0555) == 0);
    for (int with_shm = 1; with_shm >= 0; with_shm--) {
        if (!with_shm) {
            char shm[700];
            snprintf(shm, sizeof shm, "%s-shm", path);
            chmod(dir, 0755);
            CHECK(unlink(shm) == 0);
            chmod(dir, 0555);
        }
        pid = fork();
        if (pid == 0) {
            fa_check_failures = 0; /* as in read_only_child */
            if (!drop_privileges(path))
                _exit(0); /* cannot drop privileges: nothing to test */
            fa_err e;
            fa_db *x = NULL;
            fa_status st = fa_db_open(path, FA_DB_READONLY, &x, &e);
            if (with_shm || st == FA_OK) {
                CHECK(st == FA_OK && count_measurements(x, NULL) == 21);
            } else {
                CHECK(st == FA_DB && strstr(e.msg, "writer was interrupted"));
            }
            if (!with_shm)
                fprintf(stderr, "  read-only directory, -wal without -shm: %s\n",
                        st == FA_OK ? "read with the -wal" : e.msg);
            fa_db_close(x);
            _exit(fa_check_failures);
        }
        waitpid(pid, &ws, 0);
        CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    chmod(dir, 0755);
    fa_err err;
    fa_db *x = NULL;
    CHECK_OK(fa_db_open(path, 0, &x, &err), &err); /* recovers the -wal */
    CHECK(x && count_measurements(x, NULL) == 21);
    fa_db_close(x);

    /* A reader sees what a live writer has committed (still in the -wal). */
    int64_t dev, run;
    fa_db *w = test_open_run(path, "hr2", &dev, &run);
    fa_variant v = test_variant(FA_DTYPE_BF16, 128, 0, 3);
    fa_problem p = test_problem(FA_DTYPE_BF16, 128, 0, 9999, 16, 16);
    fa_measurement m = test_measurement(FA_OK, 1, 1);
    CHECK_OK(fa_db_record(w, run, "sm90", &v, &p, &m, &err), &err);
    fa_db *r = NULL;
    CHECK_OK(fa_db_open(path, FA_DB_READONLY, &r, &err), &err);
    CHECK(r && count_measurements(r, NULL) == 22);
    fa_db_close(r);
    fa_db_close(w);
}

int main(void)
{
    test_setup("robust");
    test_bad_paths();
    test_damaged();
    test_disk_full();
    test_locked();
    test_concurrent_create();
    test_concurrent();
    test_killed();
    test_read_only();
    return test_finish("test_db_robust");
}
