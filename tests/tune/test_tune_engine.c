/*
 * This file implements the CPU test of the tuning engine (tuner/tune/fa_tune.c) with a
 * synthetic GPU: a backend whose "kernels" have known speeds, one of them wrong. Real NVRTC
 * compiles of a few real variants (a temporary cache), a real database. It checks that
 *   - every correct variant is timed on every problem, the wrong one never wins, and the
 *     stored winner per problem is the synthetic fastest; the eager baseline is timed once
 *     per problem as a yardstick (3 to 10 repetitions, 2% RSE, never raced); interleaved
 *     groups get --rounds rounds, a quarter of the racing margin and one warm-up launch;
 *   - the cubin a compile batch gives each of its variants is held once (one buffer per
 *     content), and cache hits share theirs too;
 *   - a rerun resumes (nothing re-timed), --force re-times;
 *   - halving finds the exhaustive winner on every problem with fewer full timings, ranking
 *     on the shortest problem and the longest of at most 4096 keys;
 *   - a count budget that cannot fit one variant is refused; a small one is honoured;
 *   - two device slots share the work and reach the same winners;
 *   - racing stops only timings that are past the margin over the best on their problem,
 *     never changes a winner, and --race 0 turns it off;
 *   - the finalists are the best --finalists plus every variant within 10% of the best;
 *   - halving's rung 1 times on each problem the survivors of the rung-0 problems that
 *     bracket it and the leaders of the others', and finds exhaustive's winners; rung 0
 *     races against the slowest survivor so far when it is below 1.2x the best;
 *   - halving's exploration compiles the prior's first part, then the neighbours of the
 *     rung-0 leaders, so it reaches a winner the prior ranks late, and never compiles what
 *     no leader neighbours (--explore 1 compiles all);
 *   - in a class of GQA ratios 1 and 8, halving's rung 0 also ranks on the largest ratio's
 *     longest problem of at most 4096 keys, and the GQA problems time its survivors, so a
 *     variant fast only at ratio 8 is found (it used to rank on ratio-1 problems alone);
 *     with ratios 1, 4 and 8 it ranks on each ratio above 1, and a variant fast only at
 *     ratio 4 is found (it used to rank on ratio 8's problem alone); a ratio rung 0 has no
 *     room for times the nearest ranked ratio's survivors (it used to time the largest's);
 *   - the family gate: on sm90, where sm90a runs beside sm80, halving compiles sm80's 8 best
 *     by prior and the rest of its share only when one of them is within 1.25x of the best;
 *   - the legality model's refusals are written after the compiled variants reach the slots
 *     and never under the engine's lock (a locked database does not stop the first check);
 *     a rerun over the same database writes none of them again and still counts them
 *     unsupported, --force writes them again; each is stored once, on its class's first
 *     problem, unless the variant has an ok row for the arch: then on every problem, so the
 *     refusal supersedes the old timing and the variant wins nothing;
 *   - halving's phases run per class: with one class cached and another compiling, the first
 *     one's exploration and rung-1 groups run before the other's last check, rung 1 overlaps
 *     compiling in the stats, and an all-cached run stores the same rows; Ctrl-C with
 *     compiles outstanding, a backend failure and a count budget end the run as they should.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_compile.h"
#include "fa_db.h"
#include "fa_problem_set.h"
#include "fa_session.h"
#include "fa_tune.h"
#include "fa_check.h"
#include "fa_test_variant.h"
#include "fa_util.h"

/* The synthetic GPU: time = f(variant) * problem size; block_n 32 variants compute wrong. */
typedef struct fake {
    int full_timings, quick_timings, checks, retimes;
    int bounded;          /* timings that came with a racing bound */
    int max_group;        /* largest interleaved re-timing */
    int quick_max_n;      /* longest problem (seqlen_k) a quick timing ran on */
    const char *watch;    /* a variant's name: watch_at[log2(seqlen_q / 512)] counts the */
    int watch_at[8];      /* interleaved groups it was in, by problem */
    double quick_best[8]; /* by problem as watch_at: best unraced quick time returned */
    double quick_bound;   /* lowest quick bound over quick_best at the time, 0 none */
    int per_slot[2];      /* jobs each device slot ran */
    int eager_jobs;       /* eager baselines timed, and the last one's protocol */
    fa_timing_opts eager_timing;
    fa_timing_opts retime_timing; /* the last interleaved group's protocol (its first job's) */
    fa_timing_opts full_timing;   /* the last separate (sweep) timing's protocol */
    fa_timing_opts quick_timing;  /* the last rung-0 timing's protocol */
    /* Refusals test: lock_db asks for a second handle on the database (locker) holding its
     * write lock from before the run until the first check (2: until the run is over). */
    int lock_db;
    fa_db *locker;
    /* Per-class test: the order of events by the problem's causal flag (class): a sequence
     * number (from 1; 0 none) of the first and last check, and of the first re-timing. */
    int seq, first_check[2], last_check[2], first_retime[2];
    /* At this many quick timings: set *interrupt (Ctrl-C), or fail the backend. */
    int interrupt_at, fail_at;
    volatile int interrupt;
    /* The distinct cubin buffers the jobs carried, with their contents' hash and size: batch
     * siblings' cubins are one buffer in the engine (en_share_cubin_locked). */
    const void *buf[64];
    uint64_t buf_hash[64];
    size_t buf_size[64];
    int nbuf;
    pthread_mutex_t mu;
} fake;

/* Distinct contents among the buffers the jobs carried (<= nbuf; equal when each content is
 * held once). */
static int contents(const fake *f)
{
    int n = 0;
    for (int i = 0; i < f->nbuf; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = f->buf_hash[j] == f->buf_hash[i] && f->buf_size[j] == f->buf_size[i];
        n += !seen;
    }
    return n;
}

/* Records job's cubin buffer (caller holds f->mu). */
static void note_buffer(fake *f, const fa_job *job)
{
    if (!job->cubin)
        return;
    for (int i = 0; i < f->nbuf; i++)
        if (f->buf[i] == job->cubin)
            return;
    if (f->nbuf == 64)
        return;
    f->buf[f->nbuf] = job->cubin;
    f->buf_hash[f->nbuf] = fa_content_hash(job->cubin, job->cubin_size);
    f->buf_size[f->nbuf++] = job->cubin_size;
}

/* Exploration test: 128-row tiles with 3 stages get this much faster (the prior ranks
 * 3 stages after 2, so the winner is one the prior puts late). */
static int boost_s3;

/* Family gate test: sm90a variants are this many times faster (0: as fast as sm80's). */
static double boost_sm90a;

/* GQA test: 128-row 64-column tiles get this much faster at GQA ratio 8 (as PackGQA tiles,
 * which pack the query heads of a KV head into one tile, pay off only with GQA). */
static int boost_gqa;

/* GQA test, several ratios: 128-row 80-column tiles get this much faster at GQA ratio 4 alone
 * (a PackGQA tile sized for 4 query heads a KV head). */
static int boost_gqa4;

/* GQA test, a ratio without a rung-0 problem: 128-row 96-column 2-stage tiles get this much
 * faster at GQA ratios 2 and 4 (a tile sized for few query heads a KV head). */
static int boost_gqa24;

static double speed(const fa_variant *v, const fa_problem *p)
{
    /* A different winner for short and long sequences: 64-wide tiles win at N <= 512,
     * 128-row tiles beyond. */
    double s =
        100.0 + 2 * fa_variant_param(v, "block_n") + (fa_variant_param(v, "stages") == 2 ? 7 : 0);
    if ((p->seqlen_q > 512) == (fa_variant_param(v, "block_m") == 128))
        s += 60;
    if (fa_variant_param(v, "block_m") == 128 && fa_variant_param(v, "stages") == 3)
        s += boost_s3;
    if (fa_variant_param(v, "block_m") == 128 && fa_variant_param(v, "block_n") == 64 &&
        p->heads_q >= 8 * p->heads_kv)
        s += boost_gqa;
    if (fa_variant_param(v, "block_m") == 128 && fa_variant_param(v, "block_n") == 80 &&
        p->heads_q == 4 * p->heads_kv)
        s += boost_gqa4;
    if (fa_variant_param(v, "block_m") == 128 && fa_variant_param(v, "block_n") == 96 &&
        fa_variant_param(v, "stages") == 2 &&
        (p->heads_q == 2 * p->heads_kv || p->heads_q == 4 * p->heads_kv))
        s += boost_gqa24;
    if (boost_sm90a > 0 && v->family == fa_family_find("sm90a"))
        s *= boost_sm90a;
    if (fa_variant_param(v, "pingpong") == 1) /* never a winner, never a tie */
        s -= 1;
    return s;
}

