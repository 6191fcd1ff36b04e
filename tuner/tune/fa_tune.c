/*
 * This file implements the tuning engine (see fa_tune.h for the order of work): classes of
 * problems, the overlapped compile pool and device-slot threads, resume, budgets, the
 * strategies and interleaved finalist re-timing.
 */
#include "fa_tune.h"
#include "fa_util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fa_problem_set.h"
#include "fa_progress.h"
#include "fa_space.h"
#include "fa_sweep.h"

const char *fa_strategy_name(fa_strategy s)
{
    switch (s) {
    case FA_STRATEGY_RANDOM:
        return "random";
    case FA_STRATEGY_HALVING:
        return "halving";
    default:
        return "exhaustive";
    }
}

fa_status fa_strategy_parse(const char *s, fa_strategy *out)
{
    static const fa_strategy all[] = {FA_STRATEGY_EXHAUSTIVE, FA_STRATEGY_RANDOM,
                                      FA_STRATEGY_HALVING};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(s, fa_strategy_name(all[i]))) {
            *out = all[i];
            return FA_OK;
        }
    return FA_INVALID;
}

void fa_tune_opts_default(fa_tune_opts *o)
{
    memset(o, 0, sizeof *o);
    o->strategy = FA_STRATEGY_EXHAUSTIVE;
    o->shard_count = 1;
    o->finalists = 3;
    o->race_margin = 1.2;
    o->progress = 1;
    o->seed = 0x5eed;
}

void fa_tune_check_problem(const fa_problem *p, fa_problem *check)
{
    *check = *p;
    check->batch = 2;
    check->seqlen_q = check->seqlen_k = 1000;
    check->seed = 0; /* fresh inputs per check; the harness records the seed */
}

/* ---- the engine's state ------------------------------------------------------------------ */

typedef struct tclass {
    fa_problem key; /* dtype, head dim, causal, varlen of its problems */
    int *probs;     /* indices into opts->problems */
    int np;
    fa_problem check;
    int rung0[2]; /* halving: class positions of the shortest and longest problem */
    int nrung0;
} tclass;

enum { CAND_PENDING = 0, CAND_READY, CAND_OUT };

typedef struct cand {
    fa_variant v;
    char name[FA_VARIANT_NAME_MAX];
    int cls;
    int state;             /* CAND_* */
    int passed;            /* check passed: may be timed */
    fa_compile_output out; /* cubin kept until the end for re-timing */
    unsigned char *todo;   /* per class problem: 1 = still to measure (resume) */
    double *ms;            /* per class problem: latest stored median, -1 none */
    double *quick;         /* halving rung 0: quick median per class problem (never stored:
                              3 repetitions rank candidates, they are not results), -1 none */
    int64_t *peak;         /* per class problem: measured extra memory, -1 none (re-timing measures
                              time only, so its record borrows this figure) */
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
    unsigned char *eager_done;
    int *class_of, *pos_of; /* per problem: class and position in it */
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
    double interleave_margin; /* racing inside interleaved groups (fa_timing_opts) */
} engine;

/* Finalists: within this factor of the best stored time, up to this many per problem. */
#define FA_FINAL_BAND 1.10
#define FA_FINALISTS_MAX 16

static int budget_spent(engine *e)
{
    const fa_tune_opts *o = e->o;
    if (o->budget_count > 0 && e->timings >= o->budget_count)
        return 1;
    if (o->budget_seconds > 0 && fa_now_s() - e->t0 >= o->budget_seconds)
        return 1;
    return e->env->interrupted && *e->env->interrupted;
}

static fa_status push(engine *e, item it)
{
    pthread_mutex_lock(&e->mu);
    if (e->qtail == e->qcap) {
        int cap = e->qcap ? 2 * e->qcap : 256;
        item *grown = realloc(e->q, (size_t)cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&e->mu);
            return FA_NOMEM;
        }
        e->q = grown;
        e->qcap = cap;
    }
    e->q[e->qtail++] = it;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return FA_OK;
}

