/*
 * fa_runner_internal.h -- what the files of the runner share. Not an API (fa_runner.h is):
 * the runner's state, the buffers of a job, and the rn_ functions each file offers the
 * others.
 *
 *   fa_runner.c         device facts, the runner's life, helper modules, one job, test hooks
 *   fa_runner_inputs.c  a problem's buffers, inputs shared across timings, the fp32
 *                       reference, poisoning and the comparisons
 *   fa_runner_eager.c   the eager baseline (cuBLAS + masked softmax + cuBLAS) and its buffers
 *   fa_runner_timing.c  loading and launching a variant, the timing protocol, interleaved
 *                       re-timing
 */
#ifndef FA_RUNNER_INTERNAL_H
#define FA_RUNNER_INTERNAL_H

#include <stdint.h>

#include "fa_driver.h"
#include "fa_family.h"
#include "fa_module_cache.h"
#include "fa_runner.h"

/* Mirrors of templates/fa_reference.cuh (checked against the module when it is loaded). */
#define FA_CMP_MAX_ABS 0
#define FA_CMP_NONFINITE 1
#define FA_CMP_POISON 2
#define FA_CMP_MASK 3
#define FA_CMP_SUM_SQ_DIFF 4
#define FA_CMP_SUM_SQ_REF 5
#define FA_CMP_SLOTS 8
#define FA_REF_CONFIG_SLOTS 8

typedef struct fa_softmax_args {
    uint64_t s, p, lse;
    int64_t lse_head_stride;
    uint64_t cu_q, cu_k; /* padded varlen; 0 otherwise */
    int32_t sq, sk, ld;
    int32_t n_rows;
    int32_t causal;
    int32_t heads, pair0; /* padded varlen */
    int32_t pad;
} fa_softmax_args;
#define FA_SOFTMAX_ARGS_SIZE 80
_Static_assert(sizeof(fa_softmax_args) == FA_SOFTMAX_ARGS_SIZE, "fa_softmax_args layout drifted");

/* The eager softmax instances of the helper module, in the order the picker tries them. */
#define FA_SOFTMAX_INSTANCES 7
static const int softmax_tpr[FA_SOFTMAX_INSTANCES] = {32, 64, 128, 256, 512, 512, 512};
static const int softmax_vpt[FA_SOFTMAX_INSTANCES] = {4, 4, 4, 4, 4, 8, 0};

#define FA_EV_PAIRS FA_RETIME_MAX
#define FA_POISON16 0xFFFFu
#define FA_POISON32 0xFFFFFFFFu
#define FA_MIB (1024.0 * 1024.0)
#define FA_GIB (1024.0 * 1024.0 * 1024.0)
/* cuMemGetInfo moves in pages of this size; smaller differences are allocator noise. */
#define FA_MEM_GRANULE (2 << 20)

/* The helper kernels of one (dtype, head dim): reference, fill, compare, flush, GPU idle,
 * the padded varlen eager's copies, softmax. */
typedef struct helper_mod {
    int loaded;
    CUmodule mod;
    CUfunction ref, fill, cmp_o, cmp_lse, flush, idle, pad;
    CUfunction softmax[FA_SOFTMAX_INSTANCES];
    int ref_smem, ref_threads, ref_bm;
} helper_mod;

/* Where a runner's time goes, phase by phase (rn_prof). With FA_PROFILE set in the
 * environment the totals are printed when the runner is freed: the tuning engine's wall time
 * is mostly these, and they say which part of the protocol a change should attack. */
enum rn_phase {
    RN_PROF_INPUTS,      /* allocating and filling a job's inputs */
    RN_PROF_REFERENCE,   /* the fp32 reference of a check */
    RN_PROF_EAGER_CHECK, /* the eager run of a check and its comparisons */
    RN_PROF_LOAD,        /* finding or loading the variant's module */
    RN_PROF_CHECK,       /* the variant's checked launch and comparisons */
    RN_PROF_WARMUP,      /* warm-up launches before timed repetitions (eager's too) */
    RN_PROF_REPS,        /* a variant's timed repetitions, L2 flushes included */
    RN_PROF_EAGER_TIME,  /* the eager baseline's timed repetitions */
    RN_PROF_RETIME,      /* interleaved re-timing of finalists */
    RN_PROF_RELEASE,     /* what a job gives back at its end (run_end) */
    RN_PROF_N
};

