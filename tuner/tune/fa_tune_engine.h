/*
 * fa_tune_engine.h -- what the files of the tuning engine share. Not an API (fa_tune.h is):
 * the engine's state and the en_ functions each file offers the others.
 *
 *   fa_tune.c         strategy names and options, classes and candidates (resume, legality,
 *                     the prior order), and fa_tune_run, which runs the phases
 *   fa_tune_phases.c  what each phase hands the device slots: compiled candidates, the
 *                     finalists; halving's and exhaustive's steps run per class
 *                     (en_produce_by_class: each class's exploration and rung-1 groups, or
 *                     its family gate, as soon as its own work is done)
 *   fa_tune_slots.c   the device-slot threads and their work: eager baselines, checks,
 *                     timings with racing, interleaved groups, recording every result
 */
#ifndef FA_TUNE_ENGINE_H
#define FA_TUNE_ENGINE_H

#include <pthread.h>

#include "fa_progress.h"
#include "fa_tune.h"

/* Halving: at most this many rung-0 problems per class (three by keys, one per GQA ratio above
 * the class's smallest, largest ratio first, while room is left). */
#define FA_RUNG0_MAX 6

/* The stage gate judges a variant by at most this many siblings, one per depth axis past its
 * first value (sm90a: stages and pingpong); a variant past the first value of more depth axes
 * than this is not held back. */
#define FA_GATE_SIBLINGS 2

typedef struct tclass {
    fa_problem key; /* dtype, head dim, causal, varlen of its problems */
    int *probs;     /* indices into opts->problems */
    int np;
    fa_problem check;
    /* Halving's rung-0 problems (class positions): the first nrung0_keys chosen by keys (the
     * shortest, the longest of at most FA_RUNG0_MAX_KEYS keys and the longest), then, when the
     * class holds several GQA ratios, each ratio's longest of at most FA_RUNG0_MAX_KEYS keys
     * (ratios above the smallest, largest first, while FA_RUNG0_MAX allows) unless one of
     * those is it. rung0_ratio[r]: the GQA ratio rung-0 problem r was chosen for (0: keys
     * only): a problem of that ratio times its survivors as its own, and a problem of a ratio
     * left out for room those of the nearest ratio's that has one (near(), fa_tune_phases.c). */
    int rung0[FA_RUNG0_MAX];
    int rung0_ratio[FA_RUNG0_MAX];
    int nrung0, nrung0_keys;
    int gqa_min; /* smallest GQA ratio (heads_q / heads_kv) of its problems */
    int keep;    /* halving: at least this many rung-1 survivors per rung-0 problem, from the
                    class's legal count (FA_HALVING_KEEP_SPACE), explored or not */
    /* Halving and exhaustive, per class (en_produce_by_class), under the engine's mu: its work
     * not yet done (variants submitted to the compile pool and not back, or handed to the slots
     * and not yet checked and ranked on rung 0, or under exhaustive timed), halving's
     * exploration rounds, and whether it is settled (halving: its rung-1 groups queued). */
    int open, rounds, settled;
} tclass;

/* CAND_DEFERRED: halving's exploration has not reached it, or the family gate holds it back
 * (not compiled; may be promoted to CAND_PENDING when it neighbours a rung-0 leader or the gate
 * opens). */
enum { CAND_PENDING = 0, CAND_READY, CAND_OUT, CAND_DEFERRED };