static void fail(engine *e, fa_status st, const fa_err *err)
{
    pthread_mutex_lock(&e->mu);
    if (e->fatal == FA_OK) {
        e->fatal = st;
        e->fatal_err = *err;
    }
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* Store m for (cand c or the eager pseudo-entry, problem). Caller holds e->mu. */
static fa_status record_locked(engine *e, const fa_variant *v, int problem, fa_measurement *m)
{
    fa_err err = {0};
    if (e->eager_done[problem]) {
        m->eager_median_ms = e->eager_ms[problem];
        m->eager_peak_extra_bytes = e->eager_peak[problem];
    }
    fa_status st = fa_db_record(e->env->db, e->env->run_id, e->o->arch->name, v,
                                &e->o->problems[problem], m, &err);
    if (st != FA_OK && e->fatal == FA_OK) {
        e->fatal = st;
        e->fatal_err = err;
    }
    return st;
}

/* Record the same outcome (unsupported, compile error, mismatch, fault) on every problem of
 * the candidate's class that is still to measure. Caller holds e->mu. */
static void record_all_locked(engine *e, cand *c, const fa_measurement *proto, fa_status status,
                              const char *why, const fa_build_info *b)
{
    tclass *k = &e->cls[c->cls];
    for (int i = 0; i < k->np; i++) {
        if (!c->todo[i])
            continue;
        fa_measurement m;
        if (proto)
            m = *proto; /* figures measured once (a failed check) go with every problem */
        else
            fa_measurement_init(&m);
        m.status = status;
        if (b)
            m.build = *b;
        snprintf(m.message, sizeof m.message, "%s", why ? why : "");
        record_locked(e, &c->v, k->probs[i], &m);
        c->todo[i] = 0;
    }
}

/* Racing: the bound a timing on problem pi must stay under to be timed fully. */
static void race_bound(engine *e, int pi, fa_job *job)
{
    pthread_mutex_lock(&e->mu);
    double best = e->best_ms[pi];
    pthread_mutex_unlock(&e->mu);
    job->timing.abandon_ms = e->o->race_margin > 0 && best > 0 ? best * e->o->race_margin : 0;
}

/* After a stored timing (caller holds e->mu): a new best bounds later timings. */
static void race_update_locked(engine *e, int pi, const fa_measurement *m)
{
    if (m->raced)
        e->st->raced++;
    else if (m->status == FA_OK && m->median_ms > 0 &&
             (e->best_ms[pi] < 0 || m->median_ms < e->best_ms[pi]))
        e->best_ms[pi] = m->median_ms;
}

static void job_for(engine *e, const cand *c, const fa_problem *p, unsigned what, fa_job *job)
{
    memset(job, 0, sizeof *job);
    job->problem = *p;
    job->variant = c->v;
    job->cubin = c->out.cubin;
    job->cubin_size = c->out.cubin_size;
    job->symbol = c->out.lowered_name;
    job->build = c->out.build;
    job->what = what;
    job->timing = e->sweep;
}

static fa_status run_job(engine *e, int slot, const fa_job *job, fa_measurement *m, fa_err *err)
{
    double t = fa_now_s();
    fa_measurement_init(m);
    fa_status st = e->env->backend.run(e->env->backend.ctx, slot, job, m, err);
    pthread_mutex_lock(&e->mu);
    e->st->gpu_busy_s += fa_now_s() - t;
    pthread_mutex_unlock(&e->mu);
    return st;
}

static void do_eager(engine *e, int slot, int pi)
{
    fa_job job = {0};
    job.problem = e->o->problems[pi];
    job.what = FA_JOB_EAGER_TIME;
    job.timing = e->o->timing;
    fa_measurement m;
    fa_err err = {0};
    fa_status st = run_job(e, slot, &job, &m, &err);
    if (st != FA_OK) {
        fail(e, st, &err);
        return;
    }
    pthread_mutex_lock(&e->mu);
    e->eager_ms[pi] = m.status == FA_OK ? m.median_ms : -1;
    e->eager_peak[pi] = m.status == FA_OK ? m.peak_extra_bytes : -1;
    if (m.status == FA_OK && m.eager_median_ms > 0) {
        e->eager_ms[pi] = m.eager_median_ms;
        e->eager_peak[pi] = m.eager_peak_extra_bytes;
    }
    e->eager_done[pi] = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* Halving rung 0: quick timings of a checked candidate on its class's shortest and longest
 * problem, kept in memory to rank candidates; nothing is stored. */
static void rung0(engine *e, int slot, int ci)
{
    cand *c = &e->cands[ci];
    tclass *k = &e->cls[c->cls];
    for (int r = 0; r < k->nrung0; r++) {
        int i = k->rung0[r];
        pthread_mutex_lock(&e->mu);
        int go = !budget_spent(e) && e->fatal == FA_OK;
        pthread_mutex_unlock(&e->mu);
        if (!go)
            return;
        fa_job job;
        fa_measurement m;
        fa_err err = {0};
        const int pi = k->probs[i];
        job_for(e, c, &e->o->problems[pi], FA_JOB_TIME, &job);
        job.timing = e->quick;
        pthread_mutex_lock(&e->mu); /* racing: a quick time past the bound ranks last anyway */
        if (e->o->race_margin > 0 && e->quick_best[pi] > 0)
            job.timing.abandon_ms = e->quick_best[pi] * e->o->race_margin;
        pthread_mutex_unlock(&e->mu);
        fa_status st = run_job(e, slot, &job, &m, &err);
        if (st != FA_OK) {
            fail(e, st, &err);
            return;
        }
        pthread_mutex_lock(&e->mu);
        c->quick[i] = m.status == FA_OK ? m.median_ms : -1;
        if (m.status == FA_OK && !m.raced &&
            (e->quick_best[pi] < 0 || m.median_ms < e->quick_best[pi]))
            e->quick_best[pi] = m.median_ms;
        if (m.status == FA_FAULT) { /* a fault is a result: stored, and the variant is out */
            e->st->faults++;
            m.build = c->out.build;
            record_all_locked(e, c, NULL, FA_FAULT, m.message, &c->out.build);
        }
        pthread_mutex_unlock(&e->mu);
        if (m.status == FA_FAULT)
            return;
    }
}

/* Check a freshly compiled candidate, then time it on every problem of its class still to
 * measure (under halving, rung 0 instead). */
static void do_variant(engine *e, int slot, int ci)
{
    cand *c = &e->cands[ci];
    tclass *k = &e->cls[c->cls];
    fa_job job;
    fa_measurement m;
    fa_err err = {0};
    job_for(e, c, &k->check, FA_JOB_CHECK, &job);
    fa_status st = run_job(e, slot, &job, &m, &err);
    if (st != FA_OK) {
        fail(e, st, &err);
        return;
    }
    pthread_mutex_lock(&e->mu);
    e->st->checked++;
    if (m.status != FA_OK) {
        if (m.status == FA_MISMATCH)
            e->st->mismatches++;
        else if (m.status == FA_FAULT)
            e->st->faults++;
        char why[256];
        snprintf(why, sizeof why, "check on %dx%d failed: %.200s", k->check.seqlen_q,
                 k->check.seqlen_k, m.message[0] ? m.message : fa_status_str(m.status));
        record_all_locked(e, c, &m, m.status, why, &c->out.build);
        pthread_mutex_unlock(&e->mu);
        return;
    }
    c->passed = 1;
    pthread_mutex_unlock(&e->mu);

    if (e->o->strategy == FA_STRATEGY_HALVING) {
        rung0(e, slot, ci);
        return;
    }
    for (int i = 0; i < k->np; i++) {
        pthread_mutex_lock(&e->mu);
        int go = c->todo[i] && !budget_spent(e) && e->fatal == FA_OK;
        if (c->todo[i] && !go)
            e->st->budget_cut++;
        pthread_mutex_unlock(&e->mu);
        if (!go)
            continue;
        int pi = k->probs[i];
        job_for(e, c, &e->o->problems[pi], FA_JOB_TIME, &job);
        race_bound(e, pi, &job);
        st = run_job(e, slot, &job, &m, &err);
        if (st != FA_OK) {
            fail(e, st, &err);
            return;
        }
        pthread_mutex_lock(&e->mu);
        while (!e->eager_done[pi] && e->fatal == FA_OK)
            pthread_cond_wait(&e->cv, &e->mu); /* another slot is timing its eager baseline */
        m.build = c->out.build;
        record_locked(e, &c->v, pi, &m);
        race_update_locked(e, pi, &m);
        c->todo[i] = 0;
        c->ms[i] = m.status == FA_OK ? m.median_ms : -1;
        c->peak[i] = m.peak_extra_bytes;
        e->timings++;
        e->st->timed++;
        if (m.status == FA_FAULT)
            e->st->faults++;
        fa_progress_timed(&e->prog, c->name, m.status == FA_OK ? m.tflops : -1);
        pthread_mutex_unlock(&e->mu);
        if (m.status == FA_FAULT)
            break; /* a faulting variant is not run again */
    }
}

/* Re-time a problem's finalists (or halving's rung-1 survivors) interleaved, racing them
 * against each other, and store the results. */
static void do_finalists(engine *e, int slot, const item *it)
{
    const int n = it->nfinals < FA_RETIME_MAX ? it->nfinals : FA_RETIME_MAX;
    fa_job *jobs = malloc(sizeof *jobs * (size_t)n);
    fa_measurement *ms = malloc(sizeof *ms * (size_t)n);
    fa_err err = {0};
    if (!jobs || !ms) {
        free(jobs);
        free(ms);
        fail(e, FA_ERR(&err, FA_NOMEM, "out of memory"), &err);
        return;
    }
    const int pos = e->pos_of[it->problem];
    pthread_mutex_lock(&e->mu);
    int go = e->fatal == FA_OK && !(it->rung1 && budget_spent(e));
    if (!go && it->rung1)
        e->st->budget_cut += n;
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; go && i < n; i++) {
        job_for(e, &e->cands[it->finals[i]], &e->o->problems[it->problem], FA_JOB_TIME, &jobs[i]);
        jobs[i].timing = e->o->timing; /* the full protocol (zero: the harness's defaults) */
        jobs[i].timing.interleave_margin = e->interleave_margin;
        fa_measurement_init(&ms[i]);
    }
    double t = fa_now_s();
    fa_status st =
        go ? e->env->backend.retime(e->env->backend.ctx, slot, jobs, n, ms, &err) : FA_OK;
    pthread_mutex_lock(&e->mu);
    e->st->gpu_busy_s += fa_now_s() - t;
    pthread_mutex_unlock(&e->mu);
    if (st != FA_OK)
        fail(e, st, &err);
    if (st != FA_OK || !go) {
        free(jobs);
        free(ms);
        return;
    }
    pthread_mutex_lock(&e->mu);
    while (!e->eager_done[it->problem] && e->fatal == FA_OK)
        pthread_cond_wait(&e->cv, &e->mu);
    for (int i = 0; i < n; i++) {
        cand *c = &e->cands[it->finals[i]];
        ms[i].build = c->out.build;
        if (ms[i].peak_extra_bytes < 0)
            ms[i].peak_extra_bytes = c->peak[pos];
        record_locked(e, &c->v, it->problem, &ms[i]);
        if (!it->rung1)
            continue;
        c->todo[pos] = 0;
        c->ms[pos] = ms[i].status == FA_OK ? ms[i].median_ms : -1;
        c->peak[pos] = ms[i].peak_extra_bytes;
        e->timings++;
        e->st->timed++;
        e->st->raced += ms[i].raced;
        e->st->faults += ms[i].status == FA_FAULT;
        fa_progress_timed(&e->prog, c->name, ms[i].status == FA_OK ? ms[i].tflops : -1);
    }
    pthread_mutex_unlock(&e->mu);
    free(jobs);
    free(ms);
}

typedef struct slot_arg {
    engine *e;
    int slot;
} slot_arg;

static void *slot_main(void *p)
{
    slot_arg *a = p;
    engine *e = a->e;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        while (e->qhead == e->qtail && !e->producers_done && e->fatal == FA_OK)
            pthread_cond_wait(&e->cv, &e->mu);
        if (e->fatal != FA_OK || e->qhead == e->qtail) {
            pthread_mutex_unlock(&e->mu);
            return NULL;
        }
        item it = e->q[e->qhead++];
        pthread_mutex_unlock(&e->mu);
        switch (it.kind) {
        case ITEM_EAGER:
            do_eager(e, a->slot, it.problem);
            break;
        case ITEM_VARIANT:
            do_variant(e, a->slot, it.cand);
            break;
        case ITEM_FINALISTS:
            do_finalists(e, a->slot, &it);
            break;
        }
    }
}

