/*
 * This file implements what each phase of the tuning engine hands its device slots (see
 * fa_tune_engine.h): every candidate as the compile pool finishes it, and each problem's
 * finalists; and halving's producer, which runs halving's phases per class (exploration
 * rounds, rung-1 groups) as each class's rung 0 ends.
 */
#include "fa_tune_engine.h"
#include "fa_util.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fa_problem_set.h"
#include "fa_progress.h"
#include "fa_space.h"
#include "fa_sweep.h"

static int open_family_gates_stored(engine *e, int k);
static int open_depth_gates_stored(engine *e, int k);

static int interrupted(const engine *e)
{
    return e->env->interrupted && *e->env->interrupted;
}

/* Compile jobs outstanding: d more (caller holds mu). Adds up the wall time with any
 * outstanding in st->compiling_s. */
static void compiling_add_locked(engine *e, int d)
{
    const double now = fa_now_s();
    if (e->compiling > 0)
        e->st->compiling_s += now - e->compiling_since;
    e->compiling_since = now;
    e->compiling += d;
}

double en_compiling_clock_locked(const engine *e)
{
    return e->st->compiling_s + (e->compiling > 0 ? fa_now_s() - e->compiling_since : 0);
}

/* Candidate ci's compile result (caller holds mu): recorded and out of the race when it failed
 * or spills, else ready and handed to the slots unless the run stops (*stop: failed, budget
 * spent or interrupted). Returns whether it was handed to the slots. */
static int compiled_locked(engine *e, int ci, const fa_compile_output *out, int *stop)
{
    cand *c = &e->cands[ci];
    c->out = *out;
    en_share_cubin_locked(e, c);
    *stop = e->fatal != FA_OK || en_budget_spent(e);
    compiling_add_locked(e, -1);
    if (out->status == FA_OK && !out->build.cache_hit)
        e->st->compiled++;
    if (out->build.cache_hit)
        e->st->cache_hits++;
    fa_progress_compiled(&e->prog, c->name);
    if (out->status != FA_OK) {
        e->st->compile_errors += out->status == FA_COMPILE_ERROR;
        char why[256];
        fa_compile_log_summary(out->log, why, sizeof why);
        en_record_all_locked(e, c, NULL, out->status, why, &out->build);
        c->state = CAND_OUT;
    } else if (fa_compile_spills(&out->build)) {
        e->st->spilled++;
        char why[128];
        fa_status stored = fa_compile_stored_status(out, why, sizeof why);
        en_record_all_locked(e, c, NULL, stored, why, &out->build);
        c->state = CAND_OUT;
    } else {
        c->state = CAND_READY;
    }
    return c->state == CAND_READY && !*stop &&
           en_push_locked(e, (item){.kind = ITEM_VARIANT, .cand = ci}) == FA_OK;
}

/* The run's compile pool (--jobs threads), or NULL after failing the run. */
static fa_compile_pool *new_pool(engine *e)
{
    fa_err err = {0};
    fa_compile_pool *pool = NULL;
    fa_status st = fa_compile_pool_new(e->env->compiler, e->o->jobs, &pool, &err);
    if (st != FA_OK) {
        en_fail(e, st, &err);
        return NULL;
    }
    return pool;
}

/* Phase 1 producer: compile every candidate in the pool, hand each to the slots as it is
 * ready. */
