/*
 * fa_sweep.h -- a compile-only sweep.
 *
 * This file implements the interface that runs a list of variants through the compile pool,
 * one callback per result, counts at the end. `fa-tune compile` prints it; `fa-tune tune`
 * runs it when there is no GPU to time on.
 */
#ifndef FA_SWEEP_H
#define FA_SWEEP_H

#include "fa_compile.h"

/* One finished variant, handed to the callback. */
typedef struct fa_sweep_item {
    const fa_variant *variant;
    const char *name; /* procedural name */
    int index;        /* position in the list given to fa_compile_sweep */
    int done, total;  /* results so far (this one included) and list length */
    /* The result. Borrowed: the sweep releases it after the callback returns. A callback
     * that keeps the cubin or log takes the pointer and sets the field to NULL. For
     * FA_UNSUPPORTED, out->log is the legality model's reason. */
    fa_compile_output *out;
    int spills; /* 1: compiled, but ptxas reports spill stores or loads (ineligible to win) */
} fa_sweep_item;

/* Return FA_OK to go on; anything else stops the sweep, which returns that status. */
typedef fa_status (*fa_sweep_fn)(const fa_sweep_item *item, void *ctx);

typedef struct fa_sweep_summary {
    int total; /* results received */
    int ok, compile_error, unsupported;
    int cache_hits;        /* among ok + compile_error */
    int spilled;           /* ok variants that spill */
    double wall_s;         /* first submit to last result */
    double compiled_per_s; /* (ok + compile_error) / wall_s: unsupported cost nothing */
} fa_sweep_summary;

/* Does a build spill registers (spill stores or loads > 0)? The one definition of "spills":
 * the sweeps count it, and `fa-tune db list` counts the same columns in SQL
 * (STMT_Q_SUMMARIES in db/fa_db_stmt.c). */
int fa_compile_spills(const fa_build_info *b);

/* The status a build result is stored with when it is not timed: FA_COMPILED for a cubin
 * (spilling or not: a spill makes a variant ineligible to win, not unsupported; why then says
 * how much it spills), else the compile's own status (FA_COMPILE_ERROR, FA_UNSUPPORTED) with
 * the log's summary in why (n bytes). */
fa_status fa_compile_stored_status(const fa_compile_output *out, char *why, size_t n);

/* The threads a sweep of n variants uses when asked for jobs (<= 0: all cores): never more
 * than the variants. */
int fa_sweep_threads(int jobs, int n);

/* Compile variants[0..n) for arch on `jobs` threads (<= 0: all cores), calling fn (may be
 * NULL) once per variant in completion order from the calling thread. Compile errors and
 * unsupported variants are results. Returns non-OK if the engine fails on a variant (err
 * names it) or the callback stops the sweep; *sum (may be NULL) is filled either way with
 * what was seen. */
fa_status fa_compile_sweep(fa_compiler *c, const fa_arch *arch, const fa_variant *variants, int n,
                           int jobs, fa_sweep_fn fn, void *ctx, fa_sweep_summary *sum, fa_err *err);

#endif /* FA_SWEEP_H */
