/* This file implements fa-tune's result codes and the error context (see fa_status.h). */
#include "fa_status.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    const char *str;
    const char *token;
} status_table[] = {
    [FA_OK] = {"ok", "ok"},
    [FA_ERROR] = {"runtime error", "error"},
    [FA_NOMEM] = {"out of memory", "nomem"},
    [FA_INVALID] = {"invalid argument", "invalid"},
    [FA_UNSUPPORTED] = {"unsupported", "unsupported"},
    [FA_COMPILE_ERROR] = {"compile error", "compile_error"},
    [FA_CUDA_ERROR] = {"cuda error", "cuda_error"},
    [FA_NO_DEVICE] = {"no cuda device", "no_device"},
    [FA_MISMATCH] = {"numerical mismatch", "mismatch"},
    [FA_FAULT] = {"kernel fault", "fault"},
    [FA_IO] = {"i/o error", "io"},
    [FA_DB] = {"database error", "db"},
    [FA_INTERRUPTED] = {"interrupted", "interrupted"},
    [FA_NOT_FOUND] = {"not found", "not_found"},
    [FA_BUSY] = {"busy", "busy"},
    [FA_NOT_IMPLEMENTED] = {"not implemented yet", "not_implemented"},
    [FA_COMPILED] = {"compiled, not timed", "compiled"},
};

const char *fa_status_str(fa_status st)
{
    if ((unsigned)st >= sizeof status_table / sizeof status_table[0])
        return "unknown status";
    return status_table[st].str;
}

const char *fa_status_token(fa_status st)
{
    if ((unsigned)st >= sizeof status_table / sizeof status_table[0])
        return "unknown";
    return status_table[st].token;
}

fa_status fa_err_set(fa_err *err, fa_status st, const char *file, int line, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->file = file;
    err->line = line;
    return st;
}

void fa_err_clear(fa_err *err)
{
    if (!err)
        return;
    err->status = FA_OK;
    err->msg[0] = '\0';
    err->file = NULL;
    err->line = 0;
}
