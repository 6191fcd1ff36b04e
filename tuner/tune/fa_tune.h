/*
 * fa_tune.h -- the tuning engine: problems x variant space -> compile pool -> check -> time
 * -> database, overlapping compilation with GPU work.
 *
 * Order of work (fa_tune.c and the files fa_tune_engine.h lists own it):
 *   1. Problems are grouped into classes (dtype, head dim, causal, varlen): one class shares
 *      one variant space. Variants are enumerated (fa_space), kept if in this shard
 *      (--shard i/N) and legal (fa_variant_check); illegal ones are recorded `unsupported`
 *      once, on the class's first problem (the model does not look at the problem), or on
 *      every problem when the variant has an ok row for the arch (fa_db_variant_has_ok).
 *   2. Every kept variant goes to the compile pool at once; the pool works ahead of the GPU.
 *      A compile error or a spilling build is recorded and the variant leaves the race.
 *   3. As each variant finishes compiling, a device slot checks it once per class on the
 *      class's check problem (same heads and mode, seqlens 1000/1000 -- a tail in every tile
 *      -- batch 2): a variant that is wrong never wins. Then it is timed on every problem of
 *      the class (resume skips pairs the database already holds for this device and source
 *      hash, unless --force). Every result is written to the database as it is measured.
 *   4. Per problem (exhaustive, random) the best few (--finalists, and every variant within
 *      10% of the best, at most 16) are re-timed interleaved (A B C A B C ...), racing each
 *      other, so clock drift -- separate timings move by a few percent over a sweep --
 *      cannot pick the winner.
 * Strategies:
 *   exhaustive  every legal variant on every problem (racing cuts the losers short); where an
 *               arch-specific family runs beside portable ones, a portable family's variants
 *               past its 8 best by prior only if one of those is within --family-gate (1.25x)
 *               of the class's best on some problem once the class's other variants are
 *               timed (the family gate; --family-gate 0: every variant); a tile's costlier
 *               versions (sm90a's 3 and 4 stages, pingpong) at that point too, only if the
 *               tile with 2 stages, and without pingpong, is within --stage-gate (1.10x) of
 *               the class's best on some problem (the stage gate; --stage-gate 0: all). Its
 *               classes, too, go through their steps on their own (below). With --shard each
 *               shard gates its own share (its first 8, its class's best); with a --budget,
 *               exhaustive keeps one global prior order and has no gate; variants named one
 *               by one (--variant) are gated too (a recheck that must time a list whole
 *               passes --family-gate 0 --stage-gate 0).
 *   random      a seeded random order of the variants, stopped by --budget
 *   halving     successive halving. Rung 0: every checked variant timed briefly (1 rep) on
 *               its class's shortest problem, its longest of at most 4096 keys (a 4k
 *               problem ranks most tiles like a 16k one at a quarter of the cost) and its
 *               longest when longer (some tiles win only there); these quick times only
 *               rank candidates and are never stored. Rung 1: the best twelfth on each of
 *               them (at least --finalists) survive; a problem times the survivors of the
 *               rung-0 problems nearest it in keys (at or below, at or above) and the best
 *               third of the others' survivors, all of them interleaved in one group per
 *               problem and raced against each other (stored): this group is also the
 *               final. Variants eliminated in rung 0 leave nothing
 *               in the database (a passing check is not stored), so a rerun revisits them.
 *               Exploration (--explore F < 1): rung 0 first covers the first F of each
 *               (class, family)'s legal variants by the family's prior; then the neighbours
 *               (one step on one axis) of each rung-0 problem's 3 best are compiled and
 *               ranked, for up to 3 rounds. Variants it never reaches are not compiled
 *               (counted as unexplored): a cold run compiles a fraction of the space.
 *               Where an arch-specific family runs beside portable ones (sm90a and sm80
 *               on Hopper), a portable family's share starts with its 8 best by prior; the
 *               rest joins the first round only if one of them is within 1.25x of the
 *               class's best on some rung-0 problem (the family gate).
 *               Each class goes through these steps on its own: its variants are compiled
 *               class by class, and once its rung 0 is done its exploration compiles ahead of
 *               the other classes' variants and its rung 1 runs while they still compile.
 * Timing: the harness's protocol (fa_harness.h) with one warm-up launch -- which the harness
 * skips for a variant that already ran in this worker (its check) on a GPU kept busy -- and
 * one repetition. A separate timing only has to say whether a variant is a finalist (within
 * 10% of the best); a repetition varies under 1% from the next, and clock drift moves
 * separate timings by a few percent anyway. Finalists, which decide the winner, are re-timed
 * with the default protocol but one warm-up launch: --rounds (10) rounds, then up to the 1% RSE
 * rule, or from the fifth round once no job left can be over 1% ahead of the group's fastest
 * (racing on: fa_retime_settled). The eager baseline: one warm-up launch (none on a GPU kept
 * busy: the job's untimed eager run, which measures its memory, came just before) and one
 * repetition (a yardstick, printed to 0.1x). With --finalists 0 the separate timings
 * decide, so they get the full rule: at least 5 reps, up to 1000.
 * Racing: each separate timing gets the bound race_margin x the best median so far on its
 * problem (halving's rung 0: the best quick median, or the slowest survivor so far when
 * lower); a variant past it (one repetition over 1.05x it, or a median of 3 over it:
 * fa_timing_opts.abandon_ms) is stored with the repetitions it took and a note, and cannot
 * win. Interleaved groups race inside the group, with a quarter of
 * the margin (fa_timing_opts.interleave_margin) from the third round, and after the first
 * round a job already 1.05x past that (1.10x the fastest) leaves; from the fourth, a job
 * clearly over 2% behind leaves too (fa_retime_out); from the fifth, the group ends once no
 * job left can be over 1% ahead of the fastest, two standard errors included
 * (fa_retime_settled).
 * So that a tight bound exists early, variants are compiled and timed in order of a prior:
 * FlashAttention-2's shape (16 or 32 query rows per warp, 64..128 key columns, few stages)
 * first. The prior orders work only; it never decides a winner.
 * Budget (any strategy): a count of (variant, problem) timings or seconds of wall time;
 * work not started when the budget runs out is skipped and said so.
 *
 * The GPU is reached through a backend (fa_tune_backend): the harness's worker processes in
 * fa-tune, a synthetic timer in the CPU tests.
 */