typedef struct cand {
    fa_variant v;
    char name[FA_VARIANT_NAME_MAX];
    int cls;
    int state;       /* CAND_* */
    int passed;      /* check passed: may be timed */
    int refused;     /* the legality model refuses it (CAND_OUT) */
    int gated;       /* in its portable family's exploration share behind the family
                        gate (FA_FAMILY_GATE): 1 waiting, 2 the gate shut (CAND_DEFERRED
                        unless a leader's neighbour), 0 neither or the gate opened */
    int depth_gated; /* behind exhaustive's stage gate (FA_STAGE_GATE, en_gate_depth):
                        1 waiting, 2 the gate shut (CAND_DEFERRED), 0 neither or the
                        gate opened */
    /* depth_gated: for each depth axis past its first value, the candidate with that axis at
       its first value and the rest equal, -1 for none (the ones the gate judges by) */
    int sibling[FA_GATE_SIBLINGS];
    int unrecorded;        /* CAND_OUT as unsupported, its rows not yet written: the compile
                              producer writes them (en_record_refusals) a few after each
                              compiled variant it hands the slots, so ~125k rows (4.7 s, a
                              full default job) hold up neither a compile nor a check */
    fa_compile_output out; /* cubin kept until the end for re-timing */
    unsigned char *todo;   /* per class problem: 1 = still to measure (resume) */
    double *ms;            /* per class problem: latest stored median, -1 none */
    double *stored;        /* exhaustive with the family or stage gate, per class problem: the
                              fastest ok median a resume skipped (fa_db_best_ok_ms), -1 none:
                              the gates judge a resumed pair by it */
    double *quick;         /* halving rung 0: quick median per class problem (never stored:
                              one repetition ranks candidates, not a result), -1 none */
    int64_t *peak;         /* per class problem: measured extra memory, -1 none (re-timing measures
                              time only, so its record borrows this figure) */
    /* out.cubin is one of the engine's shared copies (en_cubin), freed with the engine */
    unsigned char cubin_shared;
} cand;

/* A unit of device work. */
typedef enum { ITEM_EAGER, ITEM_VARIANT, ITEM_FINALISTS } item_kind;
typedef struct item {
    item_kind kind;
    int problem; /* ITEM_EAGER, ITEM_FINALISTS: index into opts->problems */
    int cand;    /* ITEM_VARIANT */
    int *finals; /* ITEM_FINALISTS: candidate indices (owned by the engine) */
    int nfinals;
    int rung1; /* ITEM_FINALISTS: halving's rung 1 (their first stored timings) */
} item;

typedef struct engine {
    const fa_tune_opts *o;
    fa_tune_env *env;
    fa_tune_stats *st;
    tclass *cls;
    int ncls;
    cand *cands;
    int ncands;
    double *eager_ms;    /* per problem; -1 unknown */
    double *best_ms;     /* per problem: best full (not raced) median stored in this run */
    double *quick_best;  /* per problem: best halving rung-0 median (not raced) */
    int64_t *eager_peak; /* per problem */
    /* per problem: 0 its eager baseline is queued or running (a check waits for it), 1 timed,
       2 not queued (every pair stored already; plan_opened_locked queues it if a family gate
       opens) -- nonzero, nothing to wait for */
    unsigned char *eager_done;
    int *class_of, *pos_of; /* per problem: class and position in it */
    /* The database writer (fa_tune_dbwriter.c): its queue of handed rows, db_s and
     * db_records are under db_mu, taken alone or inside mu, never the other way round. The
     * writer thread alone uses the database handle while it runs. */
    pthread_mutex_t db_mu;
    pthread_cond_t db_cv; /* the writer waits on it for rows or the stop */
    struct db_rows *dbq, *dbq_tail;
    int db_stop, db_running;
    pthread_t db_thread;
    /* work queue */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item *q;
    int qhead, qtail, qcap;
    int producers_done; /* no more items will be added in this phase */
    fa_status fatal;    /* first backend/database failure */
    fa_err fatal_err;
    double t0;
    int timings; /* (variant, problem) timings done, for the budget */
    fa_progress prog;
    fa_timing_opts sweep;     /* every stored timing but the finalists' (see fa_tune.h) */
    fa_timing_opts quick;     /* halving rung 0 */
    fa_timing_opts eager;     /* the eager baselines */
    fa_timing_opts final;     /* interleaved groups: finalists, halving's rung 1 */
    double interleave_margin; /* racing inside interleaved groups (fa_timing_opts) */
    /* Under mu: the compile pool while halving's producer runs (a class's exploration submits
     * to it from whichever thread finishes the class's rung 0), the classes not yet settled,
     * the compile jobs submitted and not yet taken back, and since when that was above 0
     * (st->compiling_s adds up that time: the profile's overlap of rung 1 with compiling). */
    fa_compile_pool *pool;
    int unsettled;
    int compiling;
    int by_class; /* en_produce_by_class runs the phase (halving; exhaustive without a budget) */
    double compiling_since;
    /* Under mu: one copy of each distinct cubin the candidates hold (en_share_cubin_locked). A
     * compile batch gives each of its up to 8 variants the whole batch's cubin (~400 KB on the
     * hd128 job), and a cache hit reads that same cubin from every sibling's entry; the
     * candidates keep their cubins to the end for re-timing, so without sharing a run held up to
     * 8 copies of each. */
    struct en_cubin *cubins;
    int ncubins, cubins_cap;
} engine;

