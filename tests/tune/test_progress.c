/*
 * The progress line's last line: a run that did all it planned shows what it timed as the
 * total with no time left (halving's plan is an estimate); an interrupted one keeps the plan.
 */
#include "fa_capture.h"
#include "fa_check.h"
#include "fa_progress.h"

#include <stdio.h>
#include <string.h>

/* The last line fa_progress wrote to stderr while fn(p) ran. */
static void last_line(void (*fn)(fa_progress *), char *out, size_t n)
{
    char all[4096];
    fa_capture e;
    fa_capture_start(&e, 2);
    fa_progress p;
    fn(&p);
    size_t len = fa_capture_end(&e, all, sizeof all);
    while (len > 0 && all[len - 1] == '\n')
        all[--len] = '\0';
    const char *last = strrchr(all, '\n');
    snprintf(out, n, "%s", last ? last + 1 : all);
}

static void three(fa_progress *p, int planned, int budget)
{
    fa_progress_start(p, 1, planned, budget);
    for (int i = 0; i < 3; i++)
        fa_progress_timed(p, "fwd_sm80_hd64_fp16_m64n64w4s2", 100.0 + i);
}

static void complete(fa_progress *p)
{
    three(p, 100, 0);
    fa_progress_finish(p, 1);
}

static void interrupted(fa_progress *p)
{
    three(p, 100, 0);
    fa_progress_finish(p, 0);
}

static void budget_complete(fa_progress *p)
{
    three(p, 100, 50);
    fa_progress_finish(p, 1);
}

int main(void)
{
    char line[512];
    last_line(complete, line, sizeof line);
    CHECK_MSG(strstr(line, "timed 3/3, eta 0s") != NULL, "complete: %s", line);
    CHECK_MSG(strstr(line, "best 102.0 TFLOP/s") != NULL, "best: %s", line);
    last_line(interrupted, line, sizeof line);
    CHECK_MSG(strstr(line, "timed 3/100, eta ") != NULL, "interrupted: %s", line);
    last_line(budget_complete, line, sizeof line);
    CHECK_MSG(strstr(line, "timed 3/3, eta 0s") != NULL, "complete under a budget: %s", line);
    return 0;
}
