/*
 * fa_progress.h -- progress of a tuning run on stderr: a live line on a terminal, a plain
 * line every 10 seconds otherwise (logs, CI, Slurm). Counts compiled variants and timings,
 * the ETA from the timing rate, and the best TFLOP/s so far. Not thread safe: the engine
 * calls it under its own lock.
 */
#ifndef FA_PROGRESS_H
#define FA_PROGRESS_H

typedef struct fa_progress {
    int enabled, tty;
    int planned; /* (variant, problem) timings planned */
    int budget;  /* 0: none */
    int compiled, timed;
    double best_tflops;
    char best_name[96];
    double t0, last;
} fa_progress;

void fa_progress_start(fa_progress *p, int enabled, int planned, int budget);
void fa_progress_compiled(fa_progress *p, const char *name);
/* n more timings planned than fa_progress_start said (a family gate opened mid-run). */
void fa_progress_plan_more(fa_progress *p, int n);
void fa_progress_timed(fa_progress *p, const char *name, double tflops);
/* The last line. complete: the run did all it planned to, so the total becomes what was timed
 * (halving's plan is an estimate: it cannot know its groups' sizes before rung 0); else (an
 * interrupt, a failure) the plan stays, and the line says how far the run got. */
void fa_progress_finish(fa_progress *p, int complete);

#endif /* FA_PROGRESS_H */
