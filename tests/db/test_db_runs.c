/*
 * This file tests that a run whose process died is marked "interrupted" when the next run
 * starts on the same database, and that no live run is: one held by another process, one of
 * this process on another handle, and one of another host (whose liveness this host cannot
 * see). A killed process is played by a child that begins a run and is killed with SIGKILL.
 */
#include "db_test.h"

#include <signal.h>
#include <sys/wait.h>

struct status_ctx {
    const char *uuid;
    char status[FA_DB_STATUS_MAX];
};

static int status_cb(const fa_db_run *r, void *user)
{
    struct status_ctx *c = user;
    if (!strcmp(r->uuid, c->uuid))
        snprintf(c->status, sizeof c->status, "%s", r->status);
    return 0;
}

static const char *run_status(const char *path, const char *uuid, char *buf, size_t n)
{
    fa_err err;
    fa_db *db = NULL;
    struct status_ctx c = {uuid, "?"};
    if (fa_db_open(path, FA_DB_READONLY, &db, &err) == FA_OK) {
        fa_db_runs(db, NULL, status_cb, &c, &err);
        fa_db_close(db);
    }
    snprintf(buf, n, "%s", c.status);
    return buf;
}

static int last_uuid_cb(const fa_db_run *r, void *user)
{
    snprintf(user, FA_DB_UUID_MAX, "%s", r->uuid);
    return 0;
}

/* The uuid of the run started last (runs come by start time). */
static void last_uuid(const char *path, char *uuid)
{
    fa_err err;
    fa_db *db = NULL;
    uuid[0] = '\0';
    if (fa_db_open(path, FA_DB_READONLY, &db, &err) == FA_OK) {
        fa_db_runs(db, NULL, last_uuid_cb, uuid, &err);
        fa_db_close(db);
    }
}

/* A child that begins a run, reports ready on the pipe, then waits to be killed. */
static pid_t child_run(const char *path, int *ready_fd)
{
    int p[2];
    if (pipe(p) != 0)
        exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        int64_t dev, run;
        fa_db *db = test_open_run(path, "hash", &dev, &run);
        (void)db;
        if (write(p[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    *ready_fd = p[0];
    return pid;
}

int main(void)
{
    char path[512], dead[FA_DB_UUID_MAX], live[FA_DB_UUID_MAX], mine[FA_DB_UUID_MAX];
    char other[FA_DB_UUID_MAX], buf[FA_DB_STATUS_MAX];
    int fd_dead, fd_live, ws;
    fa_err err;
    test_setup("runs");
    test_path(path, sizeof path, "runs.db");

    /* A run whose process is killed stays "running" (nothing could write its end). */
    pid_t pd = child_run(path, &fd_dead);
    last_uuid(path, dead);
    kill(pd, SIGKILL);
    waitpid(pd, &ws, 0);
    CHECK(!strcmp(run_status(path, dead, buf, sizeof buf), "running"));

    /* A run of another process that is alive, and a run of another host. */
    pid_t pl = child_run(path, &fd_live);
    last_uuid(path, live);
    fa_db *raw = NULL;
    CHECK_OK(fa_db_open(path, 0, &raw, &err), &err);
    fa_db_close(raw);
    {
        char sql[1024];
        snprintf(sql, sizeof sql,
                 "sqlite3 '%s' \"INSERT INTO runs (uuid, device_id, fa_tune_version, "
                 "source_hash, command_line, started_at, status, host) VALUES "
                 "('00000000-0000-4000-8000-0000000000aa', 1, '0.1.0', 'h', 'x', "
                 "'2026-01-01T00:00:00.000Z', 'running', 'another-node')\"",
                 path);
        CHECK(system(sql) == 0);
        snprintf(other, sizeof other, "00000000-0000-4000-8000-0000000000aa");
    }

    /* The next run marks the dead one, and only it. */
    int64_t dev, run;
    fa_db *db = test_open_run(path, "hash", &dev, &run);
    last_uuid(path, mine);
    CHECK_MSG(!strcmp(run_status(path, dead, buf, sizeof buf), "interrupted"), "dead run: %s", buf);
    CHECK_MSG(!strcmp(run_status(path, live, buf, sizeof buf), "running"), "live run: %s", buf);
    CHECK_MSG(!strcmp(run_status(path, other, buf, sizeof buf), "running"), "other host: %s", buf);

    /* A second handle of this process starting a run sees the first one alive. */
    int64_t run2;
    fa_db *db2 = test_open_run(path, "hash", &dev, &run2);
    CHECK_MSG(!strcmp(run_status(path, mine, buf, sizeof buf), "running"), "own run: %s", buf);
    CHECK_OK(fa_db_run_end(db2, run2, FA_OK, &err), &err);
    fa_db_close(db2);

    /* Once the live child dies, the next run marks it; an ended run is never touched. */
    kill(pl, SIGKILL);
    waitpid(pl, &ws, 0);
    CHECK_OK(fa_db_run_end(db, run, FA_OK, &err), &err);
    fa_db_close(db);
    db = test_open_run(path, "hash", &dev, &run);
    CHECK(!strcmp(run_status(path, live, buf, sizeof buf), "interrupted"));
    CHECK(!strcmp(run_status(path, mine, buf, sizeof buf), "ok"));
    CHECK(!strcmp(run_status(path, other, buf, sizeof buf), "running"));
    fa_db_close(db);
    close(fd_dead);
    close(fd_live);
    return test_finish("test_db_runs");
}
