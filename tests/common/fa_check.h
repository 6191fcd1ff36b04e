/*
 * fa_check.h -- the assertions every C test shares.
 *
 *   CHECK(cond)                on failure print file, line and the condition
 *   CHECK_MSG(cond, fmt, ...)  the same, followed by the figures the test saw
 *   CHECK_OK(call, errp)       call returned FA_OK; else print its status and errp->msg
 *
 * By default a failed check exits 1 at once: the plain tests, where each step needs the one
 * before. A test that defines FA_CHECK_COUNT before including this file counts failures in
 * fa_check_failures and goes on, so one run reports every broken requirement; it ends with
 * `return fa_check_failures ? 1 : 0;` (or prints a summary first).
 */
#ifndef FA_CHECK_H
#define FA_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fa_status.h"

static int fa_check_failures;

static inline void fa_check_failed(const char *file, int line, const char *what, const char *fmt,
                                   ...)
{
    fprintf(stderr, "%s:%d: check failed: %s", file, line, what);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    fa_check_failures++;
#ifndef FA_CHECK_COUNT
    exit(1);
#endif
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fa_check_failed(__FILE__, __LINE__, #cond, NULL);                                      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fa_check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__);                               \
    } while (0)

#define CHECK_OK(call, errp)                                                                       \
    do {                                                                                           \
        fa_status st_ = (call);                                                                    \
        if (st_ != FA_OK)                                                                          \
            fa_check_failed(__FILE__, __LINE__, #call, "returned %s: %s", fa_status_str(st_),      \
                            (errp)->msg);                                                          \
    } while (0)

#endif /* FA_CHECK_H */
