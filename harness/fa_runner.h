/*
 * fa_runner.h -- the GPU side of the harness, in the process that owns the CUDA context.
 *
 * This file implements nothing itself; it declares what fa_runner.c does with one device:
 * a primary context (shared with cuBLAS, which uses the runtime API on it), helper modules
 * (the fp32 reference, eager softmax, fill/compare/flush kernels of
 * templates/fa_reference.cuh) loaded from cubins the parent compiled, and the work of a job:
 * allocate and fill inputs, run the references, poison and check the variant, time it and the
 * eager baseline, measure their extra memory.
 *
 * The tuner does not call this directly: fa_worker.h runs it in a child process so that a
 * faulting kernel takes down only that process. Tests call it in-process (no fork) to reach
 * the references. A runner is single-threaded: one caller at a time.
 *
 * Ownership: fa_runner_new returns a runner the caller frees with fa_runner_free (NULL is a
 * no-op). Cubins passed in are copied by the driver when loaded; the caller keeps its copy.
 */
#ifndef FA_RUNNER_H
#define FA_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "fa_harness.h"

typedef struct fa_runner fa_runner;

typedef struct fa_runner_opts {
    int64_t eager_budget_bytes;     /* S + P of one head chunk; 0: half the free memory */
    int64_t cublas_workspace_bytes; /* 0: 32 MiB (cuBLAS' recommendation for Hopper) */
} fa_runner_opts;

/* Load the driver, cuInit, retain device `ordinal`'s primary context and make it current,
 * create a stream, events and the L2 flush buffer (2x the L2 size), and load cuBLAS (its
 * absence only disables the eager baseline: fa_runner_eager_unavailable says why).
 * FA_NO_DEVICE when there is no driver or no such GPU. opts may be NULL. */
fa_status fa_runner_new(int ordinal, const fa_runner_opts *opts, fa_runner **out, fa_err *err);
void fa_runner_free(fa_runner *r);

const fa_device_info *fa_runner_device(const fa_runner *r);
/* NULL when the eager baseline works, else the reason it does not. */
const char *fa_runner_eager_unavailable(const fa_runner *r);

/* Helper modules, one per (dtype, head_dim), compiled by the parent with
 * fa_harness_compile_helpers for this device's arch. Loading checks the module agrees with
 * this build (params size, head dim, element size). */
int fa_runner_has_helpers(const fa_runner *r, fa_dtype t, int head_dim);
fa_status fa_runner_load_helpers(fa_runner *r, fa_dtype t, int head_dim, const void *cubin,
                                 size_t n, fa_err *err);

/*
 * Run one job (fa_harness.h). The result is always in *m (status FA_OK, FA_MISMATCH,
 * FA_UNSUPPORTED, FA_FAULT, FA_CUDA_ERROR... with the reason in m->message); d may be NULL.
 * Returns FA_OK when *m was filled, FA_INVALID when the job is malformed or its helper module
 * is not loaded. After a fault that poisoned the context, fa_runner_poisoned() is 1 and the
 * runner must be freed (the worker process exits).
 */
fa_status fa_runner_run(fa_runner *r, const fa_job *job, fa_measurement *m, fa_harness_detail *d,
                        fa_err *err);

/*
 * Re-time n jobs (same problem, FA_JOB_TIME implied, no check) interleaved: rounds of one
 * repetition of each, L2 flushed before each, on the problem's shared inputs, at least
 * min_reps rounds and until every job's round-by-round ratio to the fastest meets the RSE
 * target (a job alone: its own times), or a cap; jobs[0].timing.interleave_margin races them
 * (fa_harness.h). ms[i] gets job i's figures: the fastest its own median, every other job its
 * median ratio to the fastest times that median (min and CV stay its own);
 * peak_extra_bytes is the tracked LSE (no memory delta taken). A fault in a warm-up names
 * its job: FA_FAULT, *culprit its index; a fault in a round names none (*culprit -1), and
 * the round's jobs come back FA_INTERRUPTED ("not measured"), as do jobs a fault left
 * unfinished. Returns FA_OK when ms was filled; FA_INVALID for a malformed set.
 */
fa_status fa_runner_retime(fa_runner *r, const fa_job *jobs, int n, fa_measurement *ms,
                           int *culprit, fa_err *err);

/* 1 once a kernel fault has poisoned the CUDA context. */
int fa_runner_poisoned(const fa_runner *r);

/* ---- test hooks ------------------------------------------------------------------------ */

/* Host copies of one check's tensors, every value converted to float, in the layout of
 * fa_tensors (t). o_eager/lse_eager are NULL when not asked for. Release frees everything. */
typedef struct fa_runner_dump {
    fa_tensors t;
    float *q, *k, *v;
    float *o_ref, *lse_ref;
    float *o_eager, *lse_eager;
} fa_runner_dump;

fa_status fa_runner_dump_references(fa_runner *r, const fa_problem *p, uint64_t seed,
                                    int with_eager, fa_runner_dump *out, fa_err *err);
void fa_runner_dump_release(fa_runner_dump *d);

#endif /* FA_RUNNER_H */