void en_produce_compiled(engine *e)
{
    fa_err err = {0};
    fa_status st;
    fa_compile_pool *pool = new_pool(e);
    if (!pool)
        return;
    int submitted = 0;
    for (int i = 0; i < e->ncands; i++) {
        if (e->cands[i].state != CAND_PENDING)
            continue;
        st = fa_compile_pool_submit(pool, &e->cands[i].v, e->o->arch, (void *)(intptr_t)i, &err);
        if (st != FA_OK) {
            en_fail(e, st, &err);
            break;
        }
        submitted++;
    }
    pthread_mutex_lock(&e->mu);
    compiling_add_locked(e, submitted);
    pthread_mutex_unlock(&e->mu);
    int refusals = en_record_refusals(e, 0);
    while (fa_compile_pool_pending(pool) > 0) {
        fa_variant v;
        void *tag = NULL;
        fa_compile_output out;
        memset(&out, 0, sizeof out);
        st = fa_compile_pool_next(pool, &v, &tag, &out, &err);
        if (st == FA_NOT_FOUND)
            break;
        if (st != FA_OK) {
            en_fail(e, st, &err);
            break;
        }
        int stop = 0;
        pthread_mutex_lock(&e->mu);
        compiled_locked(e, (int)(intptr_t)tag, &out, &stop);
        pthread_mutex_unlock(&e->mu);
        if (stop && interrupted(e))
            break;
        /* The legality model's refusals, a share after each variant handed out: written
         * before the first one (4.7 s of a warm full hd128 job on the H200, every compile
         * cached) they held every check back, holding the engine's lock; written after the
         * last, a cold run's GPU would wait for them at the end of the phase. */
        const int pending = fa_compile_pool_pending(pool);
        refusals = en_record_refusals(e, (refusals + pending) / (pending + 1));
    }
    pthread_mutex_lock(&e->mu);
    compiling_add_locked(e, -e->compiling); /* an early stop drops what is still queued */
    pthread_mutex_unlock(&e->mu);
    fa_compile_pool_free(pool);
    while (en_record_refusals(e, 64) > 0) /* what is left after an early stop */
        ;
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

/* Push one interleaved re-timing of problem pi with candidates cs[0..n) (copied). Caller
 * holds mu. */
static void push_group_locked(engine *e, int pi, const int *cs, int n, int rung1)
{
    n = n < FA_RETIME_MAX ? n : FA_RETIME_MAX;
    int *fin = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!fin)
        return;
    memcpy(fin, cs, sizeof(int) * (size_t)n);
    if (en_push_locked(e, (item){.kind = ITEM_FINALISTS,
                                 .problem = pi,
                                 .finals = fin,
                                 .nfinals = n,
                                 .rung1 = rung1}) != FA_OK)
        free(fin);
}

/* Halving: how many of n ranked candidates of class k survive one rung-0 problem: a twelfth
 * (FA_HALVING_KEEP), at least the class's floor (FA_HALVING_KEEP_SPACE, when exploring) and
 * --finalists, at most n. */
int en_rung1_keep(const engine *e, int k, int n)
{
    int keep = (n + FA_HALVING_KEEP - 1) / FA_HALVING_KEEP;
    keep = keep > e->cls[k].keep ? keep : e->cls[k].keep;
    keep = keep > e->o->finalists ? keep : e->o->finalists;
    return keep < n ? keep : n;
}

int en_rung1_far(int keep)
{
    return (keep + FA_RUNG1_FAR_SHARE - 1) / FA_RUNG1_FAR_SHARE;
}

/* Does class k's rung-0 problem r bracket class position i: the nearest rung-0 problem at or
 * below its keys, or the nearest at or above? */
static int brackets(const engine *e, int k, int r, int i)
{
    const tclass *c = &e->cls[k];
    if (r >= c->nrung0_keys)
        return 0; /* chosen by GQA ratio, not keys (near(), below) */
    const int n = e->o->problems[c->probs[i]].seqlen_k;
    const int nr = e->o->problems[c->probs[c->rung0[r]]].seqlen_k;
    for (int q = 0; q < c->nrung0_keys; q++) {
        const int nq = e->o->problems[c->probs[c->rung0[q]]].seqlen_k;
        if (nr <= n ? nq <= n && nq > nr : nq >= n && nq < nr)
            return 0; /* q is nearer on r's side */
    }
    return 1;
}

/* Are class k's rung-0 problem r's survivors near ones for class position i: r brackets it,
 * or r was chosen for i's GQA ratio (a tile that pays off only with GQA ranks low on ratio-1
 * problems, and a PackGQA tile may lead at one ratio only); a ratio above the smallest that
 * got no rung-0 problem for want of room (fa_tune.c: the largest ones get theirs first) takes
 * the nearest ratio's that did. */
static int near(const engine *e, int k, int r, int i)
{
    const tclass *c = &e->cls[k];
    const int g = fa_problem_gqa(&e->o->problems[c->probs[i]]);
    if (brackets(e, k, r, i))
        return 1;
    if (g <= c->gqa_min || c->rung0_ratio[r] == 0)
        return 0;
    int best = 0;
    for (int q = 0; q < c->nrung0; q++)
        if (c->rung0_ratio[q] > 0 && (best == 0 || fa_gqa_nearer(c->rung0_ratio[q], best, g)))
            best = c->rung0_ratio[q];
    return c->rung0_ratio[r] == best;
}

/* Halving rung 1 of class k (caller holds mu): the best twelfth (FA_HALVING_KEEP) on each
 * rung-0 problem (at least the finalist count) survive. A problem times, interleaved and racing
 * each other, the survivors of the rung-0 problems near it (near(): bracketing it in keys, or by
 * GQA ratio) and the best FA_RUNG1_FAR_SHARE of the others' -- their leaders: what ranks only
 * 5th-15th at 512 keys is raced out of a 16k group in its first rounds, 3.4 ms each (a third of
 * rung 1 went to such survivors) -- so the survivors are compared in the same rounds and drift
 * cannot pick among them. */
