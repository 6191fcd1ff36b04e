/*
 * fa_harness.h -- the harness's shared vocabulary: device facts, the timing protocol's knobs,
 * a job (what to check and time), the detail a job reports beyond fa_measurement, the tensor
 * layout of a problem, timing statistics, and the helper-kernel module.
 *
 * This file implements the declarations used on both sides of the worker boundary
 * (fa_worker.h, the parent; fa_runner.h, the process that owns the GPU). Plain structs, no
 * pointers to free unless a function says so.
 *
 * The correctness criterion (DESIGN.md, FlashAttention's own tests), as implemented:
 *   O:   max|O - O_ref32| <= 2 * max|O_eager - O_ref32| + 1e-5
 *   LSE: max|LSE - LSE_ref32| <= 2 * max|LSE_eager - LSE_ref32| + 1e-5, over rows that see at
 *        least one key. LSE_eager is the eager method's own row log-sum-exp, computed in fp32
 *        by its softmax from the 16-bit scores it materialised, so its error carries the same
 *        rounding of S that O_eager's does; rows that see no key must be -inf in both.
 *   Any NaN/Inf (other than those -inf rows), any element still holding the poison pattern
 *   (never written), or any -inf disagreement fails, whatever the error figures say.
 * O_ref32 and LSE_ref32 come from the fp32 reference (templates/fa_reference.cuh) on the same
 * inputs: fresh seeded random values per check (fa_measurement.check_seed replays them).
 */
#ifndef FA_HARNESS_H
#define FA_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "fa_params.h"
#include "fa_problem.h"
#include "fa_result.h"
#include "fa_status.h"
#include "fa_variant.h"

/* One GPU as the Driver API reports it. */
typedef struct fa_device_info {
    int ordinal;
    char name[256];
    int cc; /* compute capability * 10: 90 for sm_90 */
    int sm_count;
    int smem_per_block_optin; /* bytes */
    int smem_per_sm;          /* bytes */
    int l2_bytes;
    int64_t total_mem; /* bytes */
    int clock_khz;     /* SM clock the driver reports (typical/boost) */
    int mem_clock_khz;
    int mem_bus_bits;
    int driver_version; /* cuDriverGetVersion: 13000 = CUDA 13.0 */
} fa_device_info;

/* "sm_90" for cc 90: the NVRTC target of the helper kernels on that device. */
void fa_device_nvrtc_arch(const fa_device_info *d, char *buf, size_t n);

/* Enumerate the GPUs in this process (loads the driver and calls cuInit: never call it in a
 * process that will fork GPU workers afterwards). Writes up to max entries and the count;
 * FA_NO_DEVICE with a one-line reason when there is no driver or no GPU. */
fa_status fa_harness_devices(fa_device_info *out, int max, int *n, int *driver_version,
                             fa_err *err);

/* ---- timing protocol ----------------------------------------------------------------- */

typedef struct fa_timing_opts {
    int warmup_reps;    /* at least this many untimed launches first (default 3) */
    double warmup_ms;   /* ...and at least this much GPU time of them (default 50), unless
                           the worker's GPU finished other work within the last 0.2 s: its
                           clocks are still up, so the launches alone warm the kernel */
    int min_reps;       /* timed repetitions before the stop rule applies (default 10) */
    int max_reps;       /* hard cap (default 1000) */
    double max_seconds; /* wall-clock cap of one timing; at least 3 reps (max_reps allowing) (5) */
    double target_rse;  /* stop when the relative standard error of the mean is below (0.01) */
    int no_flush;       /* 1: do not flush L2 between repetitions (warm-cache numbers) */
    /* GPU idle before each timed repetition, in microseconds (0: none, the default): after the
     * L2 flush, one warp spins this long on the GPU's timer outside the event pair, so the
     * repetition starts on a GPU that has idled as it does in bench/peers.py's protocol (a
     * torch.cuda._sleep before each call). Back to back, flush after kernel, the GPU never
     * idles. On an H100, 100 us moved fa-tune / cuDNN over FlashAttention's grid from 0.966 to
     * 0.969 (bench/results/2026-12-06_session16). */
    double gap_us;
    /* Racing (0: off). A variant's timing that cannot win stops early: after any of its first
     * 3 repetitions, when one repetition took over 1.05 x abandon_ms, or after the 3rd, when
     * their median is over abandon_ms. The tuner sets it to the best time so far on the
     * problem times a margin. The figures then describe the repetitions taken, and the
     * measurement's message says it was raced out. Never applied to the eager baseline. */
    double abandon_ms;
    /* Racing inside an interleaved re-timing (0: off). After 3 rounds, a job whose median
     * ratio to the fastest job, round by round, is over this margin stops (after 1 or 2
     * rounds, over 1.05x the margin, or after 2 over it in both; from 4, one clearly over 2%:
     * fa_retime_out); its figures are those rounds' and it is marked raced. From 5 rounds the
     * whole group stops, before min_reps, once no job left can be over 1% ahead of the fastest
     * (fa_retime_settled). */
    double interleave_margin;
} fa_timing_opts;