#ifndef FA_TUNE_H
#define FA_TUNE_H

#include <stdint.h>

#include "fa_compile.h"
#include "fa_db.h"
#include "fa_harness.h"
#include "fa_space.h"

typedef enum fa_strategy {
    FA_STRATEGY_EXHAUSTIVE = 0,
    FA_STRATEGY_RANDOM = 1,
    FA_STRATEGY_HALVING = 2
} fa_strategy;

const char *fa_strategy_name(fa_strategy s);
fa_status fa_strategy_parse(const char *s, fa_strategy *out);

/* What runs jobs on GPUs: `slots` independent devices, each driven by one engine thread. */
typedef struct fa_tune_backend {
    void *ctx;
    int slots;
    /* Run one job on slot; fill m (status FA_FAULT etc. are results). Non-OK return: the
     * backend itself failed (the run stops). */
    fa_status (*run)(void *ctx, int slot, const fa_job *job, fa_measurement *m, fa_err *err);
    /* Re-time n jobs interleaved on slot; ms[i] gets job i's timing. */
    fa_status (*retime)(void *ctx, int slot, const fa_job *jobs, int n, fa_measurement *ms,
                        fa_err *err);
} fa_tune_backend;

typedef struct fa_tune_opts {
    const fa_arch *arch;
    const fa_problem *problems;
    int n_problems;
    const fa_variant *variants; /* NULL: the whole space of each class; else only these
                                   (those that match a class's mode) */
    int n_variants;
    const fa_family *family; /* NULL: every family that runs on arch; else only this one */
    fa_strategy strategy;
    int budget_count;      /* 0: none */
    double budget_seconds; /* 0: none */
    int force;             /* re-measure what the database already holds */
    int shard_index, shard_count;
    int jobs;              /* compile threads, <= 0: all cores */
    uint64_t seed;         /* random strategy order */
    int finalists;         /* re-timed interleaved per problem (default 3; 0: none) */
    int final_rounds;      /* interleaved groups: at least this many rounds (default 10),
                              unless racing settles the group from its 5th */
    double race_margin;    /* racing: a timing stops early once it is this many times slower
                              than the best so far on its problem (default 1.2; 0: off) */
    double explore;        /* halving: the part of each (class, family)'s legal variants,
                              first by prior, compiled and ranked before the neighbours of
                              the leaders (default FA_EXPLORE_DEFAULT; 1: all) */
    double family_gate;    /* exhaustive and halving (below 1 --explore): beside an
                              arch-specific family, a portable family's variants past its
                              FA_EXPLORE_MIN best by prior are compiled only if one of those
                              comes within this factor of its class's best (default
                              FA_FAMILY_GATE; 0: no gate) */
    double stage_gate;     /* exhaustive: a variant past the first value of a depth axis
                              (sm90a's 3 and 4 stages, pingpong) is compiled only if each of its
                              siblings at the first value (2 stages; no pingpong) comes within
                              this factor of its class's best on some problem (default
                              FA_STAGE_GATE; 0: no gate) */
    int progress;          /* 0 quiet, 1 progress on stderr */
    fa_timing_opts timing; /* all zero: the sweep protocol above, harness defaults for the
                              finalists and the eager baseline */
} fa_tune_opts;

/* Halving compiles this part of each (class, family)'s variants first (by the family's prior),
 * then only the neighbours of the leaders: see bench/results/ for the recheck that set it. */
#define FA_EXPLORE_DEFAULT 0.25

