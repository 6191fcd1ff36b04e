/*
 * This file implements the tuning engine (see fa_tune.h for the order of work): strategy
 * names and options, classes of problems and their candidates (resume, legality, the prior
 * order), and fa_tune_run, which runs the phases. The phases' producers are in
 * fa_tune_phases.c, the device slots' work in fa_tune_slots.c (fa_tune_engine.h).
 */
#include "fa_family.h"
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
    o->final_rounds = 10;
    o->race_margin = 1.2;
    o->explore = FA_EXPLORE_DEFAULT;
    o->family_gate = FA_FAMILY_GATE;
    o->stage_gate = FA_STAGE_GATE;
    o->progress = 1;
    o->seed = 0x5eed;
}

void fa_tune_check_problem(const fa_problem *p, fa_problem *check)
{
    *check = *p;
    check->batch = 2;
    check->seqlen_q = check->seqlen_k = 1000;
    check->seed = 0; /* fresh inputs per check; the harness records the seed */
    if (p->op == FA_OP_DECODE) {
        static const int lens[] = {0, 1, 2, 15, 17, 63, 65, 333, 999, 1000};
        check->batch = FA_DECODE_CHECK_BATCH;
        check->seqlen_q = p->seqlen_q;
        check->cache_lens = FA_CACHE_FIXED;
        fa_varlen_dist_from(lens, (int)(sizeof lens / sizeof lens[0]), &check->lengths);
    }
}

/* ---- setup ------------------------------------------------------------------------------- */

/* Class position of c's longest problem of at most FA_RUNG0_MAX_KEYS keys (else its shortest
 * longer one) among those of GQA ratio g (0: any), the first in order on ties. */
static int rung0_mid(const engine *e, const tclass *c, int g)
{
    int hi = -1;
    for (int i = 0; i < c->np; i++) {
        const fa_problem *p = &e->o->problems[c->probs[i]];
        const int n = p->seqlen_k;
        const int h = hi < 0 ? -1 : e->o->problems[c->probs[hi]].seqlen_k;
        if (g > 0 && fa_problem_gqa(p) != g)
            continue;
        if (hi < 0 || (n <= FA_RUNG0_MAX_KEYS ? h > FA_RUNG0_MAX_KEYS || n > h
                                              : h > FA_RUNG0_MAX_KEYS && n < h))
            hi = i;
    }
    return hi;
}

/* c's rung-0 problems by GQA ratio: for each ratio above the smallest, largest first, its
 * rung0_mid problem, tagged with the ratio (a problem already chosen by keys is tagged, not
 * added twice), while FA_RUNG0_MAX leaves room. A tile that pays off at one ratio only
 * (PackGQA: its M tile holds that many query heads) can rank low at every other one: on an
 * H100 an m128 PackGQA tile won the GQA-4 problems of a class whose GQA-8 ranking problem it
 * did not lead, and halving, ranking on GQA 8 alone, lost 4.4-4.8% there even once the prior
 * put the tile among the explored; ranking GQA 4 too found it (144 of 144 problems within 2%
 * of exhaustive; bench/results/2026-12-07_session28, calls 4-7). */