void fa_timing_opts_default(fa_timing_opts *o);

/* Statistics of a set of repetition times, in ms. */
typedef struct fa_time_stats {
    double median_ms, min_ms, mean_ms;
    double cv;  /* stddev / mean */
    double rse; /* stddev / sqrt(n) / mean: the stop rule */
    int reps;
} fa_time_stats;

/* Compute the statistics of n samples (n >= 1; x is not modified). */
void fa_stats_compute(const double *x, int n, fa_time_stats *st);

/* Medians of an interleaved group whose racing stopped some jobs early (fa_runner_retime).
 * ms[i] holds job i's own median (-1: none). A raced job's (raced[i]) becomes ratio[i] x the
 * final median of ref[i], the fastest job when i was raced -- itself resolved first if it was
 * raced later. A raced job whose reference has no median keeps its own. n <= FA_RETIME_MAX. */
void fa_retime_resolve_raced(int n, const int *raced, const int *ref, const double *ratio,
                             double *ms);

/* Racing inside an interleaved group (fa_runner_retime): is a job out, given the statistics
 * ratio of its round-by-round ratios to the fastest job over `rounds` rounds, and the
 * group's margin (fa_timing_opts.interleave_margin, > 1)? Before FA_ABANDON_REPS (3) rounds,
 * when the median is over 1.05x the margin, or after 2 rounds when both are over the margin
 * (a job behind only in one round, the GPU's clock having moved between its launch and the
 * fastest's, stays); from 3 rounds, a median over the margin; and from
 * FA_RETIME_TIGHT_ROUNDS rounds, when it is clearly behind: a median over
 * 1 + FA_RETIME_TIGHT and a mean two standard errors above 1 (the rounds' shared drift
 * divides out of the ratios, so a job 2-5% behind after 4 rounds does not catch up; ten
 * rounds of it were a third of halving's rung 1). */
#define FA_RETIME_TIGHT_ROUNDS 4
#define FA_RETIME_TIGHT 0.02
int fa_retime_out(const fa_time_stats *ratio, int rounds, double margin);

/* Rounds an unraced job of an interleaved group needs before the RSE rule may end it:
 * min_reps while another unraced job is near it (near-ties need the rounds), but no more than
 * FA_RETIME_ALONE_MIN once it is the only one left -- its rounds are then a timing of one
 * variant, which the sweep's protocol stops from 5 repetitions. */
#define FA_RETIME_ALONE_MIN 5
int fa_retime_min_rounds(int min_reps, int unraced);

/* The indifference-zone stop of an interleaved group (fa_runner_retime): may the group end
 * before min_reps rounds as far as this unraced job is concerned, given the statistics ratio
 * of its round-by-round ratios to the fastest job over `rounds` rounds and the group's margin
 * (0: racing off, never)? From FA_RETIME_SETTLED_ROUNDS rounds, when its ratio is known to
 * +-FA_RETIME_ZONE (two standard errors of the mean) and that interval leaves the fastest at
 * most FA_RETIME_ZONE behind it (mean - 2 SE >= 1 - zone); a job that would be stored as
 * faster than the fastest (median below 1) must also be at most the zone behind it
 * (mean + 2 SE <= 1 + zone, median >= 1 - zone). The group is done when every unraced job
 * other than the fastest is settled: whichever of them is picked (the lowest stored median)
 * is then within the zone of the best of them, at worst twice it (a winner has to be right to
 * 2%), and more rounds would only order jobs that close. Without it a near-tie, common on
 * long problems, held the whole group for all min_reps (10) rounds. Five rounds, not four:
 * four samples say too little about their own spread. */