static fa_status run(void *ctx, int slot, const fa_job *job, fa_measurement *m, fa_err *err)
{
    fake *f = ctx;
    pthread_mutex_lock(&f->mu); /* two slots call in from two threads */
    f->per_slot[slot]++;
    note_buffer(f, job);
    pthread_mutex_unlock(&f->mu);
    m->status = FA_OK;
    usleep(2000); /* a job takes time, so both slots get work */
    if (job->what & FA_JOB_CHECK) {
        pthread_mutex_lock(&f->mu);
        f->checks++;
        const int k = job->problem.causal != 0;
        f->last_check[k] = ++f->seq;
        f->first_check[k] = f->first_check[k] ? f->first_check[k] : f->seq;
        if (f->locker && f->lock_db == 1) { /* the slots got a variant while it was locked */
            CHECK(fa_db_batch_end(f->locker, 0, NULL) == FA_OK);
            fa_db_close(f->locker);
            f->locker = NULL;
        }
        pthread_mutex_unlock(&f->mu);
        CHECK(job->cubin && job->cubin_size > 0);
        if (fa_variant_param(&job->variant, "block_n") == 32) {
            m->status = FA_MISMATCH;
            snprintf(m->message, sizeof m->message, "max err 0.5 > 0.01");
        }
        return FA_OK;
    }
    double flops = fa_problem_flops(&job->problem, NULL, NULL);
    if (job->what & FA_JOB_EAGER_TIME && !job->cubin) {
        pthread_mutex_lock(&f->mu);
        f->eager_jobs++;
        f->eager_timing = job->timing;
        pthread_mutex_unlock(&f->mu);
        m->median_ms = flops / (40.0 * 1e9);
        m->peak_extra_bytes = 1 << 30;
        return FA_OK;
    }
    /* Halving's rung-0 protocol is the one capped at half a second (fa_tune.c's e.quick). */
    int quick = job->timing.max_seconds > 0 && job->timing.max_seconds < 1;
    pthread_mutex_lock(&f->mu);
    if (quick) {
        f->quick_timings++;
        f->quick_timing = job->timing;
        if (job->problem.seqlen_k > f->quick_max_n)
            f->quick_max_n = job->problem.seqlen_k;
        if (f->quick_timings == f->interrupt_at)
            f->interrupt = 1;
        if (f->quick_timings == f->fail_at) {
            pthread_mutex_unlock(&f->mu);
            return FA_ERR(err, FA_ERROR, "the synthetic GPU fell off the bus");
        }
    } else {
        f->full_timings++;
        if (job->timing.max_reps != 0) /* not one of retime()'s jobs */
            f->full_timing = job->timing;
    }
    pthread_mutex_unlock(&f->mu);
    double t = flops / (speed(&job->variant, &job->problem) * 1e9);
    /* quick timings are noisy (+-3%), full ones exact */
    if (quick)
        t *= 1.0 +
             0.03 * sin(fa_variant_param(&job->variant, "block_n") * 7.0 + job->problem.seqlen_q);
    m->median_ms = m->min_ms = t;
    m->reps = quick ? 1 : 20;
    if (job->timing.abandon_ms > 0) {
        pthread_mutex_lock(&f->mu);
        f->bounded++;
        pthread_mutex_unlock(&f->mu);
    }
    int at = 0;
    while (at < 7 && (512 << at) < job->problem.seqlen_q)
        at++;
    pthread_mutex_lock(&f->mu);
    if (quick && job->timing.abandon_ms > 0 && f->quick_best[at] > 0) {
        const double b = job->timing.abandon_ms / f->quick_best[at];
        f->quick_bound = f->quick_bound > 0 && f->quick_bound < b ? f->quick_bound : b;
    }
    if (job->timing.abandon_ms > 0 && t > job->timing.abandon_ms) { /* as the harness races */
        m->raced = 1;
        m->reps = 3;
        snprintf(m->message, sizeof m->message, "raced out");
    }
    if (quick && !m->raced && (f->quick_best[at] <= 0 || t < f->quick_best[at]))
        f->quick_best[at] = t;
    pthread_mutex_unlock(&f->mu);
    m->cv = 0.01;
    m->tflops = flops / t / 1e9;
    m->peak_extra_bytes = 4096;
    return FA_OK;
}

static fa_status retime(void *ctx, int slot, const fa_job *jobs, int n, fa_measurement *ms,
                        fa_err *err)
{
    fake *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->retimes++;
    f->max_group = n > f->max_group ? n : f->max_group;
    if (n > 0)
        f->retime_timing = jobs[0].timing;
    const int k = n > 0 && jobs[0].problem.causal != 0;
    f->seq++;
    f->first_retime[k] = f->first_retime[k] ? f->first_retime[k] : f->seq;
    pthread_mutex_unlock(&f->mu);
    for (int i = 0; i < n; i++) {
        fa_job j = jobs[i];
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&j.variant, name, sizeof name);
        int at = 0;
        while (at < 7 && (512 << at) < j.problem.seqlen_q)
            at++;
        j.what = FA_JOB_TIME;
        j.timing.max_reps = 0;
        run(ctx, slot, &j, &ms[i], err);
        pthread_mutex_lock(&f->mu); /* two slots call in from two threads */
        if (f->watch && !strcmp(name, f->watch))
            f->watch_at[at]++;
        f->full_timings--; /* counted as re-timing, not as a full timing */
        pthread_mutex_unlock(&f->mu);
    }
    return FA_OK;
}

enum { WINNERS_MAX = 16 };

typedef struct winners {
    int n;
    char problem[WINNERS_MAX][FA_PROBLEM_NAME_MAX];
    char best[WINNERS_MAX][FA_VARIANT_NAME_MAX];
    double tf[WINNERS_MAX];
    double slowest_raced_tf[WINNERS_MAX]; /* fastest TFLOP/s among raced-out rows, 0 none */
    int raced;
} winners;

/* Latest ok measurement per (problem, variant): the best variant per problem. */
static int on_row(const fa_db_row *r, void *p)
{
    winners *w = p;
    int i = 0;
    while (i < w->n && strcmp(w->problem[i], r->problem_name))
        i++;
    if (i == w->n) {
        CHECK(w->n < WINNERS_MAX);
        if (w->n == WINNERS_MAX)
            return 1; /* stops the read: more problems than a test set holds */
        snprintf(w->problem[w->n++], FA_PROBLEM_NAME_MAX, "%s", r->problem_name);
        w->tf[i] = -1;
    }
    if (r->m.status == FA_OK)
        CHECK(r->m.peak_extra_bytes == 4096 && r->m.eager_peak_extra_bytes == (1 << 30));
    if (r->m.status == FA_OK && !strcmp(r->m.message, "raced out")) {
        w->raced++;
        if (r->m.tflops > w->slowest_raced_tf[i])
            w->slowest_raced_tf[i] = r->m.tflops;
        return 0; /* a raced-out row is never the best (asserted below) */
    }
    if (r->m.status == FA_OK && r->m.tflops > w->tf[i]) {
        w->tf[i] = r->m.tflops;
        snprintf(w->best[i], FA_VARIANT_NAME_MAX, "%s", r->variant_name);
    }
    return 0;
}

/* Counts the rows of fwd_sm80_hd64_fp16_m128n128w2s2 stored as unsupported. */
static int count_unsupported(const fa_db_row *r, void *p)
{
    if (r->m.status == FA_UNSUPPORTED &&
        !strcmp(r->variant_name, "fwd_sm80_hd64_fp16_m128n128w2s2"))
        ++*(int *)p;
    return 0;
}

/* Counts the winners that are fwd_sm80_hd64_fp16_m128n128w2s2. */
static int count_winner_named(const fa_db_winner *w, void *p)
{
    if (!strcmp(w->variant_name, "fwd_sm80_hd64_fp16_m128n128w2s2"))
        ++*(int *)p;
    return 0;
}

/* Every stored row as text (problem, variant, status, median, repetitions, message), in the
 * database's stable order: two runs that decided alike store the same text. */
typedef struct dump {
    char *buf;
    size_t len;
    FILE *f;
} dump;

static int dump_row(const fa_db_row *r, void *p)
{
    fprintf(((dump *)p)->f, "%s %s %s %.9g %d %s\n", r->problem_name, r->variant_name, r->status,
            r->m.median_ms, r->m.reps, r->m.message);
    return 0;
}

static char *dump_rows(const char *path)
{
    dump d = {0};
    fa_db *db = NULL;
    fa_err err = {0};
    d.f = open_memstream(&d.buf, &d.len);
    CHECK(d.f != NULL);
    CHECK(fa_db_open(path, FA_DB_READONLY, &db, &err) == FA_OK);
    CHECK(fa_db_measurements(db, NULL, dump_row, &d, &err) == FA_OK);
    fa_db_close(db);
    fclose(d.f);
    return d.buf;
}

static void best_per_problem_on(fa_db *db, const char *arch, winners *w)
{
    memset(w, 0, sizeof *w);
    fa_db_filter f = {0};
    f.arch = arch;
    CHECK(fa_db_measurements(db, &f, on_row, w, NULL) == FA_OK);
}

static void best_per_problem(fa_db *db, winners *w)
{
    best_per_problem_on(db, "sm80", w);
}

