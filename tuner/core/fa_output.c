/*
 * This file implements output files written by the rules of fa_output.h: refused when they are
 * the database, atomic (temporary file and rename), symlinks followed, read-only files refused.
 */
#include "fa_output.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* out = a b c, cut to fit (a cut path compares unequal to any real one, which is safe here:
 * the device and inode checks do not depend on it). */
static void cat3(char *out, size_t n, const char *a, const char *b, const char *c)
{
    size_t len = 0;
    const char *parts[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p && len + 1 < n; p++)
            out[len++] = *p;
    if (n)
        out[len] = '\0';
}

/* The absolute path path names: realpath where it exists, else its folder's realpath and its
 * last component (a file about to be created). Falls back to path as given. */
static void canonical(const char *path, char *out, size_t n)
{
    char buf[PATH_MAX];
    if (realpath(path, buf)) {
        snprintf(out, n, "%s", buf);
        return;
    }
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    const char *base = slash ? slash + 1 : path;
    if (realpath(dir, buf))
        cat3(out, n, buf, strcmp(buf, "/") ? "/" : "", base);
    else
        snprintf(out, n, "%s", path);
}

/* The db path with its last component kept (not resolved through a symlink). */
static void canonical_unresolved(const char *path, char *out, size_t n)
{
    struct stat sb;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        const char *slash = strrchr(path, '/');
        char dir[PATH_MAX], buf[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        if (slash == path)
            snprintf(dir, sizeof dir, "/");
        if (realpath(dir, buf)) {
            cat3(out, n, buf, "/", slash ? slash + 1 : path);
            return;
        }
    }
    canonical(path, out, n);
}

/* strerror, lowercased (house style). */
static const char *why(int e)
{
    static const struct {
        int e;
        const char *text;
    } texts[] = {{ENOENT, "no such file or directory"},
                 {EACCES, "permission denied"},
                 {EPERM, "operation not permitted"},
                 {EROFS, "read-only file system"},
                 {ENOSPC, "disk full"},
                 {EDQUOT, "disk quota exceeded"},
                 {ENOTDIR, "a part of the path is not a folder"},
                 {EISDIR, "is a directory"},
                 {EXDEV, "not on the same file system"}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i].e == e)
            return texts[i].text;
    return strerror(e);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

fa_status fa_output_not_db(const char *path, const char *db_path, fa_err *err)
{
    static const char *const sides[] = {"-wal", "-shm", "-journal"};
    struct stat so, sd, ss;
    if (!path || !db_path)
        return FA_OK;
    int have_out = stat(path, &so) == 0;
    if (have_out && stat(db_path, &sd) == 0 && same_file(&so, &sd))
        return FA_ERR(err, FA_INVALID,
                      "refusing to write '%s': it is the database '%s' (choose another output)",
                      path, db_path);
    char out_c[PATH_MAX], db_c[2][PATH_MAX], side[PATH_MAX + 16];
    canonical(path, out_c, sizeof out_c);
    canonical(db_path, db_c[0], sizeof db_c[0]);
    canonical_unresolved(db_path, db_c[1], sizeof db_c[1]);
    for (int k = 0; k < 2; k++) {
        if (!strcmp(out_c, db_c[k]))
            return FA_ERR(err, FA_INVALID,
                          "refusing to write '%s': it is the database '%s' (choose another output)",
                          path, db_path);
        for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
            cat3(side, sizeof side, db_c[k], sides[i], "");
            if (!strcmp(out_c, side) || (have_out && stat(side, &ss) == 0 && same_file(&so, &ss)))
                return FA_ERR(err, FA_INVALID,
                              "refusing to write '%s': it is the %s file of the database '%s' "
                              "(choose another output)",
                              path, sides[i], db_path);
        }
    }
    return FA_OK;
}

