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

/* One write with O_APPEND: a block from one worker process never interleaves another's. */
static void append(const char *path, const char *buf, size_t len)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    const ssize_t w = write(fd, buf, len);
    (void)w; /* a diagnostic: a short write is not worth failing a timing over */
    close(fd);
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
            ok = put(&buf, &len, &cap, " %.9g", x[i][k]);
        ok = ok && put(&buf, &len, &cap, "\n");
    }
    if (ok)
        append(path, buf, len);
    free(buf);
}

void fa_retime_trace_timing(const fa_job *job, const fa_time_stats *ts, int raced)
{
    const char *path = getenv("FA_TUNE_RETIME_TRACE");
    if (!path || !*path)
        return;
    char pname[256], vname[256], line[640];
    fa_problem_name(&job->problem, pname, sizeof pname);
    fa_variant_name(&job->variant, vname, sizeof vname);
    const int k = snprintf(line, sizeof line, "time %s %s %d %d %.9g\n", pname, vname, raced,
                           ts->reps, ts->median_ms);
    if (k > 0 && (size_t)k < sizeof line)
        append(path, line, (size_t)k);
}
