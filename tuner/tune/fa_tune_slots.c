/*
 * This file implements the tuning engine's device slots (see fa_tune_engine.h): one thread
 * per GPU takes work from the queue -- eager baselines, a candidate's check and timings
 * (racing against the best so far), halving's rung 0, interleaved groups -- and records
 * every result in the database as it is measured.
 */
#include "fa_tune_engine.h"
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

int en_budget_spent(engine *e)
{
    const fa_tune_opts *o = e->o;
    if (o->budget_count > 0 && e->timings >= o->budget_count)
        return 1;
    if (o->budget_seconds > 0 && fa_now_s() - e->t0 >= o->budget_seconds)
        return 1;
    return e->env->interrupted && *e->env->interrupted;
}

fa_status en_push_locked(engine *e, item it)
{
    if (e->qtail == e->qcap) {
        int cap = e->qcap ? 2 * e->qcap : 256;
        item *grown = realloc(e->q, (size_t)cap * sizeof *grown);
        if (!grown)
            return FA_NOMEM;
        e->q = grown;
        e->qcap = cap;
    }
    e->q[e->qtail++] = it;
    pthread_cond_broadcast(&e->cv);
    return FA_OK;
}

fa_status en_push(engine *e, item it)
{
    pthread_mutex_lock(&e->mu);
    fa_status st = en_push_locked(e, it);
    pthread_mutex_unlock(&e->mu);
    return st;
}

/* The first failure stops the run; waiting threads are woken to see it. Caller holds e->mu. */
void en_fail_locked(engine *e, fa_status st, const fa_err *err)
{
    if (e->fatal == FA_OK) {
        e->fatal = st;
        e->fatal_err = *err;
    }
    pthread_cond_broadcast(&e->cv);
}

void en_fail(engine *e, fa_status st, const fa_err *err)
{
    pthread_mutex_lock(&e->mu);
    en_fail_locked(e, st, err);
    pthread_mutex_unlock(&e->mu);
}

/* Store ms[i] of v for problems[i], i < n, in one transaction (by the database writer), each
 * with its problem's eager baseline when known. Caller holds e->mu. */
static fa_status record_many_locked(engine *e, const fa_variant *v, const int *problems,
                                    fa_measurement *ms, int n)
{
    fa_err err = {0};
    for (int i = 0; i < n; i++) {
        if (e->eager_done[problems[i]]) {
            ms[i].eager_median_ms = e->eager_ms[problems[i]];
            ms[i].eager_peak_extra_bytes = e->eager_peak[problems[i]];
        }
    }
    fa_status st = en_db_write(e, v, problems, ms, n, &err);
    if (st != FA_OK)
        en_fail_locked(e, st, &err);
    return st;
}

/* Store m for (cand c or the eager pseudo-entry, problem). Caller holds e->mu. */
static fa_status record_locked(engine *e, const fa_variant *v, int problem, fa_measurement *m)
{
    return record_many_locked(e, v, &problem, m, 1);
}

/* The rows of one outcome (status, why, the build figures b; proto's figures when given) on
 * every problem of c's class still to measure: ms[n] and the problems' indices probs[n];
 * returns n. */
static int outcome_rows(const engine *e, const cand *c, const fa_measurement *proto,
                        fa_status status, const char *why, const fa_build_info *b,
                        fa_measurement *ms, int *probs)
{
    const tclass *k = &e->cls[c->cls];
    int n = 0;
    for (int i = 0; i < k->np; i++) {
        if (!c->todo[i])
            continue;
        fa_measurement *m = &ms[n];
        if (proto)
            *m = *proto; /* figures measured once (a failed check) go with every problem */
        else
            fa_measurement_init(m);
        m->status = status;
        if (b)
            m->build = *b;
        snprintf(m->message, sizeof m->message, "%s", why ? why : "");
        probs[n++] = k->probs[i];
    }
    return n;
}

/* Record the same outcome (unsupported, compile error, mismatch, fault) on every problem of
 * the candidate's class that is still to measure. Caller holds e->mu. */
void en_record_all_locked(engine *e, cand *c, const fa_measurement *proto, fa_status status,
                          const char *why, const fa_build_info *b)
{
    tclass *k = &e->cls[c->cls];
    fa_measurement *ms = malloc(sizeof *ms * (size_t)k->np);
    int *probs = malloc(sizeof *probs * (size_t)k->np);
    if (!ms || !probs) {
        fa_err err = {0};
        en_fail_locked(e, FA_ERR(&err, FA_NOMEM, "out of memory"), &err);
        free(ms);
        free(probs);
        return;
    }
    const int n = outcome_rows(e, c, proto, status, why, b, ms, probs);
    memset(c->todo, 0, (size_t)k->np);
    if (n > 0)
        record_many_locked(e, &c->v, probs, ms, n);
    free(ms);
    free(probs);
}