static void add_ratio_rung0(const engine *e, tclass *c)
{
    int done = c->gqa_min; /* ratios above done: not yet given a problem */
    for (;;) {
        int g = 0;
        for (int i = 0; i < c->np; i++) {
            const int gi = fa_problem_gqa(&e->o->problems[c->probs[i]]);
            if (gi > c->gqa_min && (done == c->gqa_min || gi < done) && gi > g)
                g = gi;
        }
        if (g == 0)
            return; /* every ratio above the smallest has its problem */
        done = g;
        const int pick = rung0_mid(e, c, g);
        int r = 0;
        while (r < c->nrung0 && c->rung0[r] != pick)
            r++;
        if (r == c->nrung0) {
            if (c->nrung0 == FA_RUNG0_MAX)
                return; /* no room: the smaller ratios time the nearest given ratio's survivors */
            c->rung0[c->nrung0++] = pick;
        }
        c->rung0_ratio[r] = g;
    }
}

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
    /* Halving's rung 0: the shortest problem, the longest of at most FA_RUNG0_MAX_KEYS keys
     * (else the shortest longer one), the longest of all when it is longer still, and with
     * several GQA ratios each larger ratio's problem chosen as the second is
     * (add_ratio_rung0, fa_tune_engine.h). */
    for (int k = 0; k < e->ncls; k++) {
        tclass *c = &e->cls[k];
        int lo = 0, top = 0, hi = rung0_mid(e, c, 0);
        c->gqa_min = fa_problem_gqa(&o->problems[c->probs[0]]);
        for (int i = 0; i < c->np; i++) {
            const int n = o->problems[c->probs[i]].seqlen_k,
                      g = fa_problem_gqa(&o->problems[c->probs[i]]);
            if (n < o->problems[c->probs[lo]].seqlen_k)
                lo = i;
            if (n > o->problems[c->probs[top]].seqlen_k)
                top = i;
            c->gqa_min = g < c->gqa_min ? g : c->gqa_min;
        }
        c->nrung0 = 0;
        c->rung0[c->nrung0++] = lo;
        if (hi != lo)
            c->rung0[c->nrung0++] = hi;
        if (top != lo && o->problems[c->probs[top]].seqlen_k > o->problems[c->probs[hi]].seqlen_k)
            c->rung0[c->nrung0++] = top;
        c->nrung0_keys = c->nrung0;
        for (int r = 0; r < FA_RUNG0_MAX; r++)
            c->rung0_ratio[r] = 0;
        add_ratio_rung0(e, c);
    }
    return FA_OK;
}

fa_status fa_tune_class_variants(const fa_tune_opts *o, const fa_problem *key,
                                 const fa_space_filter *f, fa_variant **out, int *n, fa_err *err)
{
    if (!o->variants) {
        fa_space_filter ff = *f;
        if (o->family)
            ff.family = o->family;
        return fa_space_enumerate(o->arch, key->head_dim, &ff, out, n, err);
    }
    fa_variant *vs = malloc(sizeof *vs * (size_t)(o->n_variants + 1));
    if (!vs)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < o->n_variants; i++)
        if (fa_variant_matches(&o->variants[i], key) &&
            (!o->family || o->variants[i].family == o->family))
            vs[k++] = o->variants[i];
    *out = vs;
    *n = k;
    return FA_OK;
}

/* The prior of fa_tune.h's racing: lower is tried first; each family says its own
 * (fa_family.h), e.g. sm80's favours FlashAttention-2's tiles. */
