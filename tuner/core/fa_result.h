/*
 * fa_result.h -- the records that pass between stages: what compiling a variant produced
 * (fa_build_info, filled by tuner/compile) and what the harness measured (fa_measurement,
 * filled by harness/, stored by db/). Plain structs, no pointers to free.
 */
#ifndef FA_RESULT_H
#define FA_RESULT_H

#include <stdint.h>

#include "fa_status.h"

/* Resources read from ptxas' -v report of one compiled variant. -1 where unknown. */
typedef struct fa_build_info {
    int registers;     /* per thread */
    int smem_static;   /* bytes of static shared memory (dynamic smem is the variant's) */
    int stack_bytes;   /* stack frame */
    int spill_stores;  /* bytes */
    int spill_loads;   /* bytes */
    double compile_ms; /* wall time of the compile (a cache hit: of the lookup, < 1 ms) */
    int cache_hit;     /* 0/1 */
} fa_build_info;

/* One variant on one problem. Status tokens in the DB: ok, mismatch, unsupported,
 * compile_error, fault (fa_status_token()). Times in milliseconds; -1 where not measured. */
typedef struct fa_measurement {
    fa_status status;
    double median_ms, min_ms;
    double cv; /* coefficient of variation of the repetitions */
    int reps;
    int raced;     /* 1: the timing stopped early, it could not win (fa_timing_opts.abandon_ms) */
    double tflops; /* by the FLOP convention of fa_problem.h, from the median */
    /* Correctness: errors against the fp32 reference. */
    double max_abs_err;       /* max |O - O_ref32| */
    double rel_l2_err;        /* ||O - O_ref32|| / ||O_ref32|| */
    double eager_max_abs_err; /* max |O_eager_lowp - O_ref32|: the criterion's yardstick */
    double lse_max_err;       /* max |LSE - LSE_ref32| over rows that see a key */
    int64_t nonfinite;        /* NaN/Inf elements in O or LSE */
    int64_t unwritten;        /* elements still holding the poison value */
    uint64_t check_seed;      /* the inputs of the check can be replayed from this */
    /* Memory: peak extra device bytes beyond Q, K, V and O. */
    int64_t peak_extra_bytes;
    /* The eager baseline on the same problem, when timed (-1 otherwise). */
    double eager_median_ms;
    int64_t eager_peak_extra_bytes;
    fa_build_info build;
    char message[256]; /* why it failed (fault reason, mismatch detail); for an ok result,
                          empty or a note (raced out) */
} fa_measurement;

#endif /* FA_RESULT_H */