int en_record_refusals(engine *e, int max)
{
    int left = 0;
    for (int i = 0; i < e->ncands; i++) {
        cand *c = &e->cands[i]; /* CAND_OUT: no slot touches it, so no e->mu for its todo */
        if (!c->unrecorded)
            continue;
        if (max <= 0) {
            left++;
            continue;
        }
        pthread_mutex_lock(&e->mu);
        const int stop = e->fatal != FA_OK || (e->env->interrupted && *e->env->interrupted);
        pthread_mutex_unlock(&e->mu);
        if (stop)
            return 0;
        max--;
        const tclass *k = &e->cls[c->cls];
        fa_err why = {0}, err = {0};
        fa_variant_check(&c->v, e->o->arch, &why);
        fa_measurement *ms = malloc(sizeof *ms * (size_t)k->np);
        int *probs = malloc(sizeof *probs * (size_t)k->np);
        fa_status st = ms && probs ? FA_OK : FA_ERR(&err, FA_NOMEM, "out of memory");
        const int n =
            st == FA_OK ? outcome_rows(e, c, NULL, FA_UNSUPPORTED, why.msg, NULL, ms, probs) : 0;
        if (st == FA_OK && n > 0)
            st = en_db_write(e, &c->v, probs, ms, n, &err);
        free(ms);
        free(probs);
        if (st != FA_OK) {
            en_fail(e, st, &err);
            return 0;
        }
        memset(c->todo, 0, (size_t)k->np);
        c->unrecorded = 0;
    }
    return left;
}

/* Racing: the bound a timing on problem pi must stay under, from best[] (e->best_ms, or
 * halving's rung-0 e->quick_best). */
static void race_bound(engine *e, const double *best, int pi, fa_job *job)
{
    pthread_mutex_lock(&e->mu);
    double b = best[pi];
    pthread_mutex_unlock(&e->mu);
    job->timing.abandon_ms = e->o->race_margin > 0 && b > 0 ? b * e->o->race_margin : 0;
}

/* After a timing (caller holds e->mu): a new best, never a raced one, bounds later timings. */
static void race_lower_locked(double *best, int pi, const fa_measurement *m)
{
    if (!m->raced && m->status == FA_OK && m->median_ms > 0 &&
        (best[pi] < 0 || m->median_ms < best[pi]))
        best[pi] = m->median_ms;
}