static void push_rung1_locked(engine *e, int k)
{
    int *order = malloc(sizeof(int) * (size_t)(e->ncands + 1));
    int *group = malloc(sizeof(int) * (size_t)(e->ncands + 1));
    int *rank[FA_RUNG0_MAX] = {NULL}; /* per rung-0 problem and candidate: rung-0 place */
    int keep[FA_RUNG0_MAX] = {0};
    int ok = order && group;
    for (int r = 0; r < FA_RUNG0_MAX; r++) {
        rank[r] = malloc(sizeof(int) * (size_t)(e->ncands + 1));
        ok = ok && rank[r];
    }
    if (!ok) {
        fa_err err = {0};
        en_fail_locked(e, FA_ERR(&err, FA_NOMEM, "out of memory"), &err);
        goto out;
    }
    for (int r = 0; r < e->cls[k].nrung0; r++) {
        for (int c = 0; c < e->ncands; c++)
            rank[r][c] = e->ncands; /* unranked */
        int n = ranked(e, k, e->cls[k].rung0[r], 1, order);
        keep[r] = en_rung1_keep(e, k, n);
        for (int j = 0; j < n; j++)
            rank[r][order[j]] = j;
    }
    for (int i = 0; i < e->cls[k].np; i++) {
        int limit[FA_RUNG0_MAX];
        for (int r = 0; r < e->cls[k].nrung0; r++) {
            limit[r] = near(e, k, r, i) ? keep[r] : en_rung1_far(keep[r]);
        }
        int ng = 0;
        for (int c = 0; c < e->ncands; c++) {
            if (e->cands[c].cls != k)
                continue;
            int in = 0;
            for (int r = 0; r < e->cls[k].nrung0 && !in; r++)
                in = rank[r][c] < limit[r];
            /* ranked first: the producer may be writing a refused one's todo meanwhile
             * (en_record_refusals), and a refusal is never ranked */
            if (in && e->cands[c].todo[i])
                group[ng++] = c;
        }
        if (ng > 0)
            push_group_locked(e, e->cls[k].probs[i], group, ng, 1);
    }
out:
    free(order);
    free(group);
    for (int r = 0; r < FA_RUNG0_MAX; r++)
        free(rank[r]);
}

/* Submit candidate ci to the halving producer's pool (caller holds mu): one more piece of its
 * class's rung-0 work. urgent: ahead of the plain jobs (fa_compile_pool_submit_urgent). */
static void submit_locked(engine *e, int ci, int urgent)
{
    fa_err err = {0};
    fa_status st = (urgent ? fa_compile_pool_submit_urgent : fa_compile_pool_submit)(
        e->pool, &e->cands[ci].v, e->o->arch, (void *)(intptr_t)ci, &err);
    if (st != FA_OK) {
        en_fail_locked(e, st, &err);
        return;
    }
    e->cls[e->cands[ci].cls].open++;
    compiling_add_locked(e, 1);
}

/* Class k settles (caller holds mu): under halving its rung-1 groups are queued. */
static void settle_locked(engine *e, int k)
{
    if (e->cls[k].settled)
        return;
    e->cls[k].settled = 1;
    e->unsettled--;
    if (e->o->strategy == FA_STRATEGY_HALVING)
        push_rung1_locked(e, k);
    pthread_cond_broadcast(&e->cv); /* the producer waits for the last class */
}

/* Exhaustive's family gate let candidates of class k through (caller holds mu): their timings
 * join the progress line's plan, and a problem only they time gets its eager baseline queued
 * now (queue_eager left it out: a resumed run, every other variant already measured). */
static void plan_opened_locked(engine *e, int k)
{
    const tclass *kc = &e->cls[k];
    int n = 0;
    for (int i = 0; i < e->ncands; i++) {
        const cand *c = &e->cands[i];
        if (c->cls != k || c->state != CAND_PENDING)
            continue;
        for (int j = 0; j < kc->np; j++) {
            n += c->todo[j];
            const int p = kc->probs[j];
            if (c->todo[j] && e->eager_done[p] == 2) {
                e->eager_done[p] = 0;
                if (en_push_locked(e, (item){.kind = ITEM_EAGER, .problem = p}) != FA_OK) {
                    fa_err err = {0};
                    en_fail_locked(e, FA_ERR(&err, FA_NOMEM, "out of memory"), &err);
                }
            }
        }
    }
    fa_progress_plan_more(&e->prog, n);
}