static int prior(const fa_variant *v)
{
    return v->family && v->family->prior ? v->family->prior(v) : 0;
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

/* Whether the run's classes take their steps on their own (en_produce_by_class): halving, and
 * exhaustive without a budget. A budget is spent in one global prior order (every class's
 * best-prior variants first), so exhaustive with one keeps en_produce_compiled, without the
 * family gate. */
static int by_class(const fa_tune_opts *o)
{
    return o->strategy == FA_STRATEGY_HALVING || (o->strategy == FA_STRATEGY_EXHAUSTIVE &&
                                                  o->budget_count <= 0 && o->budget_seconds <= 0);
}

/* Whether exhaustive's family gate runs, and so may judge a class by what a resume skipped.
 * Variants named one by one (--variant) are gated as the space is, as under halving: a list
 * that must be timed whole passes --family-gate 0. */
static int exhaustive_gate(const fa_tune_opts *o)
{
    return o->strategy == FA_STRATEGY_EXHAUSTIVE && by_class(o) && o->family_gate > 0;
}

/* Whether exhaustive's stage gate runs (en_gate_depth), under the same conditions. */
static int exhaustive_stage_gate(const fa_tune_opts *o)
{
    return o->strategy == FA_STRATEGY_EXHAUSTIVE && by_class(o) && o->stage_gate > 0;
}

static fa_status build_candidates(engine *e, fa_err *err)
{
    const fa_tune_opts *o = e->o;
    fa_status st = FA_OK;
    for (int k = 0; k < e->ncls; k++) {
        tclass *kc = &e->cls[k];
        fa_space_filter f = {.dtypes = 1u << kc->key.dtype,
                             .causal = kc->key.causal ? FA_SPACE_ON : FA_SPACE_OFF,
                             .varlen = kc->key.varlen ? FA_SPACE_ON : FA_SPACE_OFF,
                             .op = kc->key.op};
        fa_variant *vs = NULL;
        int nv = 0;
        st = fa_tune_class_variants(o, &kc->key, &f, &vs, &nv, err);
        if (st != FA_OK)
            return st;
        /* exhaustive's gates may apply here: a resumed pair's stored time is read (one more
         * query), for the gates to judge the class by */
        int gated_class = 0;
        for (int i = 0; i < nv; i++)
            gated_class |= (exhaustive_gate(o) && vs[i].family && vs[i].family->arch_specific) ||
                           (exhaustive_stage_gate(o) && fa_family_has_depth_axis(vs[i].family));
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
            c->stored = malloc(sizeof(double) * (size_t)kc->np);
            if (!c->todo || !c->ms || !c->peak || !c->quick || !c->stored) {
                free(c->todo);
                free(c->ms);
                free(c->peak);
                free(c->quick);
                free(c->stored);
                free(vs);
                return FA_ERR(err, FA_NOMEM, "out of memory");
            }
            e->ncands++;
            e->st->variants++;
            /* A refusal counts as unsupported on every run, its rows stored or not: a rerun
             * over the same database says the same number (its rows are resumed, not
             * written again). The legality model does not look at the problem, so a refusal
             * is stored once per class, on its first problem: 125k of a full hd128 job's
             * 129k rows were refusals. Only a variant with an ok row for this arch (the
             * model changed since) gets one on every problem, which supersedes its old
             * timings there, so that it cannot stay a winner. */
            const int refused = fa_variant_check(&c->v, o->arch, NULL) != FA_OK;
            int every = !refused;
            if (refused && (st = fa_db_variant_has_ok(e->env->db, o->arch->name, c->name, &every,
                                                      err)) != FA_OK) {
                free(vs);
                return st;
            }
            int left = 0;
            for (int j = 0; j < kc->np; j++) {
                c->ms[j] = -1;
                c->peak[j] = -1;
                c->quick[j] = -1;
                c->stored[j] = -1;
                if (j > 0 && !every)
                    continue; /* c->todo[j] stays 0 */
                int found = 0;
                if (!o->force) {
                    char pname[FA_PROBLEM_NAME_MAX];
                    fa_problem_name(&o->problems[kc->probs[j]], pname, sizeof pname);
                    st = fa_db_has_measurement(e->env->db, e->env->device_id, o->arch->name,
                                               e->env->source_hash, c->name, pname, &found, err);
                    if (st == FA_OK && found && !refused && gated_class)
                        st = fa_db_best_ok_ms(e->env->db, e->env->device_id, o->arch->name,
                                              e->env->source_hash, c->name, pname, &c->stored[j],
                                              err);
                    if (st != FA_OK) {
                        free(vs);
                        return st;
                    }
                }
                c->todo[j] = !found;
                left += !found;
                e->st->skipped += found;
            }
            c->refused = refused;
            if (refused) {
                e->st->unsupported++;
                c->unrecorded = left > 0; /* en_record_refusals writes its rows */
                c->state = CAND_OUT;
            } else if (left == 0) {
                c->state = CAND_OUT; /* everything already measured: resume skips it */
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

void en_share_cubin_locked(engine *e, cand *c)
{
    fa_compile_output *o = &c->out;
    if (!o->cubin)
        return;
    /* fa_compile sets the hash on every output with a cubin; one without it would otherwise
     * share a buffer with any other hashless cubin of its size. */
    if (!o->cubin_hash)
        o->cubin_hash = fa_content_hash(o->cubin, o->cubin_size);
    for (int i = 0; i < e->ncubins; i++) {
        const en_cubin *x = &e->cubins[i];
        if (x->hash == o->cubin_hash && x->size == o->cubin_size) {
            free(o->cubin);
            o->cubin = x->bytes;
            c->cubin_shared = 1;
            return;
        }
    }
    if (e->ncubins == e->cubins_cap) {
        const int cap = e->cubins_cap ? 2 * e->cubins_cap : 64;
        en_cubin *grown = realloc(e->cubins, (size_t)cap * sizeof *grown);
        if (!grown)
            return; /* c keeps its own copy: engine_free tells the two apart */
        e->cubins = grown;
        e->cubins_cap = cap;
    }
    e->cubins[e->ncubins++] = (en_cubin){o->cubin_hash, o->cubin_size, o->cubin};
    c->cubin_shared = 1;
}

static void engine_free(engine *e)
{
    for (int i = 0; i < e->ncands; i++) {
        if (e->cands[i].cubin_shared)
            e->cands[i].out.cubin = NULL; /* the engine's copy, freed below */
        fa_compile_output_release(&e->cands[i].out);
        free(e->cands[i].todo);
        free(e->cands[i].ms);
        free(e->cands[i].peak);
        free(e->cands[i].quick);
        free(e->cands[i].stored);
    }
    for (int k = 0; k < e->ncls; k++)
        free(e->cls[k].probs);
    for (int i = 0; i < e->qtail; i++)
        if (e->q[i].kind == ITEM_FINALISTS)
            free(e->q[i].finals);
    for (int i = 0; i < e->ncubins; i++)
        free(e->cubins[i].bytes);
    free(e->cubins);
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
    pthread_mutex_destroy(&e->db_mu);
    pthread_cond_destroy(&e->db_cv);
    pthread_cond_destroy(&e->cv);
}

/* The timing protocols of fa_tune.h: the sweep's separate timings, the eager baseline, the
 * interleaved groups (finalists, halving's rung 1) and halving's rung 0; and the margin
 * inside a group. */
static void set_protocols(engine *e)
{
    const fa_tune_opts *o = e->o;
    /* Halving never times with the sweep protocol (its min_reps 5 applies to exhaustive and
     * random without finalists): rung 0 uses e->quick below, rung 1 e->final.
     * With finalists, a separate timing only says whether a variant is one (within 10% of the
     * best; the interleaved groups decide), so it is one repetition. Measured on the full hd128
     * exhaustive job (H200): 20,670 sweep timings of 3 repetitions varied 0.6% rep to rep on
     * average (1.3% of them over 2%), while separate timings drift a few percent over a sweep
     * and the window is 10%; their 2nd and 3rd repetitions were 38 s of its 141 s. */
    e->sweep = o->timing;
    if (e->sweep.max_reps <= 0) { /* the sweep protocol (fa_tune.h) */
        const int finals = o->strategy != FA_STRATEGY_HALVING && o->finalists > 0;
        fa_timing_opts_default(&e->sweep);
        e->sweep.warmup_reps = 1;
        e->sweep.min_reps = finals ? 1 : 5;
        if (finals)
            e->sweep.max_reps = 1;
    }
    /* The eager baseline is a yardstick (the speed-up column), not a race: one warm-up
     * launch (the harness skips it on a busy GPU: the job's own eager run just ran) and one
     * repetition. The column prints the speed-up to 0.1x; the variants' repetitions vary 0.6%
     * from one to the next (H200, 20,670 three-repetition timings of the hd128 exhaustive job;
     * 1.3% of those timings over 2%, which would move 3x by 0.06x; the eager baseline's own
     * spread was not stored). Three repetitions were 2.2 s of the 23 s warm halving job. */
    e->eager = o->timing;
    if (e->eager.max_reps <= 0) {
        fa_timing_opts_default(&e->eager);
        e->eager.warmup_reps = 1;
        e->eager.min_reps = 1;
        e->eager.max_reps = 1;
    }
    /* Interleaved groups decide winners: the 1% RSE rule from --rounds rounds (a round gives
     * every member one repetition, so the group's drift is shared). Near-ties need the rounds:
     * with 5, repetitions 2% apart at 1 ms (varlen 4k) once ranked two tiles 3.4% apart as
     * equal. With racing on, the harness still ends a group from its 5th round when every
     * round-by-round ratio to the fastest is known to 1% and none can be over 1% ahead of it
     * (fa_retime_settled): repetitions 2% apart do not settle in 5 rounds, and a tile 3.4%
     * ahead, round by round, of the one leading by median never does.
     * One warm-up launch per member, as the other protocols here take: the harness skips it
     * for a module still loaded since it ran on a busy GPU, and one launch pays a re-loaded
     * module's first-launch costs. Halving's rung-1 groups run after the other classes'
     * checks and rung 0, which push most of a class's survivors out of the worker's module
     * cache (80 slots), so the first group that holds one re-loads it: the default 3 launches,
     * one synchronisation apiece, were three rounds' worth of its GPU time. */
    e->final = o->timing;
    if (e->final.max_reps <= 0) {
        fa_timing_opts_default(&e->final);
        e->final.warmup_reps = 1;
        e->final.min_reps = o->final_rounds > 0 ? o->final_rounds : 10;
    }
    /* Halving's rung 0: one repetition, raced (fa_harness.h), ranking only. A variant cut
     * there never reaches rung 1, so the cut (the best twelfth) is generous: rung 1 re-times
     * every survivor interleaved. A variant's repetitions vary 0.6% from one to the next (cv,
     * bench/results/2026-12-04_h200_session9); three of them were 5.4 s of the 23 s warm
     * halving job, one is 2.7 s (session 11). */
    fa_timing_opts_default(&e->quick);
    e->quick.warmup_reps = 1;
    e->quick.warmup_ms = 1;
    e->quick.min_reps = 1;
    e->quick.max_reps = 1;
    e->quick.max_seconds = 0.5;
    /* Inside an interleaved group drift is shared, so a quarter of the margin is safe. */
    e->interleave_margin = o->race_margin > 0 ? 1 + (o->race_margin - 1) / 4 : 0;
    /* --gap-us holds for every protocol (the defaults above leave it 0). */
    e->sweep.gap_us = e->eager.gap_us = e->final.gap_us = e->quick.gap_us = o->timing.gap_us;
}

/* A --budget of timings must fit one variant: it is timed on every problem of its class. */
static fa_status check_budget(const engine *e, fa_err *err)
{
    const int budget = e->o->budget_count;
    if (budget <= 0)
        return FA_OK;
    int smallest = e->o->n_problems;
    for (int k = 0; k < e->ncls; k++)
        smallest = e->cls[k].np < smallest ? e->cls[k].np : smallest;
    if (budget < smallest)
        return FA_ERR(err, FA_INVALID,
                      "--budget %d cannot fit one variant: each variant is timed on %d problems "
                      "of its class",
                      budget, smallest);
    return FA_OK;
}

/* The (variant, problem) timings the run expects to store: the progress line's total. */
static int planned_timings(const engine *e)
{
    const fa_tune_opts *o = e->o;
    int planned = 0;
    for (int i = 0; i < e->ncands; i++)
        for (int j = 0; e->cands[i].state == CAND_PENDING && j < e->cls[e->cands[i].cls].np; j++)
            planned += e->cands[i].todo[j];
    if (o->strategy == FA_STRATEGY_HALVING) { /* stored timings are rung 1's: an estimate */
        planned = 0;
        for (int k = 0; k < e->ncls; k++) {
            int n = 0;
            for (int i = 0; i < e->ncands; i++)
                n += e->cands[i].cls == k && e->cands[i].state == CAND_PENDING;
            /* A problem's group: one rung-0 problem's survivors and a far share of the others'
             * (push_rung1_locked). The near ones overlap, the fast variants surviving
             * everywhere: on the full hd128 job (H100) groups held 31 variants on average, this
             * says 32; counting every rung-0 problem's survivors said 74 (a 21 s run showed
             * "timed 4475/10656, eta 28s" as its last line). */
            const int keep = en_rung1_keep(e, k, n);
            const int group = keep + (e->cls[k].nrung0 > 1 ? en_rung1_far(keep) : 0);
            planned += (group < n ? group : n) * e->cls[k].np;
        }
    }
    return planned;
}

/* Every problem starts unmeasured; one that a pending candidate will be timed on gets its
 * eager baseline queued first: the GPU has nothing else to do while the first compiles run. */
static void queue_eager(engine *e)
{
    const fa_tune_opts *o = e->o;
    for (int p = 0; p < o->n_problems; p++) {
        e->eager_ms[p] = -1;
        e->best_ms[p] = -1;
        e->quick_best[p] = -1;
        e->eager_peak[p] = -1;
        int needed = 0;
        for (int i = 0; i < e->ncands && !needed; i++)
            needed = e->cands[i].state == CAND_PENDING && e->cands[i].cls == e->class_of[p] &&
                     e->cands[i].todo[e->pos_of[p]];
        if (needed)
            en_push(e, (item){.kind = ITEM_EAGER, .problem = p});
        else
            e->eager_done[p] = 2; /* not queued: plan_opened_locked may queue it later */
    }
}

/* FA_PROFILE: where the engine's wall time went (the workers print theirs:
 * fa_runner_internal.h). */
static void print_profile(const fa_tune_opts *o, const fa_tune_stats *stats)
{
    if (!fa_profile_on())
        return;
    fprintf(stderr,
            "fa-tune profile (engine): wall %.1f s, GPU busy %.1f s, database writer %.1f s "
            "for %d records, compiles outstanding %.1f s",
            stats->wall_s, stats->gpu_busy_s, stats->db_s, stats->db_records, stats->compiling_s);
    if (o->strategy == FA_STRATEGY_HALVING) /* rung 1 runs while other classes compile */
        fprintf(stderr, ", rung 1 %.1f s of GPU (%.1f s of it while compiling)", stats->rung1_s,
                stats->rung1_compiling_s);
    fputc('\n', stderr);
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
    pthread_mutex_init(&e.db_mu, NULL);
    pthread_cond_init(&e.db_cv, NULL);
    pthread_cond_init(&e.cv, NULL);
    set_protocols(&e);
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
    e.by_class = by_class(o);
    if (o->strategy == FA_STRATEGY_HALVING)
        en_defer_by_prior(&e);
    else {
        if (exhaustive_gate(o))
            en_gate_portable(&e);
        if (exhaustive_stage_gate(o))
            en_gate_depth(&e); /* after the family gate: what it holds back, it decides */
    }
    if ((st = check_budget(&e, err)) != FA_OK)
        goto cleanup;
    fa_progress_start(&e.prog, o->progress, planned_timings(&e), o->budget_count);
    /* From here the GPU slots and the producers hand their rows to the writer thread. */
    if ((st = en_db_writer_start(&e, err)) != FA_OK)
        goto cleanup;

    /* Phase 1: eager baselines first (the GPU has nothing else while the first compiles
     * run), then every candidate as it compiles. Halving and exhaustive run their steps per
     * class in one producer (en_produce_by_class): halving's rung 0, exploration rounds and
     * rung 1 (the survivors interleaved per problem, also the final); exhaustive's timings and
     * its family gate. */
    queue_eager(&e);
    en_run_phase(&e, e.by_class ? en_produce_by_class : en_produce_compiled, threads, args);
    for (int i = 0; i < e.ncands; i++) {
        stats->unexplored += e.cands[i].state == CAND_DEFERRED;
        stats->gated += e.cands[i].state == CAND_DEFERRED && e.cands[i].gated == 2;
        stats->stage_gated += e.cands[i].state == CAND_DEFERRED && e.cands[i].depth_gated == 2;
        stats->undecided += e.cands[i].state == CAND_DEFERRED &&
                            (e.cands[i].gated == 1 || e.cands[i].depth_gated == 1);
    }
    /* Phase 2 (exhaustive, random): finalists re-timed interleaved. */
    if (e.fatal == FA_OK && o->strategy != FA_STRATEGY_HALVING && o->finalists > 0 &&
        env->backend.retime && !(env->interrupted && *env->interrupted))
        en_run_phase(&e, en_produce_finalists, threads, args);
    en_db_writer_stop(&e); /* every row handed to it stored (or its failure in e.fatal) */
    fa_progress_finish(&e.prog, e.fatal == FA_OK && !(env->interrupted && *env->interrupted));

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
    en_db_writer_stop(&e); /* an early failure's path: drain, join */
    stats->wall_s = fa_now_s() - e.t0;
    if (stats->wall_s > 0)
        stats->gpu_idle_fraction = 1.0 - stats->gpu_busy_s / (stats->wall_s * slots);
    if (stats->gpu_idle_fraction < 0)
        stats->gpu_idle_fraction = 0;
    print_profile(o, stats);
    engine_free(&e);
    free(threads);
    free(args);
    return st;
}