/* Runs the slot threads over the queue until it is drained and producers_done is set by
 * `produce` (called on this thread while the slots work). */
static void run_phase(engine *e, void (*produce)(engine *), pthread_t *threads, slot_arg *args)
{
    int slots = e->env->backend.slots > 0 ? e->env->backend.slots : 1;
    e->producers_done = 0;
    int started = 0;
    for (int s = 0; s < slots; s++) {
        args[s].e = e;
        args[s].slot = s;
        if (pthread_create(&threads[s], NULL, slot_main, &args[s]) == 0)
            started++;
    }
    produce(e);
    pthread_mutex_lock(&e->mu);
    e->producers_done = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    if (started == 0) { /* no thread could start: run the queue here */
        args[0].e = e;
        args[0].slot = 0;
        slot_main(&args[0]);
    }
    for (int s = 0; s < started; s++)
        pthread_join(threads[s], NULL);
}

/* Phase 1 producer: compile every candidate in the pool, hand each to the slots as it is
 * ready. */
static void produce_compiled(engine *e)
{
    fa_err err = {0};
    fa_compile_pool *pool = NULL;
    fa_status st = fa_compile_pool_new(e->env->compiler, e->o->jobs, &pool, &err);
    if (st != FA_OK) {
        fail(e, st, &err);
        return;
    }
    for (int i = 0; i < e->ncands; i++) {
        if (e->cands[i].state != CAND_PENDING)
            continue;
        st = fa_compile_pool_submit(pool, &e->cands[i].v, e->o->arch, (void *)(intptr_t)i, &err);
        if (st != FA_OK) {
            fail(e, st, &err);
            break;
        }
    }
    while (fa_compile_pool_pending(pool) > 0) {
        fa_variant v;
        void *tag = NULL;
        fa_compile_output out;
        memset(&out, 0, sizeof out);
        st = fa_compile_pool_next(pool, &v, &tag, &out, &err);
        if (st == FA_NOT_FOUND)
            break;
        if (st != FA_OK) {
            fail(e, st, &err);
            break;
        }
        int ci = (int)(intptr_t)tag;
        cand *c = &e->cands[ci];
        pthread_mutex_lock(&e->mu);
        c->out = out;
        int stop = e->fatal != FA_OK || budget_spent(e);
        if (out.status == FA_OK && !out.build.cache_hit)
            e->st->compiled++;
        if (out.build.cache_hit)
            e->st->cache_hits++;
        fa_progress_compiled(&e->prog, c->name);
        if (out.status != FA_OK) {
            e->st->compile_errors += out.status == FA_COMPILE_ERROR;
            char why[256];
            fa_compile_log_summary(out.log, why, sizeof why);
            record_all_locked(e, c, NULL, out.status, why, &out.build);
            c->state = CAND_OUT;
        } else if (fa_compile_spills(&out.build)) {
            e->st->spilled++;
            char why[128];
            snprintf(why, sizeof why, "spills %d bytes of stores, %d of loads",
                     out.build.spill_stores, out.build.spill_loads);
            record_all_locked(e, c, NULL, FA_UNSUPPORTED, why, &out.build);
            c->state = CAND_OUT;
        } else {
            c->state = CAND_READY;
        }
        pthread_mutex_unlock(&e->mu);
        if (c->state == CAND_READY && !stop)
            push(e, (item){.kind = ITEM_VARIANT, .cand = ci});
        if (stop && e->env->interrupted && *e->env->interrupted)
            break;
    }
    fa_compile_pool_free(pool);
}