/* The family gate (--family-gate, en_gate_portable): in a class where an arch-specific family
 * (sm90a) runs beside portable ones (sm80 compiled for sm_90), a portable family first compiles
 * only its FA_EXPLORE_MIN (8) best by prior. Halving compiles the rest of its --explore share
 * with the first exploration round only if its best rung-0 time is within this factor of the
 * class's best on some rung-0 problem; exhaustive compiles the rest of the family once the
 * class's other variants are timed, only if its best stored time is within this factor of the
 * class's best on some problem (or it has no time to judge by). On the H200 the sm80 family won
 * none of the 144 problems of the full hd128 job nor of FlashAttention's 36 shapes (its
 * mma.sync kernels are 1.3-2x behind wgmma), yet its share (26 of ~102 legal per class, 8
 * classes) was a quarter of a cold halving run's 822 compiles, and its whole space (816) 28% of
 * a cold exhaustive run's 2,912; the gate leaves 8 per class. */
#define FA_FAMILY_GATE 1.25

/* The stage gate (--stage-gate, en_gate_depth): exhaustive compiles a tile's costlier versions
 * (the values past the first of a family's depth axes: sm90a's 3 and 4 stages, and pingpong)
 * only once the class's other variants are timed, and only if, for each such axis, the same
 * tile with that axis at its first value (2 stages; no pingpong) is within this factor of the
 * class's best on some problem, or has no time to judge by (its check failed, it spilled); a
 * variant whose sibling the gate held back is held back too (m128n128s3pp: m128n128s2pp and
 * m128n128s3). Why: on the H200's full default hd128 job (session 17), a 2-stage
 * sm90a tile was within 2% of the best on all 144 problems, while 3- and 4-stage tiles were
 * 832 of the 2,096 sm90a compiles (582 of 1,702 NVRTC CPU-s) of a compile-bound run; a deeper
 * ring changes a tile's time by a few percent, so a tile whose 2-stage form is over 10% behind
 * everywhere does not win with more stages. Measured (H100, bench/results/2026-12-06_session18):
 * in a run that timed every depth, a 3- or 4-stage tile won 29 of the 144 problems, and none of
 * the 400 the gate holds back at 1.10 (734 at 1.02) was the fastest on any; the cold job went
 * from 128.6 to 113.3 s. Pingpong joined the gate in session 19: replayed on two such runs
 * (H100s, sessions 18 and 19, sm90a kernels v13 and v14), stages and pingpong together hold
 * back 541 and 634 sm90a variants at 1.10 with no problem's best lost, against 400 and 460 for
 * stages alone (bench/results/2026-12-06_session19). */
#define FA_STAGE_GATE 1.10

void fa_tune_opts_default(fa_tune_opts *o);

/* Everything the engine borrows. */
typedef struct fa_tune_env {
    fa_compiler *compiler;
    fa_db *db;
    int64_t run_id;
    int64_t device_id;
    const char *source_hash;
    fa_tune_backend backend;
    volatile int *interrupted; /* set by a signal handler: finish the write in flight, stop */
} fa_tune_env;

typedef struct fa_tune_stats {
    int classes;
    int variants; /* kept in this shard, legal or not */
    int unsupported;
    int compiled, compile_errors, spilled, cache_hits;
    int checked, mismatches, faults;
    int timed;       /* (variant, problem) timings stored */
    int raced;       /* of those, stopped early by racing */
    int skipped;     /* (variant, problem) pairs skipped by resume */
    int budget_cut;  /* pairs not run because the budget ran out */
    int unexplored;  /* legal variants left uncompiled: halving's exploration did not reach
                        them, or a family or stage gate held them back */
    int gated;       /* of those, left by the family gate (a portable family's share whose
                        seeds were all over --family-gate x the class's best) */
    int stage_gated; /* of those, left by the stage gate (more stages or pingpong of tiles
                        whose version without was over --stage-gate x the class's best
                        everywhere) */
    int undecided;   /* of those, behind a family or stage gate the run stopped before deciding
                        (an interrupt, the budget) */
    double wall_s;
    double gpu_busy_s; /* summed over slots */
    double db_s;       /* the database writer thread storing results (the GPU goes on) */
    int db_records;
    double gpu_idle_fraction;
    double compiling_s;       /* wall time with compile jobs outstanding */
    double rung1_s;           /* halving: GPU time of the rung-1 groups, summed over slots */
    double rung1_compiling_s; /* of which while compile jobs were outstanding */
} fa_tune_stats;

/* Run the tuning. Results go to env->db as they are measured. FA_INTERRUPTED if
 * *env->interrupted became non-zero (everything measured so far is stored). */
fa_status fa_tune_run(const fa_tune_opts *opts, fa_tune_env *env, fa_tune_stats *stats,
                      fa_err *err);

/* The variants of a class: opts->variants matching the class's mode, or the space of
 * (arch, head dim) under filter f. New array, caller frees. */
fa_status fa_tune_class_variants(const fa_tune_opts *o, const fa_problem *key,
                                 const fa_space_filter *f, fa_variant **out, int *n, fa_err *err);

/* The check problem of a class: p's dtype, head dim, heads, layout and mode with batch 2 and
 * seqlens 1000 (for causal with a tail on both sides). Decode: p's new tokens and page size
 * against 1000-row caches of 32 sequences whose lengths (a fixed distribution, drawn from seed
 * 0) include 0, 1, lengths no page size divides and the full cache. */
void fa_tune_check_problem(const fa_problem *p, fa_problem *check);
#define FA_DECODE_CHECK_BATCH 32

#endif /* FA_TUNE_H */