/* Class k's work may be done (caller holds mu): halving's rung 0, exhaustive's timings. If it
 * is, halving takes another exploration round -- its leaders' deferred neighbours, compiled
 * ahead of the other classes' variants -- while the rounds last, the run goes on (no budget
 * spent, no interrupt) and a leader has one; exhaustive compiles the families its gate lets
 * through the same way; else the class settles. After a failure nothing more is queued (the
 * slots have stopped). */
static void class_step_locked(engine *e, int k)
{
    tclass *c = &e->cls[k];
    if (c->settled || c->open > 0 || e->fatal != FA_OK)
        return;
    int more = 0;
    if (e->pool && !en_budget_spent(e)) {
        if (e->o->strategy != FA_STRATEGY_HALVING) {
            more = open_family_gates_stored(e, k) + open_depth_gates_stored(e, k) > 0;
            if (more)
                plan_opened_locked(e, k);
        } else if (c->rounds < FA_EXPLORE_ROUNDS && en_promote_neighbours(e, k) > 0)
            more = ++c->rounds;
    }
    if (more) {
        for (int i = 0; i < e->ncands && e->fatal == FA_OK; i++)
            if (e->cands[i].cls == k && e->cands[i].state == CAND_PENDING)
                submit_locked(e, i, 1);
        pthread_cond_broadcast(&e->cv); /* the producer may be waiting with nothing to compile */
        if (c->open > 0 || e->fatal != FA_OK)
            return;
    }
    settle_locked(e, k);
}

void en_variant_done(engine *e, int ci)
{
    pthread_mutex_lock(&e->mu);
    const int k = e->cands[ci].cls;
    e->cls[k].open--;
    class_step_locked(e, k);
    pthread_cond_broadcast(&e->cv); /* a waiting producer sees an interrupt by the next one */
    pthread_mutex_unlock(&e->mu);
}

/* The producer of halving and exhaustive. Halving's phases -- rung 0 of the prior's first part,
 * up to FA_EXPLORE_ROUNDS exploration rounds, rung 1 -- run per class, not as global phases
 * with a barrier between them; so does exhaustive's family gate. The variants go to the compile
 * pool class by class (in the prior's order within each class). A class's work (tclass.open:
 * its variants compiled, checked and ranked on its rung-0 problems, or under exhaustive timed
 * on its problems) ends on whichever thread does its last piece, which takes the class's next
 * step (class_step_locked): another exploration round or the families its gate lets through,
 * compiled ahead of the other classes' variants, or (halving) its rung-1 groups, which the
 * slots run after any check or rung-0 timing waiting (take_locked, fa_tune_slots.c). Every
 * decision reads its own class's times alone (en_promote_neighbours, push_rung1_locked,
 * open_family_gates_stored), so it is the one global phases would take; only when it runs
 * changes. Why: a cold run is compile-bound (the full default hd128 job on an H200 with 16
 * cores: ~55 s of halving's 68 s compiling, the GPU idle 54%), and rung 1 (~9.6 s of GPU time)
 * waited for every class's last compile; now each class's rung 1 overlaps the other classes'
 * compiles (the profile's "rung 1 ... while compiling"), and exhaustive's gated families
 * compile while the other classes still do. */
