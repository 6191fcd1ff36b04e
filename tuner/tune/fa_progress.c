/* This file implements the tuning run's progress line (see fa_progress.h). */
#include "fa_progress.h"
#include "fa_util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void show(fa_progress *p, int force)
{
    if (!p->enabled)
        return;
    double t = fa_now_s();
    double period = p->tty ? 0.2 : 10.0;
    if (!force && t - p->last < period)
        return;
    p->last = t;
    double el = t - p->t0;
    int total = p->budget > 0 && p->budget < p->planned ? p->budget : p->planned;
    char eta[32] = "--";
    if (p->timed > 0 && total > p->timed)
        snprintf(eta, sizeof eta, "%.0fs", el / p->timed * (total - p->timed));
    else if (total <= p->timed)
        snprintf(eta, sizeof eta, "0s");
    char best[160] = "";
    if (p->best_tflops > 0)
        snprintf(best, sizeof best, "  best %.1f %s %s", p->best_tflops,
                 strncmp(p->best_name, "decode_", 7) ? "TFLOP/s" : "TB/s", p->best_name);
    fprintf(stderr, "%s[%5.0fs] compiled %d, timed %d/%d, eta %s%s%s", p->tty ? "\r\033[K" : "", el,
            p->compiled, p->timed, total, eta, best, p->tty ? "" : "\n");
    fflush(stderr);
}

void fa_progress_plan_more(fa_progress *p, int n)
{
    p->planned += n;
}

void fa_progress_start(fa_progress *p, int enabled, int planned, int budget)
{
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
    p->tty = isatty(2);
    p->planned = planned;
    p->budget = budget;
    p->t0 = p->last = fa_now_s();
    if (enabled)
        fprintf(stderr, "tuning: %d timings planned%s\n", planned,
                budget > 0 ? " (bounded by --budget)" : "");
}

void fa_progress_compiled(fa_progress *p, const char *name)
{
    (void)name;
    p->compiled++;
    show(p, 0);
}

void fa_progress_timed(fa_progress *p, const char *name, double tflops)
{
    p->timed++;
    if (tflops > p->best_tflops) {
        p->best_tflops = tflops;
        snprintf(p->best_name, sizeof p->best_name, "%s", name);
    }
    show(p, 0);
}

void fa_progress_finish(fa_progress *p, int complete)
{
    if (complete) {
        p->planned = p->timed;
        p->budget = 0;
    }
    show(p, 1);
    if (p->enabled && p->tty)
        fputc('\n', stderr);
}