fa_status fa_output_open(fa_output *out, const char *path, const char *db_path, fa_err *err)
{
    struct stat sb;
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return FA_ERR(err, FA_INVALID, "no output file given");
    fa_status st = fa_output_not_db(path, db_path, err);
    if (st != FA_OK)
        return st;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        char buf[PATH_MAX];
        if (!realpath(path, buf))
            return FA_ERR(err, FA_IO, "cannot write '%s': it is a symlink to a missing file", path);
        snprintf(out->target, sizeof out->target, "%s", buf);
    } else if (snprintf(out->target, sizeof out->target, "%s", path) >= (int)sizeof out->target) {
        return FA_ERR(err, FA_INVALID, "output path '%.64s...' is too long", path);
    }

    mode_t mode;
    if (stat(out->target, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return FA_ERR(err, FA_IO, "cannot write '%s': is a directory", path);
        if (!S_ISREG(sb.st_mode)) { /* a pipe or a device: write in place */
            out->f = fopen(out->target, "w");
            if (!out->f)
                return FA_ERR(err, FA_IO, "cannot write '%s': %s", path, why(errno));
            return FA_OK;
        }
        if (access(out->target, W_OK) != 0 || !(sb.st_mode & 0222))
            return FA_ERR(err, FA_IO,
                          "cannot write '%s': the file is read-only (fa-tune does not change "
                          "permissions: make it writable or choose another output)",
                          path);
        mode = sb.st_mode & 07777;
    } else if (errno == ENOENT) {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    } else {
        return FA_ERR(err, FA_IO, "cannot write '%s': %s", path, why(errno));
    }

    const char *slash = strrchr(out->target, '/');
    int dlen = slash ? (int)(slash - out->target) + 1 : 0;
    if (snprintf(out->tmp, sizeof out->tmp, "%.*s.%s.tmp.XXXXXX", dlen, out->target,
                 slash ? slash + 1 : out->target) >= (int)sizeof out->tmp)
        return FA_ERR(err, FA_INVALID, "output path '%.64s...' is too long", path);
    int fd = mkstemp(out->tmp);
    if (fd < 0) {
        st = FA_ERR(err, FA_IO, "cannot write '%s': %s", path, why(errno));
        out->tmp[0] = '\0';
        return st;
    }
    (void)fchmod(fd, mode);
    out->f = fdopen(fd, "w");
    if (!out->f) {
        st = FA_ERR(err, FA_IO, "cannot write '%s': %s", path, why(errno));
        close(fd);
        unlink(out->tmp);
        out->tmp[0] = '\0';
    }
    return st;
}

fa_status fa_output_commit(fa_output *out, fa_err *err)
{
    fa_status st = FA_OK;
    if (!out->f)
        return FA_ERR(err, FA_INVALID, "cannot finish '%s': it is not open", out->target);
    int bad = fflush(out->f) != 0 || ferror(out->f);
    int saved = errno;
    if (!bad && out->tmp[0] && fsync(fileno(out->f)) != 0) {
        bad = 1;
        saved = errno;
    }
    if (fclose(out->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    out->f = NULL;
    if (bad)
        st = FA_ERR(err, FA_IO, "cannot write '%s': %s", out->target, why(saved));
    else if (out->tmp[0] && rename(out->tmp, out->target) != 0)
        st = FA_ERR(err, FA_IO, "cannot write '%s': rename: %s", out->target, why(errno));
    if (st != FA_OK && out->tmp[0])
        unlink(out->tmp);
    return st;
}

void fa_output_abort(fa_output *out)
{
    if (!out->f)
        return;
    fclose(out->f);
    out->f = NULL;
    if (out->tmp[0])
        unlink(out->tmp);
}

fa_status fa_output_write_bytes(const char *path, const void *data, size_t n, const char *db_path,
                                fa_err *err)
{
    fa_output out = {0};
    fa_status st = fa_output_open(&out, path, db_path, err);
    if (st != FA_OK)
        return st;
    if (n && fwrite(data, 1, n, out.f) != n) {
        int e = errno;
        fa_output_abort(&out);
        return FA_ERR(err, FA_IO, "cannot write '%s': %s", path, why(e));
    }
    return fa_output_commit(&out, err);
}
