/*
 * fa_status.h -- result codes and the error context every fa-tune library call uses.
 *
 * Library code returns an fa_status and never prints or exits; the human-readable detail
 * (failing call, file, line) goes into an fa_err the caller owns. Only the CLI prints.
 */
#ifndef FA_STATUS_H
#define FA_STATUS_H

#include <stddef.h>

typedef enum fa_status {
    FA_OK = 0,
    FA_ERROR,           /* generic runtime failure */
    FA_NOMEM,           /* host allocation failed */
    FA_INVALID,         /* bad argument or input (a usage error at the CLI) */
    FA_UNSUPPORTED,     /* legal request this build/device/variant cannot do: a result, not a bug */
    FA_COMPILE_ERROR,   /* NVRTC rejected a variant; the log is kept */
    FA_CUDA_ERROR,      /* a Driver API / cuBLAS call failed */
    FA_NO_DEVICE,       /* no driver or no GPU */
    FA_MISMATCH,        /* a kernel's output failed the correctness criterion */
    FA_FAULT,           /* a kernel crashed or hung its worker */
    FA_IO,              /* file system error */
    FA_DB,              /* SQLite error */
    FA_INTERRUPTED,     /* SIGINT/SIGTERM */
    FA_NOT_FOUND,       /* a named thing does not exist */
    FA_BUSY,            /* locked by another process */
    FA_NOT_IMPLEMENTED, /* the command's issue has not landed yet */
    FA_COMPILED         /* compile-only sweep: built, never timed (never a winner) */
} fa_status;

/* Static, lowercase description of a status ("compile error"). Never NULL. */
const char *fa_status_str(fa_status st);

/* Snake-case token of a status as stored in the database ("compile_error"). Never NULL. */
const char *fa_status_token(fa_status st);

/* Error context: filled by the failing call, read by the CLI. Caller-owned, no heap. */
typedef struct fa_err {
    fa_status status;
    char msg[2048];   /* lowercase, no final period: "cannot open 'x.db': is a directory" */
    const char *file; /* where it was raised, for bug reports (FA_VERBOSE=1 prints it) */
    int line;
} fa_err;

/* Record an error (printf-style message) and return st, so callers can `return FA_ERR(...)`.
 * err may be NULL. */
fa_status fa_err_set(fa_err *err, fa_status st, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

#define FA_ERR(err, st, ...) fa_err_set((err), (st), __FILE__, __LINE__, __VA_ARGS__)

/* Reset an error context to FA_OK with an empty message. */
void fa_err_clear(fa_err *err);

#endif /* FA_STATUS_H */