#define FA_RETIME_SETTLED_ROUNDS 5
#define FA_RETIME_ZONE 0.01
int fa_retime_settled(const fa_time_stats *ratio, int rounds, double margin);

/* The job launched k-th in round `round` of an interleaved group of n jobs: the order turns
 * by one each round, so no job always runs first after the round's synchronisation or always
 * after the same neighbour (a fixed order would tie a job's clock to its place in the round). */
int fa_retime_slot(int n, int round, int k);

/* ---- jobs ------------------------------------------------------------------------------ */

/* Most jobs one interleaved re-timing takes (fa_worker_retime_interleaved). */
#define FA_RETIME_MAX 64

enum {
    FA_JOB_CHECK = 1u,      /* correctness against the fp32 reference (and the eager yardstick) */
    FA_JOB_TIME = 2u,       /* time the variant (only if the check, when asked, passed) */
    FA_JOB_EAGER_TIME = 4u, /* time the eager baseline on the same problem */
    /* check_seed was picked by the worker's parent (to record it even if the worker dies),
     * not asked for: a check may run on its problem's kept inputs and their seed instead. */
    FA_JOB_SEED_PICKED = 8u
};

/*
 * One unit of GPU work. A job with cubin == NULL is eager-only: CHECK then checks the eager
 * baseline itself against the fp32 reference with fa_harness_eager_tolerance(), TIME (or
 * EAGER_TIME) times it, and the measurement's timing and error fields describe it.
 * Everything a job points to is borrowed for the duration of the call.
 */
typedef struct fa_job {
    fa_problem problem;
    fa_variant variant; /* its family's launch plan for the problem says what runs: kernels,
                           grids, blocks, clusters, shared memory, scratch (fa_family.h) */
    const void *cubin;  /* the compiled variant (from fa_compile_*), or NULL */
    size_t cubin_size;
    uint64_t cubin_hash;   /* fa_content_hash of the cubin (fa_compile_output.cubin_hash), or 0:
                              computed where it is needed */
    const char *symbol;    /* its lowered kernel names, one a line in the family's kernel
                              order (fa_compile_output.lowered_name) */
    fa_build_info build;   /* copied into the measurement unchanged */
    unsigned what;         /* FA_JOB_* bits */
    uint64_t check_seed;   /* input values; 0: a fresh seed (or a check's kept inputs),
                              recorded in the measurement */
    fa_timing_opts timing; /* all zero: fa_timing_opts_default() */
} fa_job;

/* What a job found beyond fa_measurement (which has no room for the eager method's own
 * statistics or the raw counts). All -1 / 0 where not measured. */
typedef struct fa_harness_detail {
    double flops; /* by fa_problem.h's convention, for this problem's lengths */
    double eager_min_ms, eager_cv, eager_tflops;
    int eager_reps;
    double eager_rel_l2_err;  /* ||O_eager - O_ref32|| / ||O_ref32|| */
    double eager_lse_max_err; /* the LSE criterion's yardstick */
    int64_t o_unwritten, lse_unwritten, o_nonfinite, lse_nonfinite;
    int64_t lse_mask_errors;      /* rows where exactly one of LSE, LSE_ref32 is -inf */
    int64_t flash_tracked_bytes;  /* our own allocations for the flash run (the LSE) */
    int64_t flash_measured_bytes; /* cuMemGetInfo delta around allocating and launching */
    int64_t eager_tracked_bytes;  /* S and P of one chunk + the cuBLAS workspace */
    int64_t eager_measured_bytes; /* cuMemGetInfo delta around allocating and one full run,
                                     plus the workspace allocated once per worker */
    int eager_heads_per_chunk;
    double check_ms; /* wall time of the check, references included */
} fa_harness_detail;

void fa_harness_detail_init(fa_harness_detail *d);
/* A measurement with every figure at "not measured" (-1) and status FA_OK. */
void fa_measurement_init(fa_measurement *m);

/* The eager-only sanity bound: relative L2 error of O_eager against the fp32 reference, and
 * the max LSE error (8 and 64 units of the dtype's epsilon: 2^-8 bf16, 2^-11 fp16). */
double fa_harness_eager_tolerance(fa_dtype t);
double fa_harness_eager_lse_tolerance(fa_dtype t);

/* ---- tensor layout of a problem ----------------------------------------------------------- */