/* One device's runner (fa_runner.h). */
struct fa_runner {
    fa_cuda *cu;
    fa_cublas *bl;
    cublasHandle_t blas;
    char eager_why[256];
    CUdevice dev;
    CUcontext ctx;
    int ctx_retained;
    CUstream stream;
    CUevent ev[2 * FA_EV_PAIRS];
    CUdeviceptr flush_buf;
    size_t flush_bytes;
    unsigned flush_count;
    CUdeviceptr workspace;
    size_t workspace_bytes;
    CUdeviceptr cmp;
    fa_device_info info;
    int pdl; /* 1: launches a plan marks pdl go early (cc >= 90, FA_NO_PDL unset) */
    fa_runner_opts opts;
    helper_mod helpers[2][8];
    int poisoned;
    uint64_t seed_counter;
    fa_module_cache modules;      /* variants loaded by earlier jobs (fa_module_cache.h) */
    double last_busy_s;           /* fa_now_s() when the GPU last finished work for us; 0: never */
    struct cached_inputs *inputs; /* FA_INPUT_CACHE_SLOTS, allocated on first use */
    struct check_set *checks;     /* FA_CHECK_SETS, allocated on first use */
    unsigned long long check_tick;
    int check_retry;              /* re-running a check on fresh inputs: no kept set */
    CUdeviceptr eager_s, eager_p; /* the eager baseline's S and P, kept across jobs: */
    size_t eager_cap;             /* allocating GiBs per job cost ~0.1 s (bytes each) */
    CUdeviceptr eager_dense;      /* varlen: the padded Q, K, V and O, kept the same way */
    size_t eager_dense_cap;
    unsigned long long input_tick;
    double prof_s[RN_PROF_N]; /* host seconds per phase of a job (rn_prof), for FA_PROFILE */
    long prof_n[RN_PROF_N];
};
_Static_assert(FA_MODULE_CACHE_SLOTS > FA_RETIME_MAX, "a re-timing pins FA_RETIME_MAX modules");

/* Racing (fa_timing_opts.abandon_ms): repetitions after which the median decides, and how far
 * above the bound a single repetition must be to decide alone. The bound already carries the
 * engine's margin (1.2x the best so far), so one repetition past 1.05x the bound is 1.26x the
 * best: a variant within the finalists' 10% band would need a repetition about 15% slower
 * than its own median to be cut. (1.25 here cost 44 s of a full hd128 sweep's GPU time in
 * three repetitions each for variants 1.2-1.5x the best.) */
#define FA_ABANDON_REPS 3
#define FA_ABANDON_ONE_REP 1.05

/* One repetition of the thing being timed, enqueued on the runner's stream. */
typedef fa_status (*rep_fn)(fa_runner *r, void *ctx, fa_err *err);

/* A job's device buffers (fa_runner_inputs.c): Q, K, V and the variant's O always; the fp32
 * references and the eager LSE for a check; the eager O when the baseline runs; a decode
 * problem's cache lengths and block table. */
typedef struct bufs {
    fa_tensors t;
    int have_t;
    CUdeviceptr q, k, v, o, o_ref, lse_ref, o_eager, lse_eager, cu_q, cu_k;
    /* Decode: the cache lengths and the block table (paged); for a paged cache the eager
     * baseline reads a contiguous copy of K and V (kc, vc: batch, seqlen_k, heads_kv, dim). */
    CUdeviceptr seqused, btable, kc, vc;
} bufs;

/* What one GPU comparison against the fp32 reference found (rn_compare). */
typedef struct cmp_result {
    double max_abs, rel_l2;
    int64_t nonfinite, poison, mask;
} cmp_result;

/* A check problem's inputs, fp32 reference and eager errors, kept for the next variant
 * checked on the same problem (fa_runner_inputs.c says why and how). */
typedef struct check_set {
    int used;
    fa_problem p;
    bufs b;
    uint64_t seed;
    cmp_result eo, el;         /* the eager method's errors on O and the LSE */
    fa_harness_detail eager_d; /* its eager_* figures */
    int64_t eager_peak;
    unsigned long long tick;
} check_set;