/* One cubin shared by the candidates whose compile output has these bytes. */
typedef struct en_cubin {
    uint64_t hash; /* fa_content_hash, with size the identity (as the worker's ledger) */
    size_t size;
    void *bytes; /* owned here; the candidates' out.cubin point to it */
} en_cubin;

/* Candidate c's compile output (just stored in c->out, caller holds mu) gives up its cubin for
 * the engine's copy of the same bytes, which it then holds until the engine is freed; a new
 * one becomes the engine's copy (c->cubin_shared either way). Out of memory for the table: c
 * keeps its own copy. */
void en_share_cubin_locked(engine *e, cand *c);

/* Halving: the best 1/FA_HALVING_KEEP of a class on each rung-0 problem survive to rung 1.
 * On the H100's full hd128 sweep a sixteenth (8-12 variants per class) lost 2.4% on one of
 * 144 problems, its rung-0 times being 3 quick repetitions; a twelfth keeps 10-15. */
#define FA_HALVING_KEEP 12

/* With exploration (a part of the space compiled), at least 1/FA_HALVING_KEEP_SPACE of the
 * class's legal variants survive each rung-0 problem: the explored part is the prior's best
 * and the leaders' neighbours, so its twelfth alone would thin the survivors, while a twelfth
 * of the whole space made rung 1 half of a warm run (15 of 30 s, full hd128 job, H200). */
#define FA_HALVING_KEEP_SPACE 24

/* Halving's rung 1: a problem times the survivors of the rung-0 problems that bracket it in
 * keys (and a GQA problem its own ratio's, tclass), and the best 1/FA_RUNG1_FAR_SHARE of the
 * other rung-0 problems' survivors (their leaders; at least one). */
#define FA_RUNG1_FAR_SHARE 3

/* Halving's rung 0 ranks on the class's shortest problem, its longest of at most this many
 * keys, and its longest problem when that is longer. The 4k problem ranks most long ones well
 * (replayed on three full hd128 sweeps it chose survivors as well as the 16k one did), but on
 * the H200 exhaustive found 16k-causal winners 10-20% ahead of halving's (PackGQA tiles at
 * g = 1, m192n112 / m192n80) that rank low at 4k, so the longest problem is ranked too.
 *
 * Ties go to the first problem in order, which is the GQA-ratio-1 one in the default set, so
 * all three were ratio 1: tiles that pay off only with GQA (PackGQA) ranked 35th-264th there
 * and never reached rung 1, and exhaustive's winners on b16 kv2 q1024 causal varlen (bf16 and
 * fp16, m192n80s2ovpg) were 3.3-3.7% ahead of halving's (H200, hd128). So a class of several
 * ratios also ranks on its largest ratio's longest problem of at most this many keys (its
 * shortest, 512 keys, ranked the bf16 one 39th, not enough), and its problems above the
 * smallest ratio time those survivors as near ones. */
#define FA_RUNG0_MAX_KEYS 4096