/* Checked candidates of class k with a time on class position i, fastest first (ties by
 * name: deterministic). quick: rank by halving's rung-0 times, else by stored times. */
static int ranked(engine *e, int k, int i, int quick, int *out)
{
    int n = 0;
    for (int c = 0; c < e->ncands; c++) {
        const cand *x = &e->cands[c];
        if (x->cls == k && x->passed && (quick ? x->quick : x->ms)[i] > 0)
            out[n++] = c;
    }
    for (int a = 1; a < n; a++) { /* insertion sort */
        int x = out[a], b = a - 1;
        while (b >= 0) {
            const cand *cb = &e->cands[out[b]], *cx = &e->cands[x];
            double tb = (quick ? cb->quick : cb->ms)[i], tx = (quick ? cx->quick : cx->ms)[i];
            if (!(tb > tx || (tb == tx && strcmp(cb->name, cx->name) > 0)))
                break;
            out[b + 1] = out[b];
            b--;
        }
        out[b + 1] = x;
    }
    return n;
}

/* Push one interleaved re-timing of problem pi with candidates cs[0..n) (copied). */
static void push_group(engine *e, int pi, const int *cs, int n, int rung1)
{
    n = n < FA_RETIME_MAX ? n : FA_RETIME_MAX;
    int *fin = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!fin)
        return;
    memcpy(fin, cs, sizeof(int) * (size_t)n);
    push(
        e,
        (item){.kind = ITEM_FINALISTS, .problem = pi, .finals = fin, .nfinals = n, .rung1 = rung1});
}