/* How the eager baseline runs one problem: chunks of heads whose S and P fit the budget. */
typedef struct eager_plan {
    int hc; /* per chunk: (batch, query head) pairs (fixed length, varlen) or kv heads (decode) */
    int64_t ld; /* row pitch of S and P, a multiple of 8 (16-byte rows for the softmax) */
    size_t chunk_bytes;
    CUdeviceptr s, p;
    int npairs; /* fixed length and varlen: batch * heads_q */
    CUdeviceptr
        ptrs; /* fixed length and varlen: 6 arrays of npairs device pointers (K Q S V P O) */
    int64_t q_ld, k_ld; /* row strides (elements) of the Q/O and K/V the GEMMs read and write */
    /* Varlen with FA_EAGER_PAD=1: Q, K, V and O padded to the maxima, (batch, heads, max len,
     * D) each, in the runner's kept buffer; 0 otherwise (fixed length, decode, a varlen loop). */
    int padded;
    CUdeviceptr qd, kd, vd, od;
    size_t dense_bytes;
} eager_plan;

/* A variant ready to launch: its kernels and its family's launch plan for one problem, the
 * scratch the plan asks for, and the argument structs built for the last fa_fwd_params. */
typedef struct vkernel {
    const fa_variant *v;
    fa_plan plan;
    CUfunction fn[FA_MAX_KERNELS]; /* from the module cache: stay loaded after the job */
    fa_module_entry *entry;        /* kernel 0's entry: has the variant run in this context yet? */
    CUdeviceptr scratch;           /* plan.scratch_bytes; released by rn_vkernel_release */
    int bound;                     /* args[] hold the arguments of `base` */
    fa_fwd_params base;
    unsigned char *args; /* nlaunches * FA_MAX_ARG_BYTES, 64-byte aligned; owned */
} vkernel;

/* Contexts of the two things timed: a variant launch, and one eager run. */
typedef struct variant_rep {
    vkernel *vk;
    fa_fwd_params *params;
} variant_rep;

typedef struct eager_rep {
    const helper_mod *h;
    const bufs *b;
    const fa_problem *p;
    const eager_plan *pl;
} eager_rep;

/* ---- fa_runner.c ---------------------------------------------------------------------- */

/* Adds the time since t0 to phase ph; returns now (the next phase's t0). */
double rn_prof(fa_runner *r, int ph, double t0);

fa_status rn_dalloc(fa_runner *r, CUdeviceptr *p, size_t bytes, const char *what, fa_err *err);
/* Free *p and zero it; after a fault poisoned the context only zero it (the memory went with
 * the context), so every release path is safe after a fault. */
void rn_dfree(fa_runner *r, CUdeviceptr *p);
void rn_fail(fa_measurement *m, fa_status st, const fa_err *e);
void rn_fill_timing(fa_measurement *m, const fa_time_stats *s, double flops);
helper_mod *rn_helper_slot(fa_runner *r, fa_dtype t, int head_dim);
uint64_t rn_job_seed(fa_runner *r, const fa_job *job);
fa_status rn_launch(fa_runner *r, CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                    unsigned threads, unsigned smem, void **args, const char *what, fa_err *err);
fa_status rn_launch_1d(fa_runner *r, CUfunction f, int64_t n, void **args, const char *what,
                       fa_err *err);
/* Give back what the runner keeps across jobs -- loaded variants, shared inputs, check sets,
 * the eager S and P. After a fault poisoned the context only host memory is freed: the device side
 * went with the context. */
void rn_release_kept(fa_runner *r);
void rn_resolve_timing(const fa_job *job, fa_timing_opts *o);
fa_status rn_sync_stream(fa_runner *r, fa_err *err);

/* ---- fa_runner_inputs.c ----------------------------------------------------------------- */

fa_status rn_bufs_alloc(fa_runner *r, const fa_problem *p, bufs *b, int with_refs, int with_eager,
                        fa_err *err);
void rn_bufs_release(fa_runner *r, bufs *b);
fa_status rn_compare(fa_runner *r, CUfunction f, CUdeviceptr x, CUdeviceptr ref, int64_t n,
                     cmp_result *out, fa_err *err);
/* Fill Q, K and V from seed; for a paged decode cache with a contiguous copy (kc), copy the
 * pages into it in block-table order. */
