/*
 * This file writes the interleaved re-timings' rounds to FA_TUNE_RETIME_TRACE (see
 * fa_retime_trace.h).
 */
#include "fa_retime_trace.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len); /* the block, written at once by append() */
    if (!f)
        return;
    char name[256];
    fa_problem_name(&jobs[0].problem, name, sizeof name);
    fprintf(f, "group %s %d\n", name, n);
    for (int i = 0; i < n; i++) {
        if (!active[i])
            continue;
        fa_variant_name(&jobs[i].variant, name, sizeof name);
        fprintf(f, "%s %d %d", name, raced[i], nx[i]);
        for (int k = 0; k < nx[i]; k++)
            fprintf(f, " %.9g", x[i][k]);
        fputc('\n', f);
    }
    const int ok = !ferror(f);
    if (fclose(f) == 0 && ok)
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