/* Halving rung 1: the best eighth on each rung-0 problem (at least the finalist count)
 * survive; on every problem of the class they are timed interleaved, racing each other, so
 * the survivors are compared in the same rounds and drift cannot pick among them. */
static void produce_rung1(engine *e)
{
    int *order = malloc(sizeof(int) * (size_t)(e->ncands + 1));
    int *group = malloc(sizeof(int) * (size_t)(e->ncands + 1));
    unsigned char *survives = calloc((size_t)e->ncands + 1, 1);
    if (!order || !group || !survives)
        goto out;
    for (int k = 0; k < e->ncls; k++) {
        for (int r = 0; r < e->cls[k].nrung0; r++) {
            int n = ranked(e, k, e->cls[k].rung0[r], 1, order);
            int keep = (n + 7) / 8;
            if (keep < e->o->finalists)
                keep = e->o->finalists < n ? e->o->finalists : n;
            for (int j = 0; j < keep; j++)
                survives[order[j]] = 1;
        }
        for (int i = 0; i < e->cls[k].np; i++) {
            int ng = 0;
            for (int c = 0; c < e->ncands; c++)
                if (survives[c] && e->cands[c].cls == k && e->cands[c].todo[i])
                    group[ng++] = c;
            if (ng > 0)
                push_group(e, e->cls[k].probs[i], group, ng, 1);
        }
    }
out:
    free(order);
    free(group);
    free(survives);
}

/* The finalists of each problem: the best --finalists by stored time, and every other
 * variant within FA_FINAL_BAND of the best (separate timings drift by a few percent over a
 * sweep, so anything that close may really be the fastest), at most FA_FINALISTS_MAX. */
static void produce_finalists(engine *e)
{
    int *order = malloc(sizeof(int) * (size_t)(e->ncands + 1));
    if (!order)
        return;
    for (int k = 0; k < e->ncls; k++)
        for (int i = 0; i < e->cls[k].np; i++) {
            int n = ranked(e, k, i, 0, order);
            int f = n < e->o->finalists ? n : e->o->finalists;
            while (f < n && f < FA_FINALISTS_MAX &&
                   e->cands[order[f]].ms[i] <= FA_FINAL_BAND * e->cands[order[0]].ms[i])
                f++;
            if (f >= 2) /* one alone has nothing to be separated from */
                push_group(e, e->cls[k].probs[i], order, f, 0);
        }
    free(order);
}