fa_status rn_fill_inputs(fa_runner *r, const helper_mod *h, const bufs *b, uint64_t seed,
                         fa_err *err);
/* fa_tensors_params and fa_tensors_decode_params for b's device buffers, with o and lse. */
void rn_bufs_params(const bufs *b, const fa_problem *p, CUdeviceptr o, CUdeviceptr lse,
                    fa_fwd_params *out);
fa_status rn_inputs_for_timing(fa_runner *r, const helper_mod *h, const fa_problem *p,
                               uint64_t seed, bufs **out, uint64_t *used_seed, fa_err *err);
void rn_inputs_free_all(fa_runner *r);
/* rn_bufs_alloc, and when the device is out of memory, once more after giving back what the
 * runner keeps between jobs for speed alone (the eager's S, P and padded copies, the cached
 * timing inputs), before the problem is called too big for the device. */
fa_status rn_bufs_alloc_room(fa_runner *r, const fa_problem *p, bufs *b, int with_refs,
                             int with_eager, fa_err *err);
/* The kept check set of problem p (drawn from seed, if seed is not 0), or NULL. */
check_set *rn_check_set_find(fa_runner *r, const fa_problem *p, uint64_t seed);
/* Keep b (moved: *b is left empty) with its seed and eager figures as p's check set. */
void rn_check_set_keep(fa_runner *r, const fa_problem *p, uint64_t seed, bufs *b,
                       const cmp_result *eo, const cmp_result *el, const fa_harness_detail *d,
                       int64_t eager_peak);
/* Forget one check set (NULL: all of them). */
void rn_check_set_drop(fa_runner *r, check_set *c);
fa_status rn_poison(fa_runner *r, CUdeviceptr o, int64_t o_elems, CUdeviceptr lse,
                    int64_t lse_elems, fa_err *err);
fa_status rn_run_reference(fa_runner *r, const helper_mod *h, const bufs *b, const fa_problem *p,
                           fa_err *err);
int rn_same_problem(const fa_problem *a, const fa_problem *b);

/* ---- fa_runner_eager.c ------------------------------------------------------------------ */

/* Whether a varlen job pads (want_pad: FA_EAGER_PAD) and the bytes S and P may take, from the
 * device's free memory, the eager memory the runner keeps (reused or given back: counted as
 * free) and the padded copies' size; budget_bytes, when not 0, is the runner's S and P budget. */
typedef struct eager_mem {
    int padded;
    size_t sp_budget;
} eager_mem;
eager_mem rn_eager_mem_plan(size_t free_bytes, size_t kept_bytes, int want_pad, size_t dense_bytes,
                            size_t budget_bytes);
fa_status rn_eager_plan_alloc(fa_runner *r, const bufs *b, const fa_problem *p, eager_plan *pl,
                              fa_err *err);
int64_t rn_eager_plan_bytes(const eager_plan *pl);
void rn_eager_plan_release(fa_runner *r, eager_plan *pl);
fa_status rn_eager_run(fa_runner *r, const helper_mod *h, const bufs *b, const fa_problem *p,
                       const eager_plan *pl, CUdeviceptr lse_out, fa_err *err);
void rn_eager_scratch_release(fa_runner *r);

/* ---- fa_runner_timing.c ----------------------------------------------------------------- */

void rn_classify(fa_runner *r, CUresult e, const char *when, fa_measurement *m);
fa_status rn_eager_rep_fn(fa_runner *r, void *ctx, fa_err *err);
CUresult rn_launch_variant(fa_runner *r, vkernel *vk, fa_fwd_params *a);
/* Free what rn_vkernel_load allocated (the plan's scratch); safe on a zeroed vkernel. */
void rn_vkernel_release(fa_runner *r, vkernel *vk);
fa_status rn_time_reps(fa_runner *r, const helper_mod *h, rep_fn fn, void *ctx,
                       const fa_timing_opts *o, int fn_launched, int prof_phase,
                       fa_time_stats *st_out, int *abandoned, fa_err *err);
fa_status rn_variant_rep_fn(fa_runner *r, void *ctx, fa_err *err);
fa_status rn_vkernel_load(fa_runner *r, const fa_job *job, const fa_tensors *t, vkernel *vk,
                          fa_measurement *m);

void rn_set_result(fa_measurement *m, fa_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* FA_RUNNER_INTERNAL_H */
