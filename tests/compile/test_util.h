/*
 * test_util.h -- shared test helpers.
 *
 * This file implements what the compile engine's CPU tests share: the counting checks of
 * fa_check.h (one run reports every broken requirement), a temp cache
 * directory per test, and a wall clock.
 */
#ifndef FA_TEST_UTIL_H
#define FA_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FA_CHECK_COUNT
#include "fa_check.h"

static inline double fa_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A fresh directory under $TMPDIR (or /tmp), so no test sees another's cache. */
static inline void fa_test_tmpdir(char *buf, size_t n, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/fa-tune-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline int fa_test_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* rm -rf dir, unless FA_TEST_KEEP is set (to look at a failing test's cache). */
static inline void fa_test_rmtree(const char *dir)
{
    if (!getenv("FA_TEST_KEEP"))
        nftw(dir, fa_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Ends a test: prints a verdict and returns main's exit code. */
static inline int fa_test_done(const char *name)
{
    if (fa_check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, fa_check_failures);
        return 1;
    }
    fprintf(stderr, "%s: ok\n", name);
    return 0;
}

#endif /* FA_TEST_UTIL_H */