/* ---- setup ------------------------------------------------------------------------------- */

static fa_status build_classes(engine *e, fa_err *err)
{
    const fa_tune_opts *o = e->o;
    e->cls = calloc((size_t)o->n_problems, sizeof *e->cls);
    e->class_of = calloc((size_t)o->n_problems, sizeof(int));
    e->pos_of = calloc((size_t)o->n_problems, sizeof(int));
    if (!e->cls || !e->class_of || !e->pos_of)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    for (int p = 0; p < o->n_problems; p++) {
        int k = 0;
        while (k < e->ncls && !fa_problem_same_class(&e->cls[k].key, &o->problems[p]))
            k++;
        if (k == e->ncls) {
            e->cls[k].key = o->problems[p];
            e->cls[k].probs = calloc((size_t)o->n_problems, sizeof(int));
            if (!e->cls[k].probs)
                return FA_ERR(err, FA_NOMEM, "out of memory");
            fa_tune_check_problem(&o->problems[p], &e->cls[k].check);
            e->ncls++;
        }
        e->class_of[p] = k;
        e->pos_of[p] = e->cls[k].np;
        e->cls[k].probs[e->cls[k].np++] = p;
    }
    for (int k = 0; k < e->ncls; k++) { /* halving's rung 0: the shortest and longest problem */
        tclass *c = &e->cls[k];
        int lo = 0, hi = 0;
        for (int i = 1; i < c->np; i++) {
            const fa_problem *pi = &o->problems[c->probs[i]];
            if (pi->seqlen_k < o->problems[c->probs[lo]].seqlen_k)
                lo = i;
            if (pi->seqlen_k > o->problems[c->probs[hi]].seqlen_k)
                hi = i;
        }
        c->rung0[0] = lo;
        c->rung0[1] = hi;
        c->nrung0 = lo == hi ? 1 : 2;
    }
    return FA_OK;
}

fa_status fa_tune_class_variants(const fa_tune_opts *o, const fa_problem *key,
                                 const fa_space_filter *f, fa_variant **out, int *n, fa_err *err)
{
    if (!o->variants)
        return fa_space_enumerate(o->arch, key->head_dim, f, out, n, err);
    fa_variant *vs = malloc(sizeof *vs * (size_t)(o->n_variants + 1));
    if (!vs)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < o->n_variants; i++)
        if (fa_variant_matches(&o->variants[i], key))
            vs[k++] = o->variants[i];
    *out = vs;
    *n = k;
    return FA_OK;
}

/* The prior of fa_tune.h's racing: lower is tried first. FlashAttention-2's tiles (16 or 32
 * query rows per warp, 64..128 key columns, one or two stages) won every hd64/hd128 problem
 * on the H100 and most at hd256, so they set a tight bound early. */
static int prior(const fa_variant *v)
{
    const int rows_per_warp = v->warps > 0 ? v->block_m / v->warps : 0;
    return (rows_per_warp == 32   ? 0
            : rows_per_warp == 16 ? 1
                                  : 3) +
           (v->block_n >= 64 && v->block_n <= 128 ? 0 : 2) + (v->stages <= 2 ? 0 : 1);
}

typedef struct ordered {
    cand c;
    int key, index;
} ordered;

