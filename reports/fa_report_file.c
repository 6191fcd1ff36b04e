/*
 * This file implements the report's file handling: creating the output folder with its
 * parents, and writing each file under a temporary name in the same folder that is renamed
 * into place only once it is complete, so a reader (a browser on index.html, a CI artifact
 * upload) never sees half a file and an interrupted report leaves the previous one intact.
 */
#include "fa_report_data.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

fa_status fa_report_mkdirs(const char *dir, fa_err *err)
{
    char path[4096];
    struct stat sb;
    if (!dir || !*dir)
        return FA_ERR(err, FA_INVALID, "no output folder given");
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return FA_ERR(err, FA_INVALID, "output folder '%.64s...' is too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return FA_ERR(err, FA_IO, "cannot create '%s': %s", path, strerror(errno));
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return FA_ERR(err, FA_IO, "cannot create '%s': a file of that name is in the way",
                          path);
        *p = c;
        if (!c)
            break;
    }
    return FA_OK;
}

fa_status fa_report_file_open(fa_report_file *rf, const char *dir, const char *name, fa_err *err)
{
    memset(rf, 0, sizeof *rf);
    if (snprintf(rf->path, sizeof rf->path, "%s/%s", dir, name) >= (int)sizeof rf->path ||
        snprintf(rf->tmp, sizeof rf->tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof rf->tmp)
        return FA_ERR(err, FA_INVALID, "path of '%s' in '%.64s...' is too long", name, dir);
    /* As for every -o (fa_output.h): a read-only file is refused, never replaced or chmodded. */
    struct stat sb;
    if (lstat(rf->path, &sb) == 0 && S_ISREG(sb.st_mode) &&
        (access(rf->path, W_OK) != 0 || !(sb.st_mode & 0222)))
        return FA_ERR(err, FA_IO,
                      "cannot write '%s': the file is read-only (fa-tune does not change "
                      "permissions: make it writable or choose another output folder)",
                      rf->path);
    rf->f = fopen(rf->tmp, "w");
    if (!rf->f)
        return FA_ERR(err, FA_IO, "cannot write '%s': %s", rf->tmp, strerror(errno));
    return FA_OK;
}

fa_status fa_report_file_commit(fa_report_file *rf, fa_err *err)
{
    if (!rf->f)
        return FA_ERR(err, FA_INVALID, "cannot finish '%s': it is not open", rf->path);
    int bad = ferror(rf->f);
    int saved = errno;
    if (fclose(rf->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    rf->f = NULL;
    if (bad) {
        unlink(rf->tmp);
        return FA_ERR(err, FA_IO, "cannot write '%s': %s", rf->tmp, strerror(saved));
    }
    if (rename(rf->tmp, rf->path) != 0) {
        saved = errno;
        unlink(rf->tmp);
        return FA_ERR(err, FA_IO, "cannot rename '%s' to '%s': %s", rf->tmp, rf->path,
                      strerror(saved));
    }
    return FA_OK;
}

void fa_report_file_abort(fa_report_file *rf)
{
    if (!rf->f)
        return;
    fclose(rf->f);
    rf->f = NULL;
    unlink(rf->tmp);
}