void en_produce_by_class(engine *e)
{
    fa_err err = {0};
    fa_status st;
    fa_compile_pool *pool = new_pool(e);
    if (!pool)
        return;
    pthread_mutex_lock(&e->mu);
    e->pool = pool;
    e->unsettled = e->ncls;
    for (int k = 0; k < e->ncls; k++)
        for (int i = 0; i < e->ncands && e->fatal == FA_OK; i++)
            if (e->cands[i].cls == k && e->cands[i].state == CAND_PENDING)
                submit_locked(e, i, 0);
    for (int k = 0; k < e->ncls && e->fatal == FA_OK; k++)
        class_step_locked(e, k); /* nothing to compile (resumed, refused): settles now */
    pthread_mutex_unlock(&e->mu);
    int refusals = en_record_refusals(e, 0);
    for (;;) {
        pthread_mutex_lock(&e->mu);
        int go = e->unsettled > 0 && e->fatal == FA_OK && !interrupted(e);
        while (e->compiling == 0 && go && refusals == 0) {
            pthread_cond_wait(&e->cv, &e->mu);
            go = e->unsettled > 0 && e->fatal == FA_OK && !interrupted(e);
        }
        const int more = e->compiling > 0;
        pthread_mutex_unlock(&e->mu);
        if (!more && !go)
            break;
        if (!more) { /* the slots rank what is compiled: write some refusals meanwhile */
            refusals = en_record_refusals(e, 64);
            continue;
        }
        fa_variant v;
        void *tag = NULL;
        fa_compile_output out;
        memset(&out, 0, sizeof out);
        st = fa_compile_pool_next(pool, &v, &tag, &out, &err);
        if (st != FA_OK) {
            en_fail(e, st, &err);
            break;
        }
        const int ci = (int)(intptr_t)tag;
        int stop = 0;
        pthread_mutex_lock(&e->mu);
        if (!compiled_locked(e, ci, &out, &stop)) { /* not handed out: nothing more to rank */
            e->cls[e->cands[ci].cls].open--;
            class_step_locked(e, e->cands[ci].cls);
        }
        pthread_mutex_unlock(&e->mu);
        if (stop && interrupted(e))
            break;
        /* The refusals, a share after each variant as en_produce_compiled writes them, at most
         * 64 at a time: an exploration round adds to the pool what pending does not foresee. */
        const int pending = fa_compile_pool_pending(pool),
                  share = (refusals + pending) / (pending + 1);
        refusals = en_record_refusals(e, share < 64 ? share : 64);
    }
    pthread_mutex_lock(&e->mu);
    compiling_add_locked(e, -e->compiling); /* an early stop drops what is still queued */
    e->pool = NULL;
    /* An interrupt stopped the compiles: the classes left queue their groups as they did after
     * the global phases, for do_finalists to count them cut. */
    for (int k = 0; k < e->ncls && e->fatal == FA_OK; k++)
        settle_locked(e, k);
    pthread_mutex_unlock(&e->mu);
    fa_compile_pool_free(pool);
    while (en_record_refusals(e, 64) > 0) /* the rest, while the last groups run */
        ;
}

/* The finalists of each problem: the best --finalists by stored time, and every other
 * variant within FA_FINAL_BAND of the best (separate timings drift by a few percent over a
 * sweep, so anything that close may really be the fastest), at most FA_FINALISTS_MAX. */
void en_produce_finalists(engine *e)
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
            if (f >= 2) { /* one alone has nothing to be separated from */
                pthread_mutex_lock(&e->mu);
                push_group_locked(e, e->cls[k].probs[i], order, f, 0);
                pthread_mutex_unlock(&e->mu);
            }
        }
    free(order);
}

/* Whether class k's candidates include an arch-specific family's, pending ones only or any the
 * legality model admits (resumed ones too): the family gate applies to the portable ones beside
 * it. */
static int has_arch_specific(const engine *e, int k, int pending_only)
{
    for (int i = 0; i < e->ncands; i++) {
        const cand *c = &e->cands[i];
        if (c->cls == k && c->v.family->arch_specific &&
            (pending_only ? c->state == CAND_PENDING : !c->refused))
            return 1;
    }
    return 0;
}

/* Exhaustive's family gate (FA_FAMILY_GATE, --family-gate): in each class with an
 * arch-specific family, each portable family's pending candidates past its FA_EXPLORE_MIN best
 * by prior (build_candidates sorted them; the legal ones count, resumed or not, so that a rerun
 * holds back the same ones) wait behind the gate (CAND_DEFERRED, gated 1) until the class's
 * other variants are timed (open_family_gates_stored). */
void en_gate_portable(engine *e)
{
    for (int k = 0; k < e->ncls; k++) {
        if (!has_arch_specific(e, k, 0))
            continue;
        const fa_family *done[8]; /* the portable families of class k seen so far */
        int seen[8] = {0}, ndone = 0;
        for (int i = 0; i < e->ncands; i++) {
            cand *c = &e->cands[i];
            if (c->cls != k || c->refused || c->v.family->arch_specific)
                continue;
            int d = 0;
            while (d < ndone && done[d] != c->v.family)
                d++;
            if (d == ndone) {
                if (ndone == (int)(sizeof done / sizeof *done))
                    continue; /* more portable families than any build has: not gated */
                done[ndone++] = c->v.family;
            }
            if (seen[d]++ >= FA_EXPLORE_MIN && c->state == CAND_PENDING) {
                c->state = CAND_DEFERRED;
                c->gated = 1;
            }
        }
    }
}

/* The family gate of family fam in class k is decided (caller holds mu): its candidates
 * waiting on it (from index g on) join, pending again, if open; else they stay uncompiled
 * (gated 2). Returns how many joined. */
