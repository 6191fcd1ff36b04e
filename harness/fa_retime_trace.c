/*
 * This file writes the interleaved re-timings' rounds to FA_TUNE_RETIME_TRACE (see
 * fa_retime_trace.h).
 */
#include "fa_retime_trace.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* printf into buf at *len, growing it; returns 0 when out of memory. */
__attribute__((format(printf, 4, 5))) static int put(char **buf, size_t *len, size_t *cap,
                                                     const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int k = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (k < 0)
            return 0;
        if ((size_t)k < *cap - *len) {
            *len += (size_t)k;
            return 1;
        }
        char *grown = realloc(*buf, *cap * 2 + (size_t)k);
        if (!grown)
            return 0;
        *buf = grown;
        *cap = *cap * 2 + (size_t)k;
    }
}

void fa_retime_trace(const fa_job *jobs, int n, const int *active, const int *raced,
                     double *const *x, const int *nx)
{
    const char *path = getenv("FA_TUNE_RETIME_TRACE");
    if (!path || !*path || n < 1)
        return;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf)
        return;
    buf[0] = '\0';
    char name[256];
    fa_problem_name(&jobs[0].problem, name, sizeof name);
    int ok = put(&buf, &len, &cap, "group %s %d\n", name, n);
    for (int i = 0; i < n && ok; i++) {
        if (!active[i])
            continue;
        fa_variant_name(&jobs[i].variant, name, sizeof name);
        ok = put(&buf, &len, &cap, "%s %d %d", name, raced[i], nx[i]);
        for (int k = 0; k < nx[i] && ok; k++)
            ok = put(&buf, &len, &cap, " %.5f", x[i][k]);
        ok = ok && put(&buf, &len, &cap, "\n");
    }
    const int fd = ok ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (fd >= 0) {
        const ssize_t w = write(fd, buf, len);
        (void)w; /* a diagnostic: a short write is not worth failing a timing over */
        close(fd);
    }
    free(buf);
}
