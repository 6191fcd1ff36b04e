/*
 * fa_capture.h -- what a call writes to stdout or stderr, for tests that check a program's
 * messages:
 *
 *     fa_capture e;
 *     fa_capture_start(&e, 2);            stderr now goes to a temporary file
 *     ...the call...
 *     fa_capture_end(&e, buf, sizeof buf); stderr restored, its text in buf
 *
 * Captures nest (stderr and stdout together); both streams are flushed at each step, so text
 * buffered before the start is not captured and text written before the end is.
 */
#ifndef FA_CAPTURE_H
#define FA_CAPTURE_H

#include <stdio.h>
#include <unistd.h>

typedef struct fa_capture {
    FILE *f;   /* the temporary file (NULL: none could be made, nothing captured) */
    int fd;    /* 1 or 2 */
    int saved; /* fd's own file, restored by fa_capture_end */
} fa_capture;

static inline void fa_capture_start(fa_capture *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    c->fd = fd;
    c->f = tmpfile();
    c->saved = dup(fd);
    if (c->f)
        dup2(fileno(c->f), fd);
}

/* Restore the descriptor and put what was written to it in out (at most n - 1 bytes,
 * NUL-terminated). Returns the length. */
static inline size_t fa_capture_end(fa_capture *c, char *out, size_t n)
{
    fflush(stdout);
    fflush(stderr);
    dup2(c->saved, c->fd);
    close(c->saved);
    size_t len = 0;
    if (c->f) {
        rewind(c->f);
        len = fread(out, 1, n - 1, c->f);
        fclose(c->f);
    }
    out[len] = '\0';
    return len;
}

#endif /* FA_CAPTURE_H */