static int decide_gate(engine *e, int k, const fa_family *fam, int g, int open)
{
    int promoted = 0;
    for (int i = g; i < e->ncands; i++) {
        cand *c = &e->cands[i];
        if (c->cls == k && c->gated == 1 && c->v.family == fam) {
            c->gated = open ? 0 : 2;
            if (open) {
                c->state = CAND_PENDING;
                promoted++;
            }
        }
    }
    return promoted;
}

/* The fastest time of candidate c on class problem i: measured in this run, else stored where
 * a resume skipped the pair; -1 none. */
static double cand_ms(const cand *c, int i)
{
    return c->ms[i] > 0 ? c->ms[i] : c->stored[i];
}

/* The fastest time on class k's problem i (cand_ms) of its candidates of family fam, or of any
 * family for NULL; -1 none. The family and stage gates judge by it. */
static double class_best(const engine *e, int k, int i, const fa_family *fam)
{
    double best = -1;
    for (int j = 0; j < e->ncands; j++) {
        const cand *c = &e->cands[j];
        const double ms = c->cls != k || (fam && c->v.family != fam) ? -1 : cand_ms(c, i);
        if (ms > 0 && (best < 0 || ms < best))
            best = ms;
    }
    return best;
}

/* Exhaustive's family gate of class k, once the class's other variants are timed (caller holds
 * mu): each portable family waiting on it joins (its candidates pending again) if its best time
 * -- measured in this run, or stored where a resume skipped the pair (cand.stored) -- is within
 * --family-gate of the class's best on some problem, or if it has no time to judge by (its
 * seeds all failed their check); else it stays uncompiled (gated 2). Returns how many were
 * promoted. */
static int open_family_gates_stored(engine *e, int k)
{
    int promoted = 0;
    for (int g = 0; g < e->ncands; g++) {
        const fa_family *fam = e->cands[g].v.family;
        if (e->cands[g].cls != k || e->cands[g].gated != 1)
            continue;
        int judged = 0, open = 0;
        for (int i = 0; i < e->cls[k].np && !open; i++) {
            const double fam_best = class_best(e, k, i, fam);
            if (fam_best > 0) {
                const double best = class_best(e, k, i, NULL);
                judged = 1;
                open = fam_best <= e->o->family_gate * best;
            }
        }
        open = open || !judged;
        promoted += decide_gate(e, k, fam, g, open);
    }
    return promoted;
}

/* A legal candidate of a family with a depth axis, as en_gate_depth sorts and looks them up:
 * class, family, params. */
typedef struct depth_key {
    int cls, family, cand;
    int params[FA_MAX_PARAMS];
} depth_key;

static int cmp_depth_key(const void *pa, const void *pb)
{
    const depth_key *a = pa, *b = pb;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    for (int x = 0; x < FA_MAX_PARAMS; x++)
        if (a->params[x] != b->params[x])
            return a->params[x] < b->params[x] ? -1 : 1;
    return 0; /* a class holds each variant once */
}

/* Exhaustive's stage gate (FA_STAGE_GATE, --stage-gate): each pending candidate past the first
 * value of a depth axis, not already behind the family gate, waits behind the gate (CAND_DEFERRED,
 * depth_gated 1) until the class's other variants are timed (open_depth_gates_stored), judged by
 * its siblings: for each depth axis past its first value, the candidate with that axis at its
 * first value and the rest equal, if the class has it (sm90a's m128n128s3pp: m128n128s2pp and
 * m128n128s3). One with no sibling has nothing to be judged by: it is not held back, nor is one
 * past the first value of more than FA_GATE_SIBLINGS depth axes. The class's legal candidates
 * are sorted once and each sibling found by binary search (a full hd128 job has ~30k
 * candidates, refusals included). */
