/*
 * fa_emit_buf.h -- a growable text buffer for the emitters in reports/ (internal).
 *
 * Appends never fail loudly: the first allocation failure sets `failed` and later appends do
 * nothing, so a renderer checks once at the end (fa_emit_buf_status). The creator owns the
 * buffer: fa_emit_buf_release frees it; fa_emit_buf_take hands the text to the caller.
 */
#ifndef FA_EMIT_BUF_H
#define FA_EMIT_BUF_H

#include <stddef.h>

#include "fa_status.h"

typedef struct fa_emit_buf {
    char *data; /* NUL-terminated while len > 0 */
    size_t len, cap;
    int failed;
} fa_emit_buf;

void fa_emit_buf_put(fa_emit_buf *b, const char *s, size_t n);
void fa_emit_buf_puts(fa_emit_buf *b, const char *s);
void fa_emit_buf_printf(fa_emit_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* FA_NOMEM (with a message in err) if an append failed, else FA_OK. */
fa_status fa_emit_buf_status(const fa_emit_buf *b, fa_err *err);
/* Hand the text to the caller (free() it); the buffer is left empty. Never NULL unless an
 * append failed. */
char *fa_emit_buf_take(fa_emit_buf *b, size_t *len);
void fa_emit_buf_release(fa_emit_buf *b);

#endif /* FA_EMIT_BUF_H */
