/*
 * This file implements how a run shows that its process is alive, so that the next run on the
 * same database can mark runs whose process was killed as "interrupted" (fa_db.h, "runs").
 *
 * A run holds, from fa_db_run_begin to fa_db_run_end, a shared lock on one byte of the
 * database's folder -- an open file description lock (F_OFD_SETLK) at an offset hashed from
 * the run's uuid. The kernel drops the lock when the process dies however it dies (kill -9,
 * OOM, a crash), and only then: a pid can be reused, a lock cannot outlive its holder. A
 * starting run asks (F_OFD_GETLK, through its own descriptor, so a run of the same process is
 * seen too) whether anyone holds the byte of each "running" run of its own host; nobody means
 * the process is gone.
 *
 * Why the folder and not the database file: closing any descriptor of a file drops every
 * POSIX lock the process holds on it, including SQLite's own locks on the database, so fa-tune
 * must never open and close a descriptor of the database file. A folder descriptor is a
 * different inode: it can be closed freely, and it needs only read permission.
 *
 * Why only runs of this host (runs.host, gethostname): on one host the kernel's locks are
 * exact; on a network file system some setups keep locks local or drop them (nolock), and a
 * live run of another node would look dead. Those runs are left as they are: a run on their
 * own host marks them. A run begun by an fa-tune older than this scheme holds no lock and may
 * be marked while still running; its own fa_db_run_end then writes its real status over it.
 * Systems without OFD locks (not Linux) mark nothing.
 */
#include "fa_db_internal.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* The byte of the folder that stands for run uuid: FNV-1a of the uuid, above 2^62 (far from
 * any byte a program might lock in a folder for another reason, and within off_t). */
static off_t lock_offset(const char *uuid)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)uuid; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (off_t)((UINT64_C(1) << 62) + (h & ((UINT64_C(1) << 61) - 1)));
}

static int open_folder(const fa_db *db)
{
    char dir[4096];
    const char *slash = strrchr(db->path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == db->path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - db->path), db->path);
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void fa_db_run_lock(fa_db *db, const char *uuid)
{
    fa_db_run_unlock(db);
#ifdef F_OFD_SETLK
    int fd = open_folder(db);
    if (fd < 0)
        return;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = lock_offset(uuid);
    fl.l_len = 1;
    if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        close(fd); /* no lock: the run may be marked by another, and then fixed by run_end */
        return;
    }
    db->run_lock_fd = fd;
#else
    (void)uuid;
#endif
}

void fa_db_run_unlock(fa_db *db)
{
    if (db->run_lock_fd >= 0)
        close(db->run_lock_fd); /* a folder: SQLite's locks on the database are untouched */
    db->run_lock_fd = -1;
}

int fa_db_run_gone(const fa_db *db, const char *uuid)
{
#ifdef F_OFD_GETLK
    int fd = open_folder(db);
    if (fd < 0)
        return 0;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK; /* conflicts with any holder's shared lock */
    fl.l_whence = SEEK_SET;
    fl.l_start = lock_offset(uuid);
    fl.l_len = 1;
    int gone = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_UNLCK;
    close(fd);
    return gone;
#else
    (void)db;
    (void)uuid;
    return 0;
#endif
}