/* Halving's exploration (fa_tune.h, --explore): after rung 0 of what is compiled, the
 * neighbours (one step on one axis of the family's space) of each rung-0 problem's best
 * FA_EXPLORE_LEADERS are compiled and ranked too, for up to FA_EXPLORE_ROUNDS rounds (a round
 * with no new neighbour ends it). Each (class, family) explores at least FA_EXPLORE_MIN
 * variants first. */
#define FA_EXPLORE_LEADERS 3
#define FA_EXPLORE_ROUNDS 3
#define FA_EXPLORE_MIN 8

/* Finalists: within this factor of the best stored time, up to this many per problem. */
#define FA_FINAL_BAND 1.10
#define FA_FINALISTS_MAX 16

/* The argument of one device-slot thread (en_run_phase). */
typedef struct slot_arg {
    engine *e;
    int slot;
} slot_arg;

/* ---- fa_tune_slots.c -------------------------------------------------------------------- */

int en_budget_spent(engine *e);
/* The database writer (fa_tune_dbwriter.c). en_db_write copies n rows of v (problems:
 * indices into opts->problems) for the writer thread, which stores them as one transaction;
 * before en_db_writer_start, or after en_db_writer_stop, it stores them itself. Stop drains
 * the queue and joins the thread; a failed write ends the run through en_fail. */
typedef struct db_rows db_rows;
fa_status en_db_writer_start(engine *e, fa_err *err);
void en_db_writer_stop(engine *e);
fa_status en_db_write(engine *e, const fa_variant *v, const int *problems, const fa_measurement *ms,
                      int n, fa_err *err);

void en_fail(engine *e, fa_status st, const fa_err *err);
void en_fail_locked(engine *e, fa_status st, const fa_err *err);
fa_status en_push(engine *e, item it);
fa_status en_push_locked(engine *e, item it);
void en_record_all_locked(engine *e, cand *c, const fa_measurement *proto, fa_status status,
                          const char *why, const fa_build_info *b);
/* Write up to max of the legality model's refusals build_candidates counted (cand.unrecorded),
 * under db_mu alone; returns how many are left (0 after a failure or an interrupt: a rerun
 * writes them). */
int en_record_refusals(engine *e, int max);
void en_run_phase(engine *e, void (*produce)(engine *), pthread_t *threads, slot_arg *args);

/* ---- fa_tune_phases.c ------------------------------------------------------------------- */

void en_produce_compiled(engine *e);
void en_produce_finalists(engine *e);
/* Halving and exhaustive: every phase, per class (the comment above its definition says
 * why). */
void en_produce_by_class(engine *e);
/* Halving and exhaustive: a slot finished candidate ci's check and rung 0 or timings (or
 * skipped them): one piece of its class's work less; the last one takes the class's next
 * step. */
void en_variant_done(engine *e, int ci);
/* The seconds compile jobs were outstanding up to now (caller holds mu). */
double en_compiling_clock_locked(const engine *e);
int en_rung1_keep(const engine *e, int k, int n);
/* Of a rung-0 problem's keep survivors, how many a problem not near it times: the best
 * 1/FA_RUNG1_FAR_SHARE, rounded up (halving's rung 1, push_rung1_locked). */
int en_rung1_far(int keep);
/* Halving's exploration: defer all but the first --explore of each (class, family) by prior;
 * then, after class k's rung 0, promote the deferred neighbours of its leaders (returns how
 * many). */
void en_defer_by_prior(engine *e);
int en_promote_neighbours(engine *e, int k);
/* Exhaustive's family gate: hold back each portable family's candidates past its
 * FA_EXPLORE_MIN best by prior where an arch-specific family runs beside it (--family-gate). */
void en_gate_portable(engine *e);
/* Exhaustive's stage gate (--stage-gate): hold back each pending candidate past the first value
 * of a depth axis (fa_axis.depth) with a sibling (that axis at its first value) among its
 * class's legal candidates, until the class's other variants are timed. */
void en_gate_depth(engine *e);

#endif /* FA_TUNE_ENGINE_H */