/*
 * Strides (in elements) and sizes of every tensor of a problem. Decode: Q/O/LSE as a BSHD
 * fixed-length problem, K/V contiguous or paged (below). Fixed length: BSHD is
 * q (B, Nq, Hq, D), BHSD is q (B, Hq, Nq, D), likewise k/v with Nk, Hkv; O has q's layout;
 * LSE is (B, Hq, Nq). Varlen: packed (total, H, D) tensors and LSE (Hq, total_q). Every
 * buffer is dense, so a flat scan of it visits exactly the problem's elements.
 */
typedef struct fa_tensors {
    int batch, heads_q, heads_kv, head_dim;
    int max_q, max_k;       /* fa_fwd_params.seqlen_q/k: the lengths, or the varlen maxima */
    int64_t rows_q, rows_k; /* batch * seqlen, or the varlen totals */
    int64_t q_elems, k_elems, lse_elems; /* v and o have k's and q's sizes */
    int64_t q_batch, q_row, q_head;      /* also O's strides */
    int64_t k_batch, k_row, k_head;      /* also V's strides */
    int64_t lse_batch, lse_head;
    int *lens_q, *lens_k; /* varlen: per-sequence lengths (owned); NULL otherwise */
    int32_t *cu_q, *cu_k; /* varlen: batch + 1 prefix sums (owned); NULL otherwise */
    /* Decode (op decode; 0/NULL otherwise). k/v are then the paged caches (num_pages,
     * page_size, heads_kv, dim) with k_batch the page stride, or contiguous (batch, seqlen_k,
     * heads_kv, dim) like a BSHD forward problem. */
    int32_t *cache_lens;      /* batch cache lengths, fa_problem_cache_lens (owned) */
    int32_t *block_table;     /* paged: batch x max_pages page indices (owned): a seeded
                                 permutation of [0, num_pages), so pages come in any order */
    int page_size, max_pages; /* paged: rows per page, pages per sequence (ceil(Nk / size)) */
    int64_t num_pages;        /* paged: batch * max_pages */
    int64_t kc_batch;         /* the contiguous cache's batch stride (seqlen_k * Hkv * D): the
                                 eager baseline reads a contiguous copy of a paged cache */
} fa_tensors;

/* The varlen lengths of a problem: q lengths fa_problem_varlen_lengths(p, seed, seqlen_q); k
 * lengths equal them when seqlen_k == seqlen_q (self-attention), else are drawn from
 * seed + 1 with seqlen_k. Write batch entries into each array. */
void fa_harness_varlen_lengths(const fa_problem *p, int *lens_q, int *lens_k);

/* Fill l for p (validated with fa_problem_check). Release with fa_tensors_release. */
fa_status fa_tensors_init(fa_tensors *l, const fa_problem *p, fa_err *err);
void fa_tensors_release(fa_tensors *l);
/* Kernel arguments for buffers at the given addresses (device or, for the CPU reference,
 * host addresses). */
void fa_tensors_params(const fa_tensors *l, const fa_problem *p, uint64_t q, uint64_t k, uint64_t v,
                       uint64_t o, uint64_t lse, uint64_t cu_q, uint64_t cu_k, fa_fwd_params *out);
/* The decode fields of out (templates/fa_params.h) for a decode layout: the cache lengths at
 * seqused_k and, for a paged one, the block table at block_table with its stride and page size
 * (device or, for the CPU reference, host addresses). Leaves them 0 for other problems. */
void fa_tensors_decode_params(const fa_tensors *l, uint64_t seqused_k, uint64_t block_table,
                              fa_fwd_params *out);
/* The work of the problem by fa_problem.h's convention, with this layout's varlen or cache
 * lengths: FLOPs (forward) or K/V bytes read (decode). */
double fa_tensors_flops(const fa_tensors *l, const fa_problem *p);

/* ---- the helper-kernel module (templates/fa_reference.cuh) ------------------------------- */

/* The NVRTC translation unit of the helper module for (dtype, head_dim) into buf. */
void fa_harness_helper_source(fa_dtype t, int head_dim, char *buf, size_t n);
/* Kernel the compile engine is asked for (any extern "C" kernel of the module names it). */
#define FA_HELPER_ENTRY "fa_ref_attention"

/* 16-bit <-> float on the host (round to nearest even), for tests and the CPU reference. */
float fa_half_to_float(uint16_t h, fa_dtype t);
uint16_t fa_float_to_half(float f, fa_dtype t);

#endif /* FA_HARNESS_H */