static void job_for(engine *e, const cand *c, const fa_problem *p, unsigned what, fa_job *job)
{
    memset(job, 0, sizeof *job);
    job->problem = *p;
    job->variant = c->v;
    job->cubin = c->out.cubin;
    job->cubin_size = c->out.cubin_size;
    job->cubin_hash = c->out.cubin_hash;
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
    job.timing = e->eager;
    fa_measurement m;
    fa_err err = {0};
    fa_status st = run_job(e, slot, &job, &m, &err);
    if (st != FA_OK) {
        en_fail(e, st, &err);
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

static int cmp_ms(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Halving rung 0's racing bound on class k's position i (problem pi): race_margin x the best
 * quick median there, or the slowest of the survivors so far (en_rung1_keep's count of the
 * ranked ones) when that is lower -- a quick time past it survives no rung-0 problem's cut
 * here, so it is marked raced and never sets the best (the harness judges its repetition at
 * 1.05x the bound). Racing off (--race 0): no bound. */
static void rung0_bound(engine *e, int k, int i, int pi, fa_job *job)
{
    race_bound(e, e->quick_best, pi, job);
    double *t = job->timing.abandon_ms > 0 ? malloc(sizeof *t * (size_t)(e->ncands + 1)) : NULL;
    if (!t)
        return;
    int n = 0;
    pthread_mutex_lock(&e->mu);
    for (int c = 0; c < e->ncands; c++) {
        const cand *x = &e->cands[c];
        if (x->cls == k && x->passed && x->quick[i] > 0)
            t[n++] = x->quick[i];
    }
    const int keep = en_rung1_keep(e, k, n);
    pthread_mutex_unlock(&e->mu);
    if (keep > 0 && n >= keep) {
        qsort(t, (size_t)n, sizeof *t, cmp_ms);
        if (t[keep - 1] < job->timing.abandon_ms)
            job->timing.abandon_ms = t[keep - 1];
    }
    free(t);
}

/* Halving rung 0: quick timings of a checked candidate on its class's rung-0 problems (the
 * shortest, the longest of at most FA_RUNG0_MAX_KEYS keys, the longest and the largest GQA
 * ratio's one: tclass), kept in memory to rank candidates; nothing is stored. */
static void rung0(engine *e, int slot, int ci)
{
    cand *c = &e->cands[ci];
    tclass *k = &e->cls[c->cls];
    for (int r = 0; r < k->nrung0; r++) {
        int i = k->rung0[r];
        pthread_mutex_lock(&e->mu);
        int go = !en_budget_spent(e) && e->fatal == FA_OK;
        pthread_mutex_unlock(&e->mu);
        if (!go)
            return;
        fa_job job;
        fa_measurement m;
        fa_err err = {0};
        const int pi = k->probs[i];
        job_for(e, c, &e->o->problems[pi], FA_JOB_TIME, &job);
        job.timing = e->quick;
        rung0_bound(e, c->cls, i, pi, &job);
        fa_status st = run_job(e, slot, &job, &m, &err);
        if (st != FA_OK) {
            en_fail(e, st, &err);
            return;
        }
        pthread_mutex_lock(&e->mu);
        c->quick[i] = m.status == FA_OK ? m.median_ms : -1;
        race_lower_locked(e->quick_best, pi, &m);
        if (m.status == FA_FAULT) { /* a fault is a result: stored, and the variant is out */
            e->st->faults++;
            m.build = c->out.build;
            en_record_all_locked(e, c, NULL, FA_FAULT, m.message, &c->out.build);
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
        en_fail(e, st, &err);
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
        en_record_all_locked(e, c, &m, m.status, why, &c->out.build);
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
        int go = c->todo[i] && !en_budget_spent(e) && e->fatal == FA_OK;
        if (c->todo[i] && !go)
            e->st->budget_cut++;
        pthread_mutex_unlock(&e->mu);
        if (!go)
            continue;
        int pi = k->probs[i];
        job_for(e, c, &e->o->problems[pi], FA_JOB_TIME, &job);
        race_bound(e, e->best_ms, pi, &job);
        st = run_job(e, slot, &job, &m, &err);
        if (st != FA_OK) {
            en_fail(e, st, &err);
            return;
        }
        pthread_mutex_lock(&e->mu);
        while (!e->eager_done[pi] && e->fatal == FA_OK)
            pthread_cond_wait(&e->cv, &e->mu); /* another slot is timing its eager baseline */
        m.build = c->out.build;
        record_locked(e, &c->v, pi, &m);
        race_lower_locked(e->best_ms, pi, &m);
        e->st->raced += m.raced;
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
        en_fail(e, FA_ERR(&err, FA_NOMEM, "out of memory"), &err);
        return;
    }
    const int pos = e->pos_of[it->problem];
    pthread_mutex_lock(&e->mu);
    int go = e->fatal == FA_OK && !(it->rung1 && en_budget_spent(e));
    if (!go && it->rung1)
        e->st->budget_cut += n;
    const double compiling0 = en_compiling_clock_locked(e);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; go && i < n; i++) {
        job_for(e, &e->cands[it->finals[i]], &e->o->problems[it->problem], FA_JOB_TIME, &jobs[i]);
        jobs[i].timing = e->final;
        jobs[i].timing.interleave_margin = e->interleave_margin;
        fa_measurement_init(&ms[i]);
    }
    double t = fa_now_s();
    fa_status st =
        go ? e->env->backend.retime(e->env->backend.ctx, slot, jobs, n, ms, &err) : FA_OK;
    pthread_mutex_lock(&e->mu);
    e->st->gpu_busy_s += fa_now_s() - t;
    if (go && it->rung1) { /* the profile's rung 1, and how much of it overlapped compiles */
        e->st->rung1_s += fa_now_s() - t;
        e->st->rung1_compiling_s += en_compiling_clock_locked(e) - compiling0;
    }
    pthread_mutex_unlock(&e->mu);
    if (st != FA_OK)
        en_fail(e, st, &err);
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

/* The next item for a slot (caller holds e->mu; the queue is not empty): the first that is not
 * an interleaved group, else the first group. Under halving a settled class's rung-1 groups
 * wait behind the checks and rung-0 timings of the classes still compiling: those decide when a
 * class's exploration compiles and when it settles; a group decides nothing else. */
static item take_locked(engine *e)
{
    int j = e->qhead;
    while (j < e->qtail && e->q[j].kind == ITEM_FINALISTS)
        j++;
    if (j < e->qtail && j > e->qhead) {
        const item it = e->q[j];
        memmove(&e->q[e->qhead + 1], &e->q[e->qhead], sizeof it * (size_t)(j - e->qhead));
        e->q[e->qhead] = it;
    }
    return e->q[e->qhead++];
}

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
        item it = take_locked(e);
        pthread_mutex_unlock(&e->mu);
        switch (it.kind) {
        case ITEM_EAGER:
            do_eager(e, a->slot, it.problem);
            break;
        case ITEM_VARIANT:
            do_variant(e, a->slot, it.cand);
            if (e->by_class) /* en_produce_by_class's classes */
                en_variant_done(e, it.cand);
            break;
        case ITEM_FINALISTS:
            do_finalists(e, a->slot, &it);
            break;
        }
    }
}

/* Runs the slot threads over the queue until it is drained and producers_done is set by
 * `produce` (called on this thread while the slots work). With no slot thread the run fails:
 * halving's producer waits on the slots (a class settles when they have ranked it). */
void en_run_phase(engine *e, void (*produce)(engine *), pthread_t *threads, slot_arg *args)
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
    if (started == 0) {
        fa_err err = {0};
        en_fail(e, FA_ERR(&err, FA_ERROR, "cannot start a device-slot thread"), &err);
        return;
    }
    produce(e);
    pthread_mutex_lock(&e->mu);
    e->producers_done = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    for (int s = 0; s < started; s++)
        pthread_join(threads[s], NULL);
}