/* Every problem has the same winner in a and b (the exhaustive run's and another's). */
static void same_winners(const winners *a, const winners *b)
{
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (!strcmp(a->problem[i], b->problem[j]))
                CHECK_MSG(!strcmp(a->best[i], b->best[j]), "%s: %s, then %s", a->problem[i],
                          a->best[i], b->best[j]);
}

/* best_per_problem of the database at path. */
static void winners_of(const char *path, winners *w)
{
    fa_db *db = NULL;
    fa_err err;
    memset(w, 0, sizeof *w);
    CHECK(fa_db_open(path, FA_DB_READONLY, &db, &err) == FA_OK);
    if (db)
        best_per_problem(db, w);
    fa_db_close(db);
}

/* The run's summary as `fa-tune tune` prints it (fa_tune_print_summary), from db and the
 * run's stats; the caller frees it. */
static char *summary_of(fa_db *db, const fa_tune_opts *o, const fa_tune_stats *st)
{
    fa_tune_session ss;
    memset(&ss, 0, sizeof ss);
    ss.arch = o->arch, ss.timed = 1, ss.gpus = 1, ss.db = db, ss.stats = *st;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    CHECK(mem != NULL);
    if (!mem)
        return NULL;
    fa_tune_print_summary(&ss, o, mem);
    fclose(mem);
    return buf;
}

static fa_status tune_slots(const char *dbpath, fa_compiler *c, fa_tune_opts *o, fake *f, int slots,
                            fa_tune_stats *st, fa_err *err)
{
    pthread_mutex_init(&f->mu, NULL);
    fa_db *db = NULL;
    CHECK(fa_db_open(dbpath, FA_DB_CREATE, &db, err) == FA_OK);
    fa_db_device dev;
    fa_db_device_compile_only(o->arch, 13000, 13000, &dev);
    snprintf(dev.name, sizeof dev.name, "synthetic GPU");
    fa_tune_env env = {0};
    env.compiler = c;
    env.db = db;
    CHECK(fa_db_device_upsert(db, &dev, &env.device_id, err) == FA_OK);
    CHECK(fa_db_run_begin(db, env.device_id, "test", fa_compiler_source_hash(c), "test",
                          &env.run_id, err) == FA_OK);
    env.source_hash = fa_compiler_source_hash(c);
    if (f->lock_db) { /* lock the database until the first check */
        CHECK(fa_db_open(dbpath, 0, &f->locker, err) == FA_OK);
        CHECK(fa_db_batch_begin(f->locker, err) == FA_OK);
    }
    env.backend = (fa_tune_backend){f, slots, run, retime};
    env.interrupted = &f->interrupt;
    fa_status s = fa_tune_run(o, &env, st, err);
    fa_db_run_end(db, env.run_id, s, NULL);
    fa_db_close(db);
    return s;
}

static fa_status tune(const char *dbpath, fa_compiler *c, fa_tune_opts *o, fake *f,
                      fa_tune_stats *st, fa_err *err)
{
    return tune_slots(dbpath, c, o, f, 1, st, err);
}

/* The GQA cases: exhaustive on o's n problems (DIR/TAG_exhaustive.db) must pick `boosted`
 * exactly on the problems whose name holds `marker`; halving (DIR/TAG.db) must make `quick`
 * rung-0 timings and find exhaustive's winner on every problem. */
static void gqa_case(fa_compiler *c, fa_tune_opts *o, const char *dir, const char *tag, int n,
                     const char *boosted, const char *marker, int quick)
{
    char dbe[512], dbh[512];
    snprintf(dbe, sizeof dbe, "%s/%s_exhaustive.db", dir, tag);
    snprintf(dbh, sizeof dbh, "%s/%s.db", dir, tag);
    fa_tune_stats st;
    fa_err err;
    o->strategy = FA_STRATEGY_EXHAUSTIVE;
    fake fe = {0};
    CHECK(tune(dbe, c, o, &fe, &st, &err) == FA_OK);
    winners we, wh;
    winners_of(dbe, &we);
    CHECK(we.n == n);
    for (int i = 0; i < we.n; i++)
        CHECK_MSG(!strcmp(we.best[i], boosted) == (strstr(we.problem[i], marker) != NULL), "%s: %s",
                  we.problem[i], we.best[i]);
    o->strategy = FA_STRATEGY_HALVING;
    fake fh = {0};
    CHECK(tune(dbh, c, o, &fh, &st, &err) == FA_OK);
    CHECK_MSG(fh.quick_timings == quick, "%s: %d quick timings", tag, fh.quick_timings);
    winners_of(dbh, &wh);
    CHECK(wh.n == n);
    same_winners(&we, &wh);
}