void en_gate_depth(engine *e)
{
    depth_key *keys = malloc(sizeof *keys * (size_t)(e->ncands + 1));
    if (!keys)
        return; /* no gate: every variant is compiled, as with --stage-gate 0 */
    int n = 0;
    for (int i = 0; i < e->ncands; i++) {
        const fa_variant *v = &e->cands[i].v;
        if (e->cands[i].refused || !fa_family_has_depth_axis(v->family))
            continue;
        depth_key k = {.cls = e->cands[i].cls, .family = fa_family_index(v->family), .cand = i};
        memcpy(k.params, v->params, sizeof k.params);
        keys[n++] = k;
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_depth_key);
    for (int a = 0; a < n; a++) {
        cand *c = &e->cands[keys[a].cand];
        if (c->state != CAND_PENDING || c->gated)
            continue;
        const fa_family *fam = c->v.family;
        int sib[FA_GATE_SIBLINGS], ns = 0, deeper = 0;
        for (int x = 0; x < fam->naxes && x < FA_MAX_PARAMS; x++) {
            const fa_axis *ax = &fam->axes[x];
            if (!ax->depth || c->v.params[x] == ax->values[0])
                continue;
            deeper++;
            depth_key probe = keys[a];
            probe.params[x] = ax->values[0];
            const depth_key *hit = bsearch(&probe, keys, (size_t)n, sizeof *keys, cmp_depth_key);
            if (hit && ns < FA_GATE_SIBLINGS)
                sib[ns++] = hit->cand;
        }
        if (ns == 0 || deeper > FA_GATE_SIBLINGS)
            continue;
        c->state = CAND_DEFERRED;
        c->depth_gated = 1;
        for (int s = 0; s < FA_GATE_SIBLINGS; s++)
            c->sibling[s] = s < ns ? sib[s] : -1;
    }
    free(keys);
}

/* Does sibling s hold back a candidate of class k (best: the class's best time per problem)?
 * It does if the gate held s back too, or if s has a time -- measured in this run, or stored
 * where a resume skipped the pair -- and is over --stage-gate x the best on every problem it
 * has one for. One with no time to judge by (its check failed, it spilled) does not. */
static int sibling_shuts(const engine *e, int k, const cand *s, const double *best)
{
    if (s->depth_gated == 2)
        return 1;
    int judged = 0;
    for (int i = 0; i < e->cls[k].np; i++) {
        const double ms = cand_ms(s, i);
        if (ms > 0 && best[i] > 0) {
            if (ms <= e->o->stage_gate * best[i])
                return 0;
            judged = 1;
        }
    }
    return judged;
}

/* Exhaustive's stage gate of class k, once the class's other variants are timed (caller holds
 * mu). A waiting candidate is decided once none of its siblings is undecided or just promoted
 * (not timed yet): it stays uncompiled (depth_gated 2) if a sibling shuts it (sibling_shuts),
 * else it joins (pending again). Decisions repeat until none is left to make without new
 * times (a held-back sibling decides its dependants at once; a promoted one once it is timed,
 * when the class's work is done again). Returns how many were promoted. */
static int open_depth_gates_stored(engine *e, int k)
{
    const tclass *kc = &e->cls[k];
    int waiting = 0;
    for (int g = 0; g < e->ncands && !waiting; g++)
        waiting = e->cands[g].cls == k && e->cands[g].depth_gated == 1;
    if (!waiting)
        return 0;
    double *best = malloc(sizeof(double) * (size_t)(kc->np + 1));
    for (int i = 0; best && i < kc->np; i++)
        best[i] = class_best(e, k, i, NULL);
    int promoted = 0;
    for (int decided = 1; decided;) {
        decided = 0;
        for (int g = 0; g < e->ncands; g++) {
            cand *c = &e->cands[g];
            if (c->cls != k || c->depth_gated != 1)
                continue;
            int wait = 0, shut = 0;
            for (int s = 0; s < FA_GATE_SIBLINGS && c->sibling[s] >= 0 && !wait; s++) {
                const cand *sc = &e->cands[c->sibling[s]];
                wait = sc->depth_gated == 1 || sc->state == CAND_PENDING;
                shut = shut || (!wait && best && sibling_shuts(e, k, sc, best));
            }
            if (wait)
                continue;
            /* out of memory (no best): every one joins, nothing is lost */
            c->depth_gated = shut ? 2 : 0;
            if (!shut) {
                c->state = CAND_PENDING;
                promoted++;
            }
            decided++;
        }
    }
    free(best);
    return promoted;
}

/* Halving's exploration, step 1: in each (class, family), in prior order (build_candidates
 * sorted them), the first --explore of the pending candidates stay pending (at least
 * FA_EXPLORE_MIN), the rest wait (CAND_DEFERRED). Also sets each class's rung-1 survivor
 * count from all its pending candidates, explored or not. */