static int cmp_ordered(const void *a, const void *b)
{
    const ordered *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Stable sort of the candidates by prior. */
static fa_status order_by_prior(engine *e, fa_err *err)
{
    ordered *t = malloc(sizeof *t * (size_t)(e->ncands + 1));
    if (!t)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    for (int i = 0; i < e->ncands; i++)
        t[i] = (ordered){e->cands[i], prior(&e->cands[i].v), i};
    qsort(t, (size_t)e->ncands, sizeof *t, cmp_ordered);
    for (int i = 0; i < e->ncands; i++)
        e->cands[i] = t[i].c;
    free(t);
    return FA_OK;
}

static fa_status build_candidates(engine *e, fa_err *err)
{
    const fa_tune_opts *o = e->o;
    fa_status st = FA_OK;
    for (int k = 0; k < e->ncls; k++) {
        tclass *kc = &e->cls[k];
        fa_space_filter f = {1u << kc->key.dtype, kc->key.causal ? FA_SPACE_ON : FA_SPACE_OFF,
                             kc->key.varlen ? FA_SPACE_ON : FA_SPACE_OFF};
        fa_variant *vs = NULL;
        int nv = 0;
        st = fa_tune_class_variants(o, &kc->key, &f, &vs, &nv, err);
        if (st != FA_OK)
            return st;
        cand *grown = realloc(e->cands, sizeof *grown * (size_t)(e->ncands + nv));
        if (!grown) {
            free(vs);
            return FA_ERR(err, FA_NOMEM, "out of memory");
        }
        e->cands = grown;
        for (int i = 0; i < nv; i++) {
            cand *c = &e->cands[e->ncands];
            memset(c, 0, sizeof *c);
            c->v = vs[i];
            c->cls = k;
            fa_variant_name(&vs[i], c->name, sizeof c->name);
            if (!fa_shard_has(c->name, o->shard_index, o->shard_count))
                continue;
            c->todo = calloc((size_t)kc->np, 1);
            c->ms = malloc(sizeof(double) * (size_t)kc->np);
            c->peak = malloc(sizeof(int64_t) * (size_t)kc->np);
            c->quick = malloc(sizeof(double) * (size_t)kc->np);
            if (!c->todo || !c->ms || !c->peak || !c->quick) {
                free(c->todo);
                free(c->ms);
                free(c->peak);
                free(c->quick);
                free(vs);
                return FA_ERR(err, FA_NOMEM, "out of memory");
            }
            e->ncands++;
            e->st->variants++;
            int left = 0;
            for (int j = 0; j < kc->np; j++) {
                c->ms[j] = -1;
                c->peak[j] = -1;
                c->quick[j] = -1;
                int found = 0;
                if (!o->force) {
                    char pname[FA_PROBLEM_NAME_MAX];
                    fa_problem_name(&o->problems[kc->probs[j]], pname, sizeof pname);
                    st = fa_db_has_measurement(e->env->db, e->env->device_id, o->arch->name,
                                               e->env->source_hash, c->name, pname, &found, err);
                    if (st != FA_OK) {
                        free(vs);
                        return st;
                    }
                }
                c->todo[j] = !found;
                left += !found;
                e->st->skipped += found;
            }
            fa_err why = {0};
            if (left == 0) {
                c->state = CAND_OUT; /* everything already measured: resume skips it */
            } else if (fa_variant_check(&c->v, o->arch, &why) != FA_OK) {
                e->st->unsupported++;
                record_all_locked(e, c, NULL, FA_UNSUPPORTED, why.msg, NULL);
                c->state = CAND_OUT;
            }
        }
        free(vs);
    }
    if (o->strategy == FA_STRATEGY_RANDOM) { /* seeded shuffle: the order is the strategy */
        uint64_t s = o->seed;
        for (int i = e->ncands - 1; i > 0; i--) {
            int j = (int)(fa_splitmix64(&s) % (uint64_t)(i + 1));
            cand t = e->cands[i];
            e->cands[i] = e->cands[j];
            e->cands[j] = t;
        }
    } else if ((st = order_by_prior(e, err)) != FA_OK) {
        return st;
    }
    return e->fatal != FA_OK ? FA_ERR(err, e->fatal, "%s", e->fatal_err.msg) : FA_OK;
}

static void engine_free(engine *e)
{
    for (int i = 0; i < e->ncands; i++) {
        fa_compile_output_release(&e->cands[i].out);
        free(e->cands[i].todo);
        free(e->cands[i].ms);
        free(e->cands[i].peak);
        free(e->cands[i].quick);
    }
    for (int k = 0; k < e->ncls; k++)
        free(e->cls[k].probs);
    for (int i = 0; i < e->qtail; i++)
        if (e->q[i].kind == ITEM_FINALISTS)
            free(e->q[i].finals);
    free(e->cands);
    free(e->cls);
    free(e->class_of);
    free(e->pos_of);
    free(e->q);
    free(e->eager_ms);
    free(e->best_ms);
    free(e->quick_best);
    free(e->eager_peak);
    free(e->eager_done);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
}

fa_status fa_tune_run(const fa_tune_opts *o, fa_tune_env *env, fa_tune_stats *stats, fa_err *err)
{
    fa_status st = FA_OK;
    engine e;
    memset(&e, 0, sizeof e);
    memset(stats, 0, sizeof *stats);
    e.o = o;
    e.env = env;
    e.st = stats;
    e.t0 = fa_now_s();
    pthread_mutex_init(&e.mu, NULL);
    pthread_cond_init(&e.cv, NULL);
    e.sweep = o->timing;
    if (e.sweep.max_reps <= 0) {
        fa_timing_opts_default(&e.sweep);
        e.sweep.warmup_reps = 1;
        e.sweep.min_reps = 5;
    }
    fa_timing_opts_default(&e.quick);
    e.quick.warmup_reps = 1;
    e.quick.warmup_ms = 1;
    e.quick.min_reps = 3;
    e.quick.max_reps = 3;
    e.quick.max_seconds = 0.5;
    /* Inside an interleaved group drift is shared, so a quarter of the margin is safe. */
    e.interleave_margin = o->race_margin > 0 ? 1 + (o->race_margin - 1) / 4 : 0;
    int slots = env->backend.slots > 0 ? env->backend.slots : 1;
    pthread_t *threads = calloc((size_t)slots, sizeof *threads);
    slot_arg *args = calloc((size_t)slots, sizeof *args);
    e.eager_ms = malloc(sizeof(double) * (size_t)o->n_problems);
    e.best_ms = malloc(sizeof(double) * (size_t)o->n_problems);
    e.quick_best = malloc(sizeof(double) * (size_t)o->n_problems);
    e.eager_peak = malloc(sizeof(int64_t) * (size_t)o->n_problems);
    e.eager_done = calloc((size_t)o->n_problems, 1);
    if (!threads || !args || !e.eager_ms || !e.best_ms || !e.quick_best || !e.eager_peak ||
        !e.eager_done) {
        st = FA_ERR(err, FA_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = build_classes(&e, err)) != FA_OK)
        goto cleanup;
    stats->classes = e.ncls;
    if ((st = build_candidates(&e, err)) != FA_OK)
        goto cleanup;
    if (o->budget_count > 0) {
        int smallest = o->n_problems;
        for (int k = 0; k < e.ncls; k++)
            smallest = e.cls[k].np < smallest ? e.cls[k].np : smallest;
        if (o->budget_count < smallest) {
            st = FA_ERR(err, FA_INVALID,
                        "--budget %d cannot fit one variant: each variant is timed on %d "
                        "problems of its class",
                        o->budget_count, smallest);
            goto cleanup;
        }
    }
    int planned = 0;
    for (int i = 0; i < e.ncands; i++)
        for (int j = 0; e.cands[i].state == CAND_PENDING && j < e.cls[e.cands[i].cls].np; j++)
            planned += e.cands[i].todo[j];
    if (o->strategy == FA_STRATEGY_HALVING) { /* stored timings are rung 1's: an estimate */
        planned = 0;
        for (int k = 0; k < e.ncls; k++) {
            int n = 0;
            for (int i = 0; i < e.ncands; i++)
                n += e.cands[i].cls == k && e.cands[i].state == CAND_PENDING;
            int keep = (n + 7) / 8 > o->finalists ? (n + 7) / 8 : o->finalists;
            keep *= e.cls[k].nrung0;
            planned += (keep < n ? keep : n) * e.cls[k].np;
        }
    }
    fa_progress_start(&e.prog, o->progress, planned, o->budget_count);

    /* Phase 1: eager baselines first (the GPU has nothing else while the first compiles
     * run), then every candidate as it compiles. */
    for (int p = 0; p < o->n_problems; p++) {
        e.eager_ms[p] = -1;
        e.best_ms[p] = -1;
        e.quick_best[p] = -1;
        e.eager_peak[p] = -1;
        int needed = 0;
        for (int i = 0; i < e.ncands && !needed; i++)
            needed = e.cands[i].state == CAND_PENDING && e.cands[i].cls == e.class_of[p] &&
                     e.cands[i].todo[e.pos_of[p]];
        if (needed)
            push(&e, (item){.kind = ITEM_EAGER, .problem = p});
        else
            e.eager_done[p] = 1;
    }
    run_phase(&e, produce_compiled, threads, args);
    /* Phase 2 (halving): rung 1, the survivors interleaved per problem -- also the final. */
    if (e.fatal == FA_OK && o->strategy == FA_STRATEGY_HALVING)
        run_phase(&e, produce_rung1, threads, args);
    /* Phase 3 (exhaustive, random): finalists re-timed interleaved. */
    else if (e.fatal == FA_OK && o->finalists > 0 && env->backend.retime &&
             !(env->interrupted && *env->interrupted))
        run_phase(&e, produce_finalists, threads, args);
    fa_progress_finish(&e.prog);

    if (e.fatal != FA_OK) {
        st = FA_ERR(err, e.fatal, "%s", e.fatal_err.msg);
        goto cleanup;
    }
    if (env->interrupted && *env->interrupted) {
        st = FA_ERR(err, FA_INTERRUPTED, "interrupted: %d timings stored, rerun to resume",
                    stats->timed);
        goto cleanup;
    }
    if (o->budget_seconds > 0 && stats->timed == 0 && stats->budget_cut > 0) {
        st = FA_ERR(err, FA_INVALID,
                    "--budget %.0fs ran out before one variant was timed (compiling the first "
                    "variants takes longer); give more time",
                    o->budget_seconds);
        goto cleanup;
    }
cleanup:
    stats->wall_s = fa_now_s() - e.t0;
    if (stats->wall_s > 0)
        stats->gpu_idle_fraction = 1.0 - stats->gpu_busy_s / (stats->wall_s * slots);
    if (stats->gpu_idle_fraction < 0)
        stats->gpu_idle_fraction = 0;
    engine_free(&e);
    free(threads);
    free(args);
    return st;
}