int main(void)
{
    char dir[] = "/tmp/fa_tune_engine_XXXXXX";
    CHECK(mkdtemp(dir));
    char cache[512], db1[512], db2[512];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(db1, sizeof db1, "%s/exhaustive.db", dir);
    snprintf(db2, sizeof db2, "%s/halving.db", dir);
    fa_err err = {0};
    fa_compiler *c = NULL;
    fa_compiler_opts co = {0};
    co.cache_dir = cache;
    CHECK(fa_compiler_new(&co, &c, &err) == FA_OK);

    /* Six real variants at head dim 64, fp16, non-causal: 64/128 rows x 32/64/128 columns. */
    static const char *names[] = {
        "fwd_sm80_hd64_fp16_m64n32w4s2",  "fwd_sm80_hd64_fp16_m64n64w4s2",
        "fwd_sm80_hd64_fp16_m64n128w4s1", "fwd_sm80_hd64_fp16_m128n32w4s2",
        "fwd_sm80_hd64_fp16_m128n64w4s2", "fwd_sm80_hd64_fp16_m128n128w4s2"};
    fa_variant vs[6];
    for (int i = 0; i < 6; i++)
        CHECK(fa_variant_parse(names[i], &vs[i], &err) == FA_OK);

    fa_problem_axes ax;
    fa_problem_axes_default(64, &ax);
    ax.n_dtypes = 1;
    ax.dtypes[0] = FA_DTYPE_FP16;
    ax.n_causal = ax.n_varlen = ax.n_gqa = 1;
    ax.n_seqlens = 3;
    ax.seqlens[0] = 512, ax.seqlens[1] = 2048, ax.seqlens[2] = 8192;
    fa_problem *ps = NULL;
    int np = 0;
    CHECK(fa_problem_set_build(&ax, &ps, &np, &err) == FA_OK);
    CHECK(np == 3);

    fa_tune_opts o;
    fa_tune_opts_default(&o);
    o.arch = fa_arch_find("sm80");
    o.problems = ps;
    o.n_problems = np;
    o.variants = vs;
    o.n_variants = 6;
    o.progress = 0;

    /* 1. exhaustive */
    fake f = {0};
    fa_tune_stats st;
    fa_status s = tune(db1, c, &o, &f, &st, &err);
    if (s != FA_OK)
        fprintf(stderr, "tune: %s\n", err.msg);
    CHECK(s == FA_OK);
    CHECK(st.variants == 6 && st.checked == 6 && st.mismatches == 2);
    CHECK(st.timed == 4 * 3); /* 4 correct variants x 3 problems */
    /* One compile batch gave the six their cubins: the engine kept one buffer per content
     * (six before it shared them), and the jobs carried it. */
    CHECK_MSG(f.nbuf >= 1 && f.nbuf == contents(&f) && f.nbuf < 6, "%d buffers, %d contents",
              f.nbuf, contents(&f));
    CHECK(f.full_timings == 12 && f.quick_timings == 0);
    CHECK(f.retimes == 3); /* finalists of each problem re-timed interleaved */
    /* A separate timing only picks finalists: one repetition, raced. */
    CHECK_MSG(f.full_timing.min_reps == 1 && f.full_timing.max_reps == 1 &&
                  f.full_timing.warmup_reps == 1 && f.full_timing.abandon_ms > 0,
              "sweep: %d..%d reps, %d warm-ups, bound %g", f.full_timing.min_reps,
              f.full_timing.max_reps, f.full_timing.warmup_reps, f.full_timing.abandon_ms);
    /* The eager baseline, a yardstick: one repetition, never raced. */
    CHECK_MSG(f.eager_jobs == 3 && f.eager_timing.min_reps == 1 && f.eager_timing.max_reps == 1 &&
                  f.eager_timing.abandon_ms == 0,
              "%d eager jobs, %d..%d reps, bound %g", f.eager_jobs, f.eager_timing.min_reps,
              f.eager_timing.max_reps, f.eager_timing.abandon_ms);
    /* Interleaved groups: --rounds (10) rounds, a quarter of the 1.2 margin, one warm-up. */
    CHECK_MSG(f.retime_timing.min_reps == 10 && f.retime_timing.warmup_reps == 1 &&
                  fabs(f.retime_timing.interleave_margin - 1.05) < 1e-12,
              "groups: %d rounds, %d warm-ups, margin %g", f.retime_timing.min_reps,
              f.retime_timing.warmup_reps, f.retime_timing.interleave_margin);
    /* Racing: the prior tries the 128-row tiles first, so the 64-row ones, 1.25x and more
     * slower at N > 512, meet a bound they cannot make. */
    CHECK(f.bounded > 0 && st.raced > 0);
    winners w;
    fa_db *db = NULL;
    CHECK(fa_db_open(db1, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &w);
    CHECK(w.n == 3);
    CHECK(w.raced == st.raced);
    /* The run's summary table names each problem's winner (one pass over the database). */
    {
        char *buf = summary_of(db, &o, &st);
        for (int i = 0; buf && i < 3; i++) {
            char line[512];
            snprintf(line, sizeof line, "%-44s %-46s", w.problem[i], w.best[i]);
            CHECK_MSG(strstr(buf, line) != NULL, "the summary lacks '%s':\n%s", line, buf);
        }
        free(buf);
    }
    for (int i = 0; i < 3; i++) /* only timings past the 1.2x margin were cut */
        CHECK(w.slowest_raced_tf[i] * 1.2 < w.tf[i]);
    for (int i = 0; i < 3; i++) {
        CHECK(strstr(w.best[i], "n32") == NULL); /* the wrong variants never win */
        if (strstr(w.problem[i], "q512_"))
            CHECK(!strcmp(w.best[i], "fwd_sm80_hd64_fp16_m64n128w4s1"));
        else
            CHECK(!strcmp(w.best[i], "fwd_sm80_hd64_fp16_m128n128w4s2"));
    }
    fa_db_close(db);

    /* 2. a rerun resumes: nothing compiled to GPU, nothing timed */
    fake f2 = {0};
    CHECK(tune(db1, c, &o, &f2, &st, &err) == FA_OK);
    CHECK(st.timed == 0 && f2.checks == 0 && st.skipped == 6 * 3);
    /* ...and --force re-times */
    o.force = 1;
    fake f3 = {0};
    CHECK(tune(db1, c, &o, &f3, &st, &err) == FA_OK);
    CHECK(st.timed == 12 && f3.checks == 6);
    /* every cubin from the cache this time, each sibling's entry its own copy: shared too */
    CHECK_MSG(f3.nbuf >= 1 && f3.nbuf == contents(&f3) && f3.nbuf < 6, "%d buffers, %d contents",
              f3.nbuf, contents(&f3));
    o.force = 0;

    /* 3. halving: same winners, fewer full timings */
    o.strategy = FA_STRATEGY_HALVING;
    o.finalists = 2; /* survivors: the best 2 on each rung-0 problem */
    fake f4 = {0};
    CHECK(tune(db2, c, &o, &f4, &st, &err) == FA_OK);
    /* rung 0: 4 correct variants x {512, 2048, 8192}: the shortest problem, the longest of
     * at most 4096 keys, and the longest */
    CHECK(f4.quick_timings == 4 * 3);
    CHECK(f4.quick_max_n == 8192);
    /* rung 0 ranks only: one repetition each, raced */
    CHECK_MSG(f4.quick_timing.min_reps == 1 && f4.quick_timing.max_reps == 1 &&
                  f4.quick_timing.abandon_ms > 0,
              "rung 0: %d..%d reps, bound %g", f4.quick_timing.min_reps, f4.quick_timing.max_reps,
              f4.quick_timing.abandon_ms);
    /* rung 1: 2 survivors (the two winners), interleaved in one group per problem, which is
     * also the final: no separate timings, no second re-timing */
    CHECK(f4.full_timings == 0 && f4.retimes == 3);
    CHECK(st.timed == 2 * 3); /* quick timings are not stored */
    o.finalists = 3;
    CHECK(fa_db_open(db2, FA_DB_READONLY, &db, &err) == FA_OK);
    winners w2;
    best_per_problem(db, &w2);
    fa_db_close(db);
    same_winners(&w, &w2);

    /* 4. budgets */
    o.strategy = FA_STRATEGY_EXHAUSTIVE;
    o.force = 1;
    o.budget_count = 2; /* fewer than the 3 problems one variant needs */
    fake f5 = {0};
    s = tune(db1, c, &o, &f5, &st, &err);
    CHECK(s == FA_INVALID && strstr(err.msg, "cannot fit one variant"));
    o.budget_count = 5;
    fake f6 = {0};
    CHECK(tune(db1, c, &o, &f6, &st, &err) == FA_OK);
    CHECK(st.timed == 5 && st.budget_cut > 0);

    /* 5. two device slots (--devices 0,1): the work is shared, the winners are the same */
    char db3[512];
    snprintf(db3, sizeof db3, "%s/two_gpus.db", dir);
    o.budget_count = 0;
    o.force = 0;
    fake f7 = {0};
    CHECK(tune_slots(db3, c, &o, &f7, 2, &st, &err) == FA_OK);
    CHECK(st.timed == 12 && st.checked == 6);
    CHECK(f7.per_slot[0] > 0 && f7.per_slot[1] > 0);
    CHECK(fa_db_open(db3, FA_DB_READONLY, &db, &err) == FA_OK);
    winners w3;
    best_per_problem(db, &w3);
    fa_db_close(db);
    same_winners(&w, &w3);

    /* 6. --race 0: every variant timed fully, no bound sent, the same winners */
    char db4[512];
    snprintf(db4, sizeof db4, "%s/no_race.db", dir);
    o.race_margin = 0;
    fake f8 = {0};
    CHECK(tune(db4, c, &o, &f8, &st, &err) == FA_OK);
    CHECK(st.timed == 12 && st.raced == 0 && f8.bounded == 0);
    CHECK(fa_db_open(db4, FA_DB_READONLY, &db, &err) == FA_OK);
    winners w4;
    best_per_problem(db, &w4);
    fa_db_close(db);
    CHECK(w4.raced == 0);
    same_winners(&w, &w4);

    /* 7. finalists: with --finalists 1, only a variant within 10% of the best joins it.
     * m128n112w4s2 is 8-10% behind m128n128w4s2 on every problem, m128n64w4s2 30% or more. */
    fa_variant band[3];
    static const char *band_names[] = {"fwd_sm80_hd64_fp16_m128n128w4s2",
                                       "fwd_sm80_hd64_fp16_m128n112w4s2",
                                       "fwd_sm80_hd64_fp16_m128n64w4s2"};
    for (int i = 0; i < 3; i++)
        CHECK(fa_variant_parse(band_names[i], &band[i], &err) == FA_OK);
    char db5[512];
    snprintf(db5, sizeof db5, "%s/band.db", dir);
    o.variants = band;
    o.n_variants = 3;
    o.race_margin = 1.2;
    o.finalists = 1;
    fake f9 = {0};
    CHECK(tune(db5, c, &o, &f9, &st, &err) == FA_OK);
    CHECK(st.timed == 9 && f9.retimes == 3 && f9.max_group == 2);

    /* 8. --family: the class's space is that family's alone, on an arch where both run; with
     * named variants, only those of the family are kept. */
    fa_tune_opts fo;
    fa_tune_opts_default(&fo);
    fo.arch = fa_arch_find("sm90");
    CHECK(fo.arch != NULL);
    fa_problem key = ps[0];
    key.head_dim = 128;
    key.dtype = FA_DTYPE_BF16;
    fa_space_filter sf = {
        .dtypes = 1u << FA_DTYPE_BF16, .causal = FA_SPACE_OFF, .varlen = FA_SPACE_OFF};
    fa_variant *all = NULL, *only = NULL;
    int nall = 0, nonly = 0, n80 = 0;
    CHECK(fa_tune_class_variants(&fo, &key, &sf, &all, &nall, &err) == FA_OK);
    fo.family = fa_family_find("sm90a");
    CHECK(fo.family != NULL);
    CHECK(fa_tune_class_variants(&fo, &key, &sf, &only, &nonly, &err) == FA_OK);
    for (int i = 0; i < nall; i++)
        n80 += all[i].family == fa_family_sm80();
    CHECK(n80 > 0 && nonly > 0 && nall == n80 + nonly);
    for (int i = 0; i < nonly; i++)
        CHECK(only[i].family == fo.family);
    free(all);
    free(only);
    fa_variant mixed[2];
    CHECK(fa_variant_parse("fwd_sm80_hd128_bf16_m128n64w4s2", &mixed[0], &err) == FA_OK);
    CHECK(fa_variant_parse("fwd_sm90a_hd128_bf16_m128n128s2", &mixed[1], &err) == FA_OK);
    fo.variants = mixed;
    fo.n_variants = 2;
    fo.family = fa_family_sm80();
    CHECK(fa_tune_class_variants(&fo, &key, &sf, &only, &nonly, &err) == FA_OK);
    CHECK(nonly == 1 && only[0].family == fa_family_sm80());
    free(only);

    /* 9. halving's exploration. In the prior's order: five 128-row 2-stage tiles (prior 0),
     * then three 64-row ones and three 128-row 3-stage ones (prior 1, in this order), then
     * m64n48s2 and m128n48s1. With --explore 0.01 the first FA_EXPLORE_MIN (8) are ranked
     * first: the 3-stage tiles, fastest here, wait. Each is one step (stages) from a rung-0
     * leader (m128n96..128s2 at 2048 keys), so round 1 promotes them; no leader is one step
     * from the last two, which are never compiled. */
    static const char *ex_names[] = {
        "fwd_sm80_hd64_fp16_m128n64w4s2",  "fwd_sm80_hd64_fp16_m128n80w4s2",
        "fwd_sm80_hd64_fp16_m128n96w4s2",  "fwd_sm80_hd64_fp16_m128n112w4s2",
        "fwd_sm80_hd64_fp16_m128n128w4s2", "fwd_sm80_hd64_fp16_m64n64w4s2",
        "fwd_sm80_hd64_fp16_m64n80w4s2",   "fwd_sm80_hd64_fp16_m64n96w4s2",
        "fwd_sm80_hd64_fp16_m128n96w4s3",  "fwd_sm80_hd64_fp16_m128n112w4s3",
        "fwd_sm80_hd64_fp16_m128n128w4s3", "fwd_sm80_hd64_fp16_m64n48w4s2",
        "fwd_sm80_hd64_fp16_m128n48w4s1",  "fwd_sm80_hd64_fp16_m128n128w2s2" /* illegal */};
    enum { NEX = sizeof ex_names / sizeof *ex_names };
    fa_variant ex[NEX];
    for (int i = 0; i < NEX; i++)
        CHECK(fa_variant_parse(ex_names[i], &ex[i], &err) == FA_OK);
    boost_s3 = 100;
    o.variants = ex;
    o.n_variants = NEX;
    o.finalists = 3;
    o.strategy = FA_STRATEGY_EXHAUSTIVE;
    char db6[512], db7[512], db8[512];
    snprintf(db6, sizeof db6, "%s/explore_exhaustive.db", dir);
    snprintf(db7, sizeof db7, "%s/explore.db", dir);
    snprintf(db8, sizeof db8, "%s/explore_all.db", dir);
    fake f10 = {0};
    CHECK(tune(db6, c, &o, &f10, &st, &err) == FA_OK);
    CHECK(f10.checks == NEX - 1 && st.unexplored == 0 && st.unsupported == 1);
    CHECK(fa_db_open(db6, FA_DB_READONLY, &db, &err) == FA_OK);
    winners wx;
    best_per_problem(db, &wx);
    fa_db_close(db);
    for (int i = 0; i < wx.n; i++) /* the boosted tile wins everywhere */
        CHECK_MSG(!strcmp(wx.best[i], "fwd_sm80_hd64_fp16_m128n128w4s3"), "%s: %s", wx.problem[i],
                  wx.best[i]);
    o.strategy = FA_STRATEGY_HALVING;
    o.explore = 0.01;
    fake f11 = {0};
    CHECK(tune(db7, c, &o, &f11, &st, &err) == FA_OK);
    CHECK_MSG(f11.checks == NEX - 3 && st.unexplored == 2, "checked %d, unexplored %d", f11.checks,
              st.unexplored);
    CHECK(fa_db_open(db7, FA_DB_READONLY, &db, &err) == FA_OK);
    /* the legality model's refusal is stored once, on the class's first problem (the model
     * does not look at the problem), though the compile producer, not the setup, writes it */
    int refused = 0;
    fa_db_filter uf = {0};
    uf.arch = "sm80";
    CHECK(fa_db_measurements(db, &uf, count_unsupported, &refused, NULL) == FA_OK);
    CHECK_MSG(refused == 1, "%d unsupported rows", refused);
    winners we;
    best_per_problem(db, &we);
    fa_db_close(db);
    same_winners(&wx, &we);
    o.explore = 1; /* every variant, as before exploration */
    fake f12 = {0};
    CHECK(tune(db8, c, &o, &f12, &st, &err) == FA_OK);
    CHECK(f12.checks == NEX - 1 && st.unexplored == 0);

    /* 10. the legality model's refusals wait for the compiled variants, and the slots never
     * wait for them: with the database locked by another handle until the first check, that
     * check comes (the refusals used to be written first, under the engine's lock: nothing
     * ran until the busy timeout failed the run); all are stored by the end. */
    char db9[512];
    snprintf(db9, sizeof db9, "%s/refusals.db", dir);
    setenv("FA_DB_BUSY_TIMEOUT_MS", "3000", 1);
    fake f13 = {.lock_db = 1};
    s = tune(db9, c, &o, &f13, &st, &err);
    unsetenv("FA_DB_BUSY_TIMEOUT_MS");
    CHECK_MSG(s == FA_OK, "%s", err.msg);
    CHECK(f13.locker == NULL && f13.checks == NEX - 1);
    CHECK(st.unsupported == 1);
    refused = 0;
    CHECK(fa_db_open(db9, FA_DB_READONLY, &db, &err) == FA_OK);
    CHECK(fa_db_measurements(db, &uf, count_unsupported, &refused, NULL) == FA_OK);
    fa_db_close(db);
    CHECK_MSG(refused == 1, "%d unsupported rows", refused);
    /* 10b. a database that stays locked: the writer thread's failed write ends the run with
     * the database's error (the slots do not go on as if stored, and nothing hangs). */
    {
        char dbl[512];
        snprintf(dbl, sizeof dbl, "%s/locked.db", dir);
        setenv("FA_DB_BUSY_TIMEOUT_MS", "200", 1);
        fake fl = {.lock_db = 2};
        fa_err lerr = {0};
        const fa_status ls = tune(dbl, c, &o, &fl, &st, &lerr);
        unsetenv("FA_DB_BUSY_TIMEOUT_MS");
        CHECK_MSG(ls == FA_BUSY && strstr(lerr.msg, "locked"), "a locked database: %s (%s)",
                  fa_status_str(ls), lerr.msg);
        if (fl.locker) {
            CHECK(fa_db_batch_end(fl.locker, 0, NULL) == FA_OK);
            fa_db_close(fl.locker);
        }
    }
    /* A rerun over the same database resumes the refusal (no row written again) and still
     * counts the variant unsupported; --force writes its rows again. */
    fake f14 = {0};
    CHECK(tune(db9, c, &o, &f14, &st, &err) == FA_OK);
    CHECK_MSG(st.unsupported == 1, "rerun: %d unsupported", st.unsupported);
    refused = 0;
    CHECK(fa_db_open(db9, FA_DB_READONLY, &db, &err) == FA_OK);
    CHECK(fa_db_measurements(db, &uf, count_unsupported, &refused, NULL) == FA_OK);
    fa_db_close(db);
    CHECK_MSG(refused == 1, "rerun: %d unsupported rows", refused);
    o.force = 1;
    fake f15 = {0};
    CHECK(tune(db9, c, &o, &f15, &st, &err) == FA_OK);
    o.force = 0;
    CHECK(st.unsupported == 1);
    refused = 0;
    CHECK(fa_db_open(db9, FA_DB_READONLY, &db, &err) == FA_OK);
    CHECK(fa_db_measurements(db, &uf, count_unsupported, &refused, NULL) == FA_OK);
    fa_db_close(db);
    CHECK_MSG(refused == 2, "--force: %d unsupported rows", refused);
    /* A refused variant with an ok row for the arch (timed before the legality model refused
     * it, and fastest there by far) gets its refusal on every problem, so the newer refusal
     * supersedes the old timing and the variant is no winner anywhere. */
    {
        fa_db *w = NULL;
        int64_t dev_id = -1, run_id = -1;
        fa_db_device dev;
        fa_db_device_compile_only(o.arch, 13000, 13000, &dev);
        snprintf(dev.name, sizeof dev.name, "older GPU");
        fa_variant rv;
        CHECK(fa_variant_parse("fwd_sm80_hd64_fp16_m128n128w2s2", &rv, &err) == FA_OK);
        fa_measurement om;
        fa_measurement_init(&om);
        om.status = FA_OK;
        om.median_ms = 1e-3;
        om.tflops = 1e6;
        om.reps = 3;
        CHECK(fa_db_open(db9, 0, &w, &err) == FA_OK);
        CHECK(fa_db_device_upsert(w, &dev, &dev_id, &err) == FA_OK);
        CHECK(fa_db_run_begin(w, dev_id, "old", "old source", "old", &run_id, &err) == FA_OK);
        CHECK(fa_db_record(w, run_id, "sm80", &rv, &ps[1], &om, &err) == FA_OK);
        CHECK(fa_db_run_end(w, run_id, FA_OK, &err) == FA_OK);
        fa_db_close(w);
        fake f16 = {0};
        CHECK(tune(db9, c, &o, &f16, &st, &err) == FA_OK);
        CHECK(st.unsupported == 1);
        refused = 0;
        CHECK(fa_db_open(db9, FA_DB_READONLY, &db, &err) == FA_OK);
        CHECK(fa_db_measurements(db, &uf, count_unsupported, &refused, NULL) == FA_OK);
        int stale = 0;
        CHECK(fa_db_winners(db, "sm80", count_winner_named, &stale, &err) == FA_OK);
        fa_db_close(db);
        CHECK_MSG(refused == 4, "after an ok row: %d unsupported rows", refused);
        CHECK_MSG(stale == 0, "the refused variant still wins %d keys", stale);
    }
    boost_s3 = 0;

    /* 11. halving's rung-1 groups: a problem times the survivors of the rung-0 problems that
     * bracket it in keys and only the leaders (a third) of the others'. Problems 512, 1024,
     * 2048, 8192 keys; rung 0 ranks on 512, 2048 and 8192; --finalists 6 keeps 6 of the 13
     * on each. m64n80s2 is 5th or 6th at 512 (64-row tiles are fast there), 9th or later on
     * the longer ones: it is timed at 512 and at 1024 (between 512 and 2048), not at 2048
     * or 8192 (it was in every group: the union of all survivors). The winners are still
     * exhaustive's. */
    ax.n_seqlens = 4;
    ax.seqlens[0] = 512, ax.seqlens[1] = 1024, ax.seqlens[2] = 2048, ax.seqlens[3] = 8192;
    fa_problem *ps4 = NULL;
    int np4 = 0;
    CHECK(fa_problem_set_build(&ax, &ps4, &np4, &err) == FA_OK);
    CHECK(np4 == 4);
    o.problems = ps4;
    o.n_problems = np4;
    o.finalists = 6;
    o.explore = 1;
    char db10[512], db11[512];
    snprintf(db10, sizeof db10, "%s/near_exhaustive.db", dir);
    snprintf(db11, sizeof db11, "%s/near.db", dir);
    o.strategy = FA_STRATEGY_EXHAUSTIVE;
    fake f16 = {0};
    CHECK(tune(db10, c, &o, &f16, &st, &err) == FA_OK);
    o.strategy = FA_STRATEGY_HALVING;
    fake f17 = {.watch = "fwd_sm80_hd64_fp16_m64n80w4s2"};
    CHECK(tune(db11, c, &o, &f17, &st, &err) == FA_OK);
    CHECK_MSG(f17.retimes == 4 && f17.watch_at[0] == 1 && f17.watch_at[1] == 1 &&
                  f17.watch_at[2] == 0 && f17.watch_at[4] == 0,
              "m64n80 timed in groups at 512/1k/2k/8k: %d %d %d %d", f17.watch_at[0],
              f17.watch_at[1], f17.watch_at[2], f17.watch_at[4]);
    winners wn1, wn2;
    CHECK(fa_db_open(db10, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &wn1);
    fa_db_close(db);
    CHECK(fa_db_open(db11, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &wn2);
    fa_db_close(db);
    CHECK(wn1.n == 4 && wn2.n == 4);
    same_winners(&wn1, &wn2);
    /* ...and rung 0 races against the slowest survivor so far when that is below 1.2x the
     * best: with --finalists 2 the second best, about 2% behind at 2k and 8k keys (the bound
     * was 1.2x the best on every quick timing). */
    char db12[512];
    snprintf(db12, sizeof db12, "%s/near2.db", dir);
    o.finalists = 2;
    fake f18 = {0};
    CHECK(tune(db12, c, &o, &f18, &st, &err) == FA_OK);
    CHECK_MSG(f18.quick_bound > 0 && f18.quick_bound < 1.1, "lowest quick bound %.3fx the best",
              f18.quick_bound);
    CHECK(fa_db_open(db12, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &wn2);
    fa_db_close(db);
    same_winners(&wn1, &wn2);
    free(ps4);

    /* 12. GQA: problems 512 and 2048 keys at ratios 1 and 8, the ratio-1 ones first (as
     * fa_problem_set_build orders them). m128n64s2 is 12th of 13 at 512 keys and 9th at 2048
     * at ratio 1, but the fastest at ratio 8 (boost_gqa). Rung 0 used to rank on 512 and
     * 2048 keys at ratio 1 only; --finalists 2 keeps 2 of the 13 on each, and its leader
     * alone on the other: m128n64s2 never reached rung 1 and halving's ratio-8 winners were
     * m128n128s2, 15-17% slower. Now rung 0 ranks on the ratio-8 2048-key problem too (13
     * more quick timings), whose survivors the ratio-8 problems time. */
    ax.n_seqlens = 2;
    ax.seqlens[0] = 512, ax.seqlens[1] = 2048;
    ax.n_gqa = 2;
    ax.gqa[0] = 1, ax.gqa[1] = 8;
    fa_problem *psg = NULL;
    int npg = 0;
    CHECK(fa_problem_set_build(&ax, &psg, &npg, &err) == FA_OK);
    CHECK(npg == 4 && psg[0].heads_q == psg[0].heads_kv &&
          psg[npg - 1].heads_q == 8 * psg[npg - 1].heads_kv);
    o.problems = psg;
    o.n_problems = npg;
    o.variants = ex;
    o.n_variants = NEX;
    o.finalists = 2;
    o.explore = 1;
    boost_gqa = 200; /* the boosted tile wins at ratio 8 alone (32 heads: 4 KV heads) */
    gqa_case(c, &o, dir, "gqa", 4, "fwd_sm80_hd64_fp16_m128n64w4s2", "_kv4_", 13 * 3);
    boost_gqa = 0;
    free(psg);

    /* 12b. GQA ratios 1, 4 and 8 (512 and 2048 keys each): m128n80s2 is the fastest at ratio 4
     * alone (boost_gqa4) and ranks low at 1 and 8. Ranking on the largest ratio only, the
     * ratio-4 problems timed the ratio-8 survivors and never it (halving's winners there were
     * m128n128s2); now rung 0 ranks each ratio's 2048-key problem (13 x 4 quick timings) and
     * the ratio-4 problems time their own ratio's survivors: exhaustive's winners. */
    ax.n_gqa = 3;
    ax.gqa[0] = 1, ax.gqa[1] = 4, ax.gqa[2] = 8;
    fa_problem *ps3 = NULL;
    int np3 = 0;
    CHECK(fa_problem_set_build(&ax, &ps3, &np3, &err) == FA_OK);
    CHECK(np3 == 6);
    o.problems = ps3;
    o.n_problems = np3;
    boost_gqa4 = 200; /* the boosted tile wins at ratio 4 alone (32 heads: 8 KV heads) */
    gqa_case(c, &o, dir, "gqa3", 6, "fwd_sm80_hd64_fp16_m128n80w4s2", "_kv8_", 13 * 4);
    boost_gqa4 = 0;
    free(ps3);

    /* 12c. GQA ratios 1, 2, 4, 8, 16 and 32 (512 and 2048 keys each): rung 0 has room
     * (FA_RUNG0_MAX) for the two key problems and ratios 32, 16, 8 and 4; ratio 2 gets none.
     * m128n96s2 is the fastest at ratio 2 and second at ratio 4 (behind m128n80s2, boost_gqa4),
     * slow elsewhere. The ratio-2 problems used to time ratio 32's survivors (the largest
     * ratio's), and of ratio 4's only its leader (a far share): never m128n96s2, so halving's
     * ratio-2 winners were the ratio-1 tiles, 8-10% slower. Now they time the nearest ratio's
     * survivors, ratio 4's, and find it. */
    ax.n_gqa = 6;
    for (int i = 0; i < 6; i++)
        ax.gqa[i] = 1 << i;
    fa_problem *ps6 = NULL;
    int np6 = 0;
    CHECK(fa_problem_set_build(&ax, &ps6, &np6, &err) == FA_OK);
    CHECK(np6 == 12 && ps6[np6 - 1].heads_kv == 1);
    o.problems = ps6;
    o.n_problems = np6;
    boost_gqa4 = 200;
    boost_gqa24 = 100; /* ratio 2 (32 heads: 16 KV heads) alone it wins */
    gqa_case(c, &o, dir, "gqa6", 12, "fwd_sm80_hd64_fp16_m128n96w4s2", "_kv16_", 13 * 6);
    boost_gqa4 = boost_gqa24 = 0;
    free(ps6);

    /* 13. halving's phases run per class. Class A (non-causal: the 13 legal tiles of 9, whose
     * exploration promotes the three 3-stage ones) is compiled before the run, class B
     * (causal, 4 tiles) is not; one compile thread, one variant a program: B's compiles take
     * seconds, A's are cache hits. A's exploration round (its last checks) and A's rung 1 (its
     * first re-timing) come before B's last check, so before B's last compile finished -- with
     * global phases both waited for every class's rung 0 -- and the profile's rung 1 overlaps
     * compiling. A second run, every compile cached (another interleaving, two slots), stores
     * the same rows; the winners are exhaustive's. */
    static const char *b_names[] = {
        "fwd_sm80_hd64_fp16_causal_m64n64w4s2", "fwd_sm80_hd64_fp16_causal_m64n128w4s1",
        "fwd_sm80_hd64_fp16_causal_m128n64w4s2", "fwd_sm80_hd64_fp16_causal_m128n128w4s2"};
    enum { NB = sizeof b_names / sizeof *b_names };
    fa_variant ab[NEX + NB];
    for (int i = 0; i < NEX; i++)
        ab[i] = ex[i];
    for (int i = 0; i < NB; i++)
        CHECK(fa_variant_parse(b_names[i], &ab[NEX + i], &err) == FA_OK);
    char cache1[600];
    snprintf(cache1, sizeof cache1, "%s/cache1", dir);
    fa_compiler *c1 = NULL;
    fa_compiler_opts co1 = {.cache_dir = cache1, .batch = 1};
    CHECK(fa_compiler_new(&co1, &c1, &err) == FA_OK);
    ax.n_seqlens = 3;
    ax.seqlens[0] = 512, ax.seqlens[1] = 2048, ax.seqlens[2] = 8192;
    ax.n_gqa = 1;
    ax.gqa[0] = 1;
    fa_problem *psc = NULL;
    int npc = 0;
    CHECK(fa_problem_set_build(&ax, &psc, &npc, &err) == FA_OK); /* non-causal only: A */
    CHECK(npc == 3 && !psc[0].causal);
    o.variants = ab;
    o.n_variants = NEX + NB;
    o.problems = psc;
    o.n_problems = npc;
    o.finalists = 3;
    o.explore = 1;
    o.strategy = FA_STRATEGY_EXHAUSTIVE;
    boost_s3 = 100;
    char db15[512], db16[512], db17[512], db18[512];
    snprintf(db15, sizeof db15, "%s/classes_warm_a.db", dir);
    snprintf(db16, sizeof db16, "%s/classes_cold_b.db", dir);
    snprintf(db17, sizeof db17, "%s/classes_cached.db", dir);
    snprintf(db18, sizeof db18, "%s/classes_exhaustive.db", dir);
    fake f21 = {0};
    CHECK(tune(db15, c1, &o, &f21, &st, &err) == FA_OK); /* A's 13 compiled into cache1 */
    CHECK(st.compiled == NEX - 1);
    free(psc);
    ax.n_causal = 2;
    ax.causal[0] = 0, ax.causal[1] = 1;
    CHECK(fa_problem_set_build(&ax, &psc, &npc, &err) == FA_OK);
    CHECK(npc == 6 && !psc[0].causal && psc[5].causal); /* A is the first class */
    o.problems = psc;
    o.n_problems = npc;
    o.strategy = FA_STRATEGY_HALVING;
    o.explore = 0.01;
    o.jobs = 1;
    fake f22 = {0};
    CHECK(tune(db16, c1, &o, &f22, &st, &err) == FA_OK);
    CHECK_MSG(st.compiled == NB && st.cache_hits == NEX - 3 && st.unexplored == 2,
              "compiled %d, cache hits %d, unexplored %d", st.compiled, st.cache_hits,
              st.unexplored);
    CHECK_MSG(f22.checks == NEX - 3 + NB && f22.first_retime[0] > 0 && f22.first_check[1] > 0,
              "%d checks", f22.checks);
    CHECK_MSG(f22.last_check[0] < f22.last_check[1] && f22.first_retime[0] < f22.last_check[1],
              "A: last check %d, first re-timing %d; B: checks %d..%d", f22.last_check[0],
              f22.first_retime[0], f22.first_check[1], f22.last_check[1]);
    CHECK_MSG(st.rung1_s > 0 && st.rung1_compiling_s > 0 && st.compiling_s > 0,
              "rung 1 %.3f s, %.3f s of it while compiling", st.rung1_s, st.rung1_compiling_s);
    o.jobs = 0;
    fake f23 = {0};
    CHECK(tune_slots(db17, c1, &o, &f23, 2, &st, &err) == FA_OK);
    CHECK_MSG(st.compiled == 0, "compiled %d", st.compiled);
    char *rows_cold = dump_rows(db16), *rows_cached = dump_rows(db17);
    CHECK(rows_cold && strlen(rows_cold) > 0);
    CHECK_MSG(rows_cold && rows_cached && !strcmp(rows_cold, rows_cached),
              "rows differ:\n%s\n---\n%s", rows_cold, rows_cached);
    free(rows_cold);
    free(rows_cached);
    o.strategy = FA_STRATEGY_EXHAUSTIVE;
    fake f24 = {0};
    CHECK(tune(db18, c1, &o, &f24, &st, &err) == FA_OK);
    winners wc1, wc2;
    CHECK(fa_db_open(db18, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &wc1);
    fa_db_close(db);
    CHECK(fa_db_open(db16, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &wc2);
    fa_db_close(db);
    CHECK(wc1.n == 6 && wc2.n == 6);
    for (int i = 0; i < wc1.n; i++)
        for (int j = 0; j < wc2.n; j++)
            if (!strcmp(wc1.problem[i], wc2.problem[j]))
                CHECK_MSG(!strcmp(wc1.best[i], wc2.best[j]), "%s: exhaustive %s, halving %s",
                          wc1.problem[i], wc1.best[i], wc2.best[j]);
    /* ...Ctrl-C with compiles outstanding (two more causal tiles, not yet compiled, one
     * compile thread): the run stops as interrupted, and a rerun over the same database resumes
     * to exhaustive's winners (its tiles included). */
    static const char *more_names[] = {"fwd_sm80_hd64_fp16_causal_m64n80w4s2",
                                       "fwd_sm80_hd64_fp16_causal_m128n80w4s2"};
    fa_variant abm[NEX + NB + 2];
    for (int i = 0; i < NEX + NB; i++)
        abm[i] = ab[i];
    for (int i = 0; i < 2; i++)
        CHECK(fa_variant_parse(more_names[i], &abm[NEX + NB + i], &err) == FA_OK);
    o.variants = abm;
    o.n_variants = NEX + NB + 2;
    o.strategy = FA_STRATEGY_HALVING;
    o.jobs = 1;
    char db19[512], db20[512];
    snprintf(db19, sizeof db19, "%s/classes_interrupted.db", dir);
    snprintf(db20, sizeof db20, "%s/classes_more_exhaustive.db", dir);
    fake f25 = {.interrupt_at = 3};
    s = tune(db19, c1, &o, &f25, &st, &err);
    CHECK_MSG(s == FA_INTERRUPTED && f25.retimes == 0, "%s (%d re-timings)", err.msg, f25.retimes);
    CHECK_MSG(st.compiled < 2 && st.budget_cut > 0, "compiled %d, %d cut", st.compiled,
              st.budget_cut);
    fake f26 = {0};
    CHECK(tune(db19, c1, &o, &f26, &st, &err) == FA_OK);
    o.strategy = FA_STRATEGY_EXHAUSTIVE;
    fake f27 = {0};
    CHECK(tune(db20, c1, &o, &f27, &st, &err) == FA_OK);
    CHECK(fa_db_open(db20, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &wc1);
    fa_db_close(db);
    CHECK(fa_db_open(db19, FA_DB_READONLY, &db, &err) == FA_OK);
    best_per_problem(db, &wc2);
    fa_db_close(db);
    CHECK(wc1.n == 6 && wc2.n == 6);
    same_winners(&wc1, &wc2);
    /* ...a backend failure in one class's rung 0 fails the run, its message kept, with the
     * other class still to rank and compile (nothing waits for it forever). */
    o.strategy = FA_STRATEGY_HALVING;
    o.force = 1;
    fake f28 = {.fail_at = 4};
    s = tune(db19, c1, &o, &f28, &st, &err);
    CHECK_MSG(s == FA_ERROR && strstr(err.msg, "fell off the bus"), "%s", err.msg);
    /* ...and a count budget: the rung-1 groups stop once it is spent (a group started runs
     * whole), the rest counted cut. */
    o.budget_count = 6;
    fake f29 = {0};
    CHECK(tune(db19, c1, &o, &f29, &st, &err) == FA_OK);
    CHECK_MSG(st.timed >= 6 && st.timed < 6 + FA_RETIME_MAX && st.budget_cut > 0,
              "%d timed, %d cut", st.timed, st.budget_cut);
    o.budget_count = 0;
    o.force = 0;
    o.jobs = 0;
    boost_s3 = 0;
    free(psc);
    fa_compiler_free(c1);

    /* 14. The family gate. On sm90, ten sm80 variants (--explore 0.99: all ten are its share)
     * and three sm90a ones, three problems. sm80 first compiles its 8 best by prior; when
     * sm90a is 2x faster the other two are never compiled (they were before the gate), when
     * it is only 1.1x faster they join at the first exploration round (halving) or once the
     * class's other variants are timed (exhaustive). --family-gate 0 compiles all ten, and a
     * gate of 2.5 lets them through when sm90a is 2x faster. Exhaustive resumed on its own
     * database decides the same from the stored times. */
    static const char *gate_names[] = {
        "fwd_sm80_hd64_fp16_m128n64w4s2",  "fwd_sm80_hd64_fp16_m128n80w4s2",
        "fwd_sm80_hd64_fp16_m128n96w4s2",  "fwd_sm80_hd64_fp16_m128n112w4s2",
        "fwd_sm80_hd64_fp16_m128n128w4s2", "fwd_sm80_hd64_fp16_m64n64w4s2",
        "fwd_sm80_hd64_fp16_m64n80w4s2",   "fwd_sm80_hd64_fp16_m64n96w4s2",
        "fwd_sm80_hd64_fp16_m128n96w4s3",  "fwd_sm80_hd64_fp16_m128n112w4s3",
        "fwd_sm90a_hd64_fp16_m128n64s2",   "fwd_sm90a_hd64_fp16_m128n128s2",
        "fwd_sm90a_hd64_fp16_m192n128s2"};
    enum { NGATE = sizeof gate_names / sizeof *gate_names };
    fa_variant gv[NGATE];
    for (int i = 0; i < NGATE; i++)
        CHECK(fa_variant_parse(gate_names[i], &gv[i], &err) == FA_OK);
    o.arch = fa_arch_find("sm90");
    CHECK(o.arch != NULL);
    o.problems = ps;
    o.n_problems = np;
    o.variants = gv;
    o.n_variants = NGATE;
    o.finalists = 2;
    o.explore = 0.99;
    const double boosts[2] = {2.0, 1.1}, gates[3] = {FA_FAMILY_GATE, 0, 2.5};
    for (int run = 0; run < 2 * 2 * 3; run++) {
        const int b = run % 2, g = run / 2 % 3;
        o.strategy = run < 6 ? FA_STRATEGY_HALVING : FA_STRATEGY_EXHAUSTIVE;
        o.family_gate = gates[g];
        char dbg[512];
        snprintf(dbg, sizeof dbg, "%s/gate%d.db", dir, run);
        boost_sm90a = boosts[b];
        fake fg = {0};
        CHECK(tune(dbg, c, &o, &fg, &st, &err) == FA_OK);
        const int shut = gates[g] > 0 && boosts[b] > gates[g];
        CHECK_MSG(fg.checks == (shut ? NGATE - 2 : NGATE) && st.gated == (shut ? 2 : 0) &&
                      st.unexplored == st.gated,
                  "%s, gate %.2f, sm90a %.1fx: checked %d, gated %d, unexplored %d",
                  fa_strategy_name(o.strategy), gates[g], boosts[b], fg.checks, st.gated,
                  st.unexplored);
        CHECK_MSG(st.compiled + st.cache_hits == (shut ? NGATE - 2 : NGATE),
                  "%s: compiled %d, cached %d", fa_strategy_name(o.strategy), st.compiled,
                  st.cache_hits);
        if (o.strategy == FA_STRATEGY_EXHAUSTIVE) {
            /* Run again on the same database: everything is resumed, and the gate, judging
             * by the stored times, stays as it was (it used to open on a resume: no time). */
            fake again = {0};
            CHECK(tune(dbg, c, &o, &again, &st, &err) == FA_OK);
            CHECK_MSG(st.compiled + st.cache_hits == 0 && again.checks == 0 &&
                          st.gated == (shut ? 2 : 0),
                      "exhaustive resumed, gate %.2f, sm90a %.1fx: compiled %d, checked %d, "
                      "gated %d",
                      gates[g], boosts[b], st.compiled + st.cache_hits, again.checks, st.gated);
            if (shut && g == 0) {
                /* ...and a wider gate on the rerun lets the two through: compiled, checked and
                 * timed on every problem, each problem's eager baseline timed for them (no
                 * other variant had anything left to time there). */
                o.family_gate = 2.5;
                fake wider = {0};
                CHECK(tune(dbg, c, &o, &wider, &st, &err) == FA_OK);
                CHECK_MSG(wider.checks == 2 && st.gated == 0 && st.timed == 2 * np &&
                              wider.eager_jobs == np,
                          "wider gate on resume: checked %d, gated %d, timed %d, eager %d",
                          wider.checks, st.gated, st.timed, wider.eager_jobs);
            }
        }
        winners wgt;
        CHECK(fa_db_open(dbg, FA_DB_READONLY, &db, &err) == FA_OK);
        best_per_problem_on(db, "sm90", &wgt);
        fa_db_close(db);
        CHECK(wgt.n == np);
        for (int i = 0; i < wgt.n; i++) /* sm90a is faster either way */
            CHECK_MSG(strstr(wgt.best[i], "_sm90a_") != NULL, "%s: %s", wgt.problem[i],
                      wgt.best[i]);
    }
    boost_sm90a = 0;

    /* 15. The stage gate (exhaustive): sm90a's stages and pingpong. Ten sm90a tiles on sm90:
     * m128n64 with 2, 3 and 4 stages, with 2 stages and pingpong, and with 3 and pingpong (two
     * siblings: m128n64s2pp and m128n64s3), all 1.43-1.8x behind the best everywhere;
     * m128n128 with 2 and 3 stages and with 2 and pingpong (its 2-stage one is the best on the
     * long problems, pingpong 1 slower); m192n128s2 (the best at 512); and m128n96s3 without
     * its 2-stage sibling in the list (nothing to judge it by: compiled). At the default gate
     * (1.10) the four m128n64 ones past 2 stages or with pingpong are never compiled -- s3pp
     * because the gate held its siblings back -- and the winners are those of --stage-gate 0,
     * which compiles all ten; a gate of 2.0 lets them through, s3pp once both its siblings are
     * timed. Resumed on its own database the gate decides the same from the stored times, and
     * a wider gate on the rerun compiles, checks and times the four on every problem. Halving
     * has no stage gate. */
    static const char *stage_names[] = {
        "fwd_sm90a_hd64_fp16_m128n64s2",   "fwd_sm90a_hd64_fp16_m128n64s3",
        "fwd_sm90a_hd64_fp16_m128n64s4",   "fwd_sm90a_hd64_fp16_m128n64s2pp",
        "fwd_sm90a_hd64_fp16_m128n64s3pp", "fwd_sm90a_hd64_fp16_m128n128s2",
        "fwd_sm90a_hd64_fp16_m128n128s3",  "fwd_sm90a_hd64_fp16_m128n128s2pp",
        "fwd_sm90a_hd64_fp16_m192n128s2",  "fwd_sm90a_hd64_fp16_m128n96s3"};
    enum { NSTAGE = sizeof stage_names / sizeof *stage_names };
    fa_variant sv[NSTAGE];
    for (int i = 0; i < NSTAGE; i++)
        CHECK(fa_variant_parse(stage_names[i], &sv[i], &err) == FA_OK);
    o.variants = sv;
    o.n_variants = NSTAGE;
    o.family_gate = FA_FAMILY_GATE;
    winners ws_open;
    const double stage_gates[4] = {0, FA_STAGE_GATE, 2.0, FA_STAGE_GATE};
    for (int run = 0; run < 4; run++) {
        o.strategy = run < 3 ? FA_STRATEGY_EXHAUSTIVE : FA_STRATEGY_HALVING;
        o.explore = 1;
        o.stage_gate = stage_gates[run];
        char dbs[512];
        snprintf(dbs, sizeof dbs, "%s/stage%d.db", dir, run);
        fake fs = {0};
        CHECK(tune(dbs, c, &o, &fs, &st, &err) == FA_OK);
        const int shut = run == 1;
        CHECK_MSG(fs.checks == (shut ? NSTAGE - 4 : NSTAGE) && st.stage_gated == (shut ? 4 : 0) &&
                      st.unexplored == st.stage_gated && st.gated == 0,
                  "%s, stage gate %.2f: checked %d, stage-gated %d, unexplored %d",
                  fa_strategy_name(o.strategy), o.stage_gate, fs.checks, st.stage_gated,
                  st.unexplored);
        winners w;
        CHECK(fa_db_open(dbs, FA_DB_READONLY, &db, &err) == FA_OK);
        best_per_problem_on(db, "sm90", &w);
        /* the summary says what the gate left and how to have it all */
        char *sum = summary_of(db, &o, &st);
        const char *said = "4 not compiled (more stages or pingpong of tiles whose version "
                           "without was more than 1.10x behind the best; --stage-gate 0 for all)";
        CHECK_MSG(sum && (strstr(sum, said) != NULL) == shut, "stage gate %.2f: %s", o.stage_gate,
                  sum ? sum : "(none)");
        free(sum);
        fa_db_close(db);
        CHECK(w.n == np);
        if (run == 0)
            ws_open = w;
        else
            same_winners(&ws_open, &w);
        if (shut) {
            fake again = {0};
            CHECK(tune(dbs, c, &o, &again, &st, &err) == FA_OK);
            CHECK_MSG(st.compiled + st.cache_hits == 0 && again.checks == 0 && st.stage_gated == 4,
                      "stage gate resumed: compiled %d, checked %d, stage-gated %d",
                      st.compiled + st.cache_hits, again.checks, st.stage_gated);
            o.stage_gate = 2.0;
            fake wider = {0};
            CHECK(tune(dbs, c, &o, &wider, &st, &err) == FA_OK);
            CHECK_MSG(wider.checks == 4 && st.stage_gated == 0 && st.timed == 4 * np,
                      "wider stage gate on resume: checked %d, stage-gated %d, timed %d",
                      wider.checks, st.stage_gated, st.timed);
        }
    }
    o.stage_gate = FA_STAGE_GATE;

    fa_compiler_free(c);
    free(ps);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("tune engine: ok\n");
    return 0;
}