void en_defer_by_prior(engine *e)
{
    for (int k = 0; k < e->ncls; k++) {
        int legal = 0;
        for (int i = 0; i < e->ncands; i++)
            legal += e->cands[i].cls == k && e->cands[i].state == CAND_PENDING;
        e->cls[k].keep = (legal + FA_HALVING_KEEP_SPACE - 1) / FA_HALVING_KEEP_SPACE;
        if (e->o->explore >= 1)
            continue;
        /* The family gate (--family-gate): does an arch-specific family run in class k? */
        const int specific = e->o->family_gate > 0 && has_arch_specific(e, k, 1);
        const fa_family *done[8]; /* the families of class k handled so far */
        int ndone = 0;
        for (int i = 0; i < e->ncands; i++) {
            const fa_family *fam = e->cands[i].v.family;
            int seen = e->cands[i].cls != k || e->cands[i].state != CAND_PENDING;
            for (int d = 0; d < ndone && !seen; d++)
                seen = done[d] == fam;
            if (seen || ndone == (int)(sizeof done / sizeof *done))
                continue;
            done[ndone++] = fam;
            int n = 0;
            for (int j = i; j < e->ncands; j++)
                n += e->cands[j].cls == k && e->cands[j].state == CAND_PENDING &&
                     e->cands[j].v.family == fam;
            int first = (int)ceil(e->o->explore * n);
            first = first > FA_EXPLORE_MIN ? first : FA_EXPLORE_MIN;
            const int seeds = specific && !fam->arch_specific ? FA_EXPLORE_MIN : first;
            for (int j = i, m = 0; j < e->ncands; j++) {
                cand *c = &e->cands[j];
                if (c->cls != k || c->state != CAND_PENDING || c->v.family != fam)
                    continue;
                if (m >= seeds) {
                    c->state = CAND_DEFERRED;
                    c->gated = m < first;
                }
                m++;
            }
        }
    }
}

/* Steps on the family's axes between two variants of one family: the sum over axes of how
 * many values apart they are (a value off the axis counts as far). */
static int axis_steps(const fa_variant *a, const fa_variant *b)
{
    const fa_family *fam = a->family;
    int d = 0;
    for (int x = 0; fam && x < fam->naxes; x++) {
        int ia = -1, ib = -1;
        for (int j = 0; j < fam->axes[x].nvalues; j++) {
            ia = fam->axes[x].values[j] == a->params[x] ? j : ia;
            ib = fam->axes[x].values[j] == b->params[x] ? j : ib;
        }
        d += ia < 0 || ib < 0 ? 1000 : abs(ia - ib);
    }
    return d;
}

/* Halving's family gate of class k (--family-gate), decided once, at the first exploration
 * round: each family waiting on it joins with the rest of its share if its best rung-0 time is
 * within the gate of the class's best on some rung-0 problem; else that share stays
 * uncompiled. order: scratch of e->ncands ints. Returns how many were promoted. */
static int open_family_gates(engine *e, int k, int *order)
{
    int promoted = 0;
    for (int g = 0; g < e->ncands; g++) {
        const fa_family *fam = e->cands[g].v.family;
        if (e->cands[g].cls != k || e->cands[g].gated != 1)
            continue;
        int open = 0;
        for (int r = 0; r < e->cls[k].nrung0 && !open; r++) {
            const int i = e->cls[k].rung0[r];
            const int n = ranked(e, k, i, 1, order);
            int j = 0;
            while (j < n && e->cands[order[j]].v.family != fam) /* the family's best */
                j++;
            open = j < n &&
                   e->cands[order[j]].quick[i] <= e->o->family_gate * e->cands[order[0]].quick[i];
        }
        promoted += decide_gate(e, k, fam, g, open);
    }
    return promoted;
}

/* Halving's exploration, step 2: each of class k's rung-0 problems' FA_EXPLORE_LEADERS fastest
 * (by rung-0 times) promote their deferred neighbours -- one step on one axis, same class and
 * family -- to pending; the class's first round also opens or shuts its family gates. Returns
 * how many were promoted. */
int en_promote_neighbours(engine *e, int k)
{
    int promoted = 0;
    int *order = malloc(sizeof(int) * (size_t)(e->ncands + 1));
    if (!order)
        return 0;
    promoted += open_family_gates(e, k, order);
    for (int r = 0; r < e->cls[k].nrung0; r++) {
        int n = ranked(e, k, e->cls[k].rung0[r], 1, order);
        for (int j = 0; j < n && j < FA_EXPLORE_LEADERS; j++) {
            const cand *lead = &e->cands[order[j]];
            for (int i = 0; i < e->ncands; i++) {
                cand *c = &e->cands[i];
                if (c->state == CAND_DEFERRED && c->cls == k && c->v.family == lead->v.family &&
                    axis_steps(&lead->v, &c->v) == 1) {
                    c->state = CAND_PENDING;
                    promoted++;
                }
            }
        }
    }
    free(order);
    return promoted;
}
