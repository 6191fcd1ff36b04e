/* This file implements the growable text buffer the emitters render into (fa_emit_buf.h). */
#include "fa_emit_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes plus the NUL; sets failed on allocation failure. */
static int reserve(fa_emit_buf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (b->len + n + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void fa_emit_buf_put(fa_emit_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void fa_emit_buf_puts(fa_emit_buf *b, const char *s)
{
    fa_emit_buf_put(b, s, strlen(s));
}

void fa_emit_buf_printf(fa_emit_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        fa_emit_buf_put(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

fa_status fa_emit_buf_status(const fa_emit_buf *b, fa_err *err)
{
    if (b->failed)
        return FA_ERR(err, FA_NOMEM, "out of memory while rendering (%zu bytes so far)", b->len);
    return FA_OK;
}

char *fa_emit_buf_take(fa_emit_buf *b, size_t *len)
{
    if (b->failed || !reserve(b, 0))
        return NULL;
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void fa_emit_buf_release(fa_emit_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
