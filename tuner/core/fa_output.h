/*
 * fa_output.h -- writing an output file (-o) safely: never over the database being read, never
 * half-written, never through a changed permission.
 *
 * The rules every `-o FILE` of fa-tune follows (emit, db export; report's folder checks its
 * files with fa_output_not_db):
 *   - An output that is the database the command reads -- the same file (device and inode),
 *     whatever the spelling of the path or a symlink to it -- or one of its -wal, -shm or
 *     -journal files, is refused (FA_INVALID: a usage error) before anything is written; the
 *     database stays byte-identical.
 *   - A regular file is written atomically: a temporary file in the same folder, renamed over
 *     the target once complete, so a failure (disk full, a crash, an interrupt) leaves the old
 *     file as it was and no partial one. A new file gets mode 0666 less the umask; a replaced
 *     one keeps its mode.
 *   - A symlink is followed: its target is replaced (atomically, beside the target) and the
 *     link stays a link. A dangling symlink is refused (FA_IO) rather than guessing where to
 *     create its target.
 *   - A read-only file (no write permission for the caller, or no write bit at all -- root
 *     too) is refused (FA_IO) with a message saying so; fa-tune never changes permissions.
 *   - A file that is not a regular file (a pipe, /dev/null, /dev/full) is written directly, in
 *     place: there is nothing to rename over.
 */
#ifndef FA_OUTPUT_H
#define FA_OUTPUT_H

#include <stdio.h>

#include "fa_status.h"

/* FA_INVALID (with a message naming both) when writing path would overwrite the database at
 * db_path or one of its sidecar files, else FA_OK. db_path NULL: FA_OK. Writes nothing. */
fa_status fa_output_not_db(const char *path, const char *db_path, fa_err *err);

/* An output being written. Zero-initialise; f is where to write between open and
 * commit/abort. */
typedef struct fa_output {
    FILE *f;
    char target[4096]; /* the file that commit replaces (the symlink's target for a link) */
    char tmp[4096];    /* the temporary file; "" when writing in place */
} fa_output;

/* Check path against the rules above (and against db_path, which may be NULL) and open the
 * temporary file. On failure nothing is created and out->f is NULL. */
fa_status fa_output_open(fa_output *out, const char *path, const char *db_path, fa_err *err);

/* Flush, sync and rename into place. The output is closed either way; on failure the target is
 * untouched and the temporary file removed. */
fa_status fa_output_commit(fa_output *out, fa_err *err);

/* Close and remove the temporary file; the target is untouched. No-op when not open. */
void fa_output_abort(fa_output *out);

/* Write n bytes as the whole of path by the rules above (open, write, commit): the file is
 * either fully replaced or left as it was. */
fa_status fa_output_write_bytes(const char *path, const void *data, size_t n, const char *db_path,
                                fa_err *err);

#endif /* FA_OUTPUT_H */
