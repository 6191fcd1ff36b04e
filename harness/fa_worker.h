/*
 * fa_worker.h -- GPU work in a child process, so a faulting kernel costs one measurement
 * and a restart, never the sweep.
 *
 * This file implements nothing itself; it declares the API the tuning engine and `fa-tune
 * bench` use (fa_worker.c). A worker is a child process that owns device N's CUDA context
 * (fa_runner.h). The parent compiles (a job names its variant's cubin, whose bytes are sent
 * once per child and kept there, fa_cubin_store.h; the helper kernels are compiled here, in
 * the parent, for the child's arch and sent once per child); the child never runs NVRTC.
 *
 * Fork + exec. The child is this same program, fork()ed and exec()ed with hidden arguments
 * (`<exe> --fa-tune-worker ...`), so it starts from a fresh process image: NVRTC initialises
 * the CUDA driver in the parent (libnvrtc calls cuInit), and CUDA state does not survive a
 * plain fork (the child's cuInit fails with CUDA_ERROR_NOT_INITIALIZED). Every program that
 * starts workers must therefore call fa_worker_main_hook first thing in main(). <exe> is the
 * parent's own executable (/proc/self/exe), or $FA_TUNE_WORKER_EXE when set (a program that
 * calls the hook and is the same build: the child checks the message layouts agree).
 *
 * Faults. When a kernel poisons the child's context (illegal address, misaligned access,
 * launch failure, trap), the child reports the job as FA_FAULT with the driver's reason and
 * exits; when the child dies (a signal) or stays silent past the watchdog (a hung kernel),
 * the parent kills it, records the job as FA_FAULT with the cause ("worker killed by signal
 * 11 (Segmentation fault)", "no answer in 120 s"), and starts a fresh child before the next
 * job. Measurements already returned are never touched again, so no fault loses one.
 *
 * Threads: one thread at a time per worker. Workers for different devices are independent.
 * Starting or restarting a worker from a multithreaded process is safe: between fork and exec
 * the child makes only async-signal-safe calls, and the parent's descriptors that are not
 * close-on-exec are the only ones a worker inherits besides its socket.
 *
 * Ownership: fa_worker_start returns a worker the caller stops with fa_worker_stop (NULL is
 * a no-op). The compile service in the options is copied; the compiler behind it is borrowed
 * and must outlive the worker. Jobs and
 * their cubins are borrowed for the duration of a call; results are written into
 * caller-owned structs.
 */
#ifndef FA_WORKER_H
#define FA_WORKER_H

#include "fa_compile_service.h"
#include "fa_harness.h"

typedef struct fa_worker fa_worker;

typedef struct fa_worker_opts {
    fa_compile_service compiler; /* required: compiles the helper kernels (its context is
                                    borrowed) */
    double job_timeout_s;        /* watchdog per job; 0: 300 s */
    double start_timeout_s;      /* for the child to report its device; 0: 120 s */
    int64_t eager_budget_bytes;  /* S + P of one eager head chunk; 0: half the free memory */
} fa_worker_opts;

void fa_worker_opts_default(fa_worker_opts *o);

/*
 * The worker's entry point: call it first thing in main() of every program that starts
 * workers, and return what it returns when that is not -1:
 *     int rc = fa_worker_main_hook(argc, argv);
 *     if (rc >= 0)
 *         return rc;
 * Returns -1 when argv is not a worker invocation (argv[1] is not "--fa-tune-worker"): the
 * program goes on as usual. For a worker invocation it runs the worker and ends the process
 * itself with _exit (no exit handlers may run over a CUDA context a fault poisoned), so it
 * returns only for a malformed one: 2, a usage error (it prints nothing).
 */
int fa_worker_main_hook(int argc, char **argv);

/* For tests: a job through the worker's wire encoding and back, as the child reads it (the
 * message's bytes copied into buf, fa_worker_wire_job_bytes() long and suitably aligned for
 * any struct; *out borrows buf for its symbol and gets no cubin). */
size_t fa_worker_wire_job_bytes(void);
void fa_worker_wire_job_roundtrip(const fa_job *in, uint64_t seed, void *buf, fa_job *out);

/* Start the child for device `ordinal` (fork + exec, above) and wait for it to report the
 * device. FA_NO_DEVICE (no driver, no GPU, no such ordinal) with the child's one-line reason;
 * FA_ERROR "cannot start the GPU worker '<exe>': <why>" when the program cannot be exec'd or
 * is another build. *out is written only on success. */
fa_status fa_worker_start(int ordinal, const fa_worker_opts *opts, fa_worker **out, fa_err *err);

/* The device the worker runs on, as its child reported it (valid while the worker lives). */
const fa_device_info *fa_worker_device(const fa_worker *w);
/* "sm_90": the NVRTC target of this device. */
const char *fa_worker_nvrtc_arch(const fa_worker *w);
/* NULL when the eager baseline works on this worker, else why not. */
const char *fa_worker_eager_unavailable(const fa_worker *w);
/* How many times a fresh child was started (successfully) after a fault or a lost child. */
int fa_worker_restarts(const fa_worker *w);

/*
 * Run one job: check and/or time (fa_harness.h). *m always receives the result -- ok,
 * mismatch, unsupported, fault (with the reason), or a harness error -- and *d (may be NULL)
 * the detail. Returns FA_OK when *m was written; non-OK only when the harness itself failed
 * (helpers do not compile, the worker cannot be restarted, the job is malformed).
 */
fa_status fa_worker_check_and_time(fa_worker *w, const fa_job *job, fa_measurement *m,
                                   fa_harness_detail *d, fa_err *err);

/*
 * Re-time n finalists (1..FA_RETIME_MAX, one problem) interleaved, A B C A B C ..., so clock
 * drift cannot pick the winner. results[i] gets job i's timing (no check is made: finalists
 * were checked). If a finalist faults it is recorded as FA_FAULT and the others are re-timed
 * in a fresh worker; if the child dies without naming the culprit, every job is re-timed
 * alone to find it. Returns FA_OK when results were written.
 */
fa_status fa_worker_retime_interleaved(fa_worker *w, const fa_job *jobs, int n,
                                       fa_measurement *results, fa_err *err);

/* Ask the child to exit, reap it, free the worker. NULL is a no-op. */
void fa_worker_stop(fa_worker *w);

/* Compile the helper module for (dtype, head_dim) and an NVRTC arch ("sm_90"); the caller
 * releases *out (fa_compile_output_release). Used by the worker and by in-process tests. */
fa_status fa_harness_compile_helpers(const fa_compile_service *cs, fa_dtype t, int head_dim,
                                     const char *nvrtc_arch, fa_compile_output *out, fa_err *err);

#endif /* FA_WORKER_H */
