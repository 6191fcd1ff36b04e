/*
 * fa_session.h -- one `fa-tune tune` invocation end to end: compiler, GPU workers (or the
 * compile-only fallback), database provenance (device, run), the engine, and the summary.
 * cmd_tune.c parses the command line; everything after that lives here so tests and other
 * front ends can run a session too.
 */
#ifndef FA_SESSION_H
#define FA_SESSION_H

#include <stdio.h>

#include "fa_gpu_backend.h"
#include "fa_sweep.h"
#include "fa_tune.h"

typedef struct fa_tune_session_opts {
    const char *arch_name; /* "sm90" or "native" */
    const char *devices;   /* "0", "0,1", "all" */
    const char *db_path;
    const char *cache_dir;    /* NULL: default */
    const char *command_line; /* stored with the run */
    int compile_only;         /* 1: never time */
} fa_tune_session_opts;

typedef struct fa_tune_session {
    const fa_arch *arch;
    int timed;                  /* 0: the compile-only sweep ran */
    char compile_only_why[512]; /* why there was no timing */
    char device_name[256];
    int gpus;
    fa_compiler *compiler;
    fa_gpu_backend *gpu;
    fa_db *db;
    int64_t device_id, run_id;
    fa_tune_stats stats;    /* timed runs */
    fa_sweep_summary sweep; /* compile-only runs */
    int already_stored;     /* compile-only runs: variants the database held already */
    /* FA_PROFILE: seconds spent starting the compiler, the GPU workers and the database */
    double compiler_s, backend_s, db_s;
} fa_tune_session;

/* Run a session. s is filled (release it with fa_tune_session_release whatever the result).
 * FA_INTERRUPTED when *interrupted was set: what was measured is stored. */
fa_status fa_tune_session_run(const fa_tune_session_opts *so, const fa_tune_opts *o,
                              volatile int *interrupted, fa_tune_session *s, fa_err *err);
void fa_tune_session_release(fa_tune_session *s);

/* The end-of-run table on out: per problem, the winner, TFLOP/s, speed-up over eager, the
 * margin over the runner-up, and the extra memory flash saves versus eager; then the
 * engine's counts. For a compile-only run, the sweep's counts and why nothing was timed. */
void fa_tune_print_summary(fa_tune_session *s, const fa_tune_opts *o, FILE *out);

#endif /* FA_SESSION_H */
