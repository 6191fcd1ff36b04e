/*
 * This file implements the runner's timing (see fa_runner_internal.h): loading a variant
 * (through the module cache) and launching it, the timing protocol with racing, and
 * interleaved re-timing of finalists.
 */
#include "fa_retime_trace.h"
#include "fa_runner_internal.h"
#include "fa_tmap.h"
#include "fa_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the variant ----------------------------------------------------------------------- */

void rn_set_result(fa_measurement *m, fa_status st, const char *fmt, ...)
{
    va_list ap;
    m->status = st;
    va_start(ap, fmt);
    vsnprintf(m->message, sizeof m->message, fmt, ap);
    va_end(ap);
}

/* The harness's TMA service for families' argument builders (fa_arg_services). */
static fa_status encode_tiled(void *ctx, const fa_tma_desc *d, void *map, fa_err *err)
{
    fa_runner *r = ctx;
    return fa_tmap_encode(r->cu, d, map, err);
}

/* Load the variant's cubin and check it can launch here; anything it cannot do is a result
 * (FA_UNSUPPORTED / FA_INVALID in m), returned as the status. The family's plan says which
 * kernels run (job->symbol: their lowered names, one a line), with what geometry, and how
 * much scratch they share (allocated here, counted in the memory the job reports). */
fa_status rn_vkernel_load(fa_runner *r, const fa_job *job, const fa_tensors *t, vkernel *vk,
                          fa_measurement *m)
{
    const fa_variant *v = &job->variant;
    const fa_family *fam = v->family;
    char desc[256];
    memset(vk, 0, sizeof *vk);
    vk->v = v;
    if (!fam) {
        rn_set_result(m, FA_INVALID, "variant has no kernel family");
        return m->status;
    }
    fa_shape shape = {.op = v->op,
                      .batch = t->batch,
                      .heads_q = t->heads_q,
                      .heads_kv = t->heads_kv,
                      .seqlen_q = t->max_q,
                      .seqlen_k = t->max_k,
                      .head_dim = t->head_dim,
                      .multiprocessors = r->info.sm_count};
    fa_err pe = {0};
    if (fam->plan(v, &shape, &vk->plan, &pe) != FA_OK) {
        rn_set_result(m, FA_INVALID, "%s", pe.msg);
        return m->status;
    }
    for (int i = 0; i < vk->plan.nlaunches; i++) {
        const fa_launch *l = &vk->plan.launch[i];
        unsigned threads = l->block[0] * l->block[1] * l->block[2];
        if (l->kernel < 0 || l->kernel >= fam->nkernels || threads < 32) {
            rn_set_result(m, FA_INVALID, "launch %d has kernel %d and %u threads", i, l->kernel,
                          threads);
            return m->status;
        }
        if ((int)l->smem > r->info.smem_per_block_optin) {
            rn_set_result(m, FA_UNSUPPORTED, "needs %u bytes of shared memory; this GPU allows %d",
                          l->smem, r->info.smem_per_block_optin);
            return m->status;
        }
    }
    const char *sym = job->symbol ? job->symbol : "";
    for (int k = 0; k < fam->nkernels; k++) {
        char one[1024];
        size_t len = strcspn(sym, "\n");
        snprintf(one, sizeof one, "%.*s", (int)len, sym);
        sym += len + (sym[len] == '\n');
        fa_module_entry *me = NULL;
        CUresult e = CUDA_SUCCESS;
        fa_module_cache_get(&r->modules, r->cu, job->cubin, job->cubin_size, job->cubin_hash, one,
                            &me, &e);
        if (e == CUDA_ERROR_NOT_FOUND) {
            rn_set_result(m, FA_INVALID, "no kernel '%s' in the variant's cubin", one);
            return m->status;
        }
        if (e != CUDA_SUCCESS) {
            fa_cuda_describe(r->cu, e, desc, sizeof desc);
            rn_set_result(m, FA_UNSUPPORTED, "cubin does not load on %s (sm_%d): %s", r->info.name,
                          r->info.cc, desc);
            return m->status;
        }
        vk->fn[k] = me->fn;
        if (k == 0)
            vk->entry = me;
        /* Each kernel's argument size is asserted in C and CUDA at compile time; this checks
         * the kernel actually built is the one that agrees (a stale cache entry would not). */
        size_t off = 0, size = 0;
        if (r->cu->cuFuncGetParamInfo &&
            r->cu->cuFuncGetParamInfo(me->fn, 0, &off, &size) == CUDA_SUCCESS &&
            size != fam->kernels[k].param_bytes) {
            rn_set_result(m, FA_INVALID,
                          "kernel's parameter is %zu bytes but its family says %zu: templates "
                          "and harness disagree",
                          size, fam->kernels[k].param_bytes);
            return m->status;
        }
    }
    for (int i = 0; i < vk->plan.nlaunches; i++) {
        const fa_launch *l = &vk->plan.launch[i];
        fa_module_entry *me = NULL;
        CUresult e = CUDA_SUCCESS;
        CUfunction fn = vk->fn[l->kernel];
        /* smem_set is tracked for kernel 0's entry; other kernels set theirs each load. */
        if (l->kernel == 0)
            me = vk->entry;
        if (!me || me->smem_set != l->smem)
            e = r->cu->cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                          (int)l->smem);
        if (e != CUDA_SUCCESS) {
            fa_cuda_describe(r->cu, e, desc, sizeof desc);
            rn_set_result(m, FA_UNSUPPORTED, "cannot allow %u bytes of dynamic shared memory: %s",
                          l->smem, desc);
            return m->status;
        }
        if (me)
            me->smem_set = l->smem;
        unsigned threads = l->block[0] * l->block[1] * l->block[2];
        int max_threads = 0, regs = 0;
        r->cu->cuFuncGetAttribute(&max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, fn);
        r->cu->cuFuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, fn);
        if (max_threads > 0 && (unsigned)max_threads < threads) {
            rn_set_result(m, FA_UNSUPPORTED,
                          "%d registers per thread allow %d threads per CTA, not %u", regs,
                          max_threads, threads);
            return m->status;
        }
    }
    vk->args = aligned_alloc(64, (size_t)vk->plan.nlaunches * FA_MAX_ARG_BYTES);
    if (!vk->args) {
        rn_set_result(m, FA_NOMEM, "out of memory for kernel arguments");
        return m->status;
    }
    if (vk->plan.scratch_bytes) {
        fa_err e = {0};
        if (rn_dalloc(r, &vk->scratch, (size_t)vk->plan.scratch_bytes, "scratch", &e) != FA_OK) {
            rn_fail(m, e.status, &e);
            return m->status;
        }
        /* zeroed once here; before every run too unless the plan keeps it (scratch_keep) */
        CUresult ce =
            r->cu->cuMemsetD8Async(vk->scratch, 0, (size_t)vk->plan.scratch_bytes, r->stream);
        if (ce != CUDA_SUCCESS) {
            char d[160];
            fa_cuda_describe(r->cu, ce, d, sizeof d);
            rn_set_result(m, FA_FAULT, "cannot clear the scratch: %s", d);
            return m->status;
        }
    }
    return FA_OK;
}

void rn_vkernel_release(fa_runner *r, vkernel *vk)
{
    rn_dfree(r, &vk->scratch);
    free(vk->args);
    vk->args = NULL;
}

/* Build the plan's argument structs for a (once per distinct a). */
static CUresult bind_args(fa_runner *r, vkernel *vk, const fa_fwd_params *a)
{
    if (vk->bound && memcmp(&vk->base, a, sizeof *a) == 0)
        return CUDA_SUCCESS;
    const fa_family *fam = vk->v->family;
    fa_arg_services svc = {.ctx = r, .encode_tiled = encode_tiled};
    fa_args_in in = {.base = a, .scratch = (uint64_t)vk->scratch, .svc = &svc};
    for (int i = 0; i < vk->plan.nlaunches; i++) {
        fa_err e = {0};
        unsigned char *buf = vk->args + (size_t)i * FA_MAX_ARG_BYTES;
        memset(buf, 0, FA_MAX_ARG_BYTES);
        if (fam->args(vk->v, vk->plan.launch[i].kernel, &in, buf, &e) != FA_OK)
            return CUDA_ERROR_INVALID_VALUE;
    }
    vk->base = *a;
    vk->bound = 1;
    return CUDA_SUCCESS;
}

/* After a failed launch or synchronisation: is the context still usable? A sticky error
 * (illegal address, misaligned access, launch failure, trap) poisons it for good. */
void rn_classify(fa_runner *r, CUresult e, const char *when, fa_measurement *m)
{
    char desc[256];
    fa_cuda_describe(r->cu, e, desc, sizeof desc);
    if (r->cu->cuCtxSynchronize() != CUDA_SUCCESS) {
        r->poisoned = 1;
        rn_set_result(m, FA_FAULT, "%s: %s", when, desc);
    } else if (e == CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES || e == CUDA_ERROR_INVALID_VALUE ||
               e == CUDA_ERROR_NOT_SUPPORTED) {
        rn_set_result(m, FA_UNSUPPORTED, "launch refused: %s", desc);
    } else {
        rn_set_result(m, FA_FAULT, "%s: %s", when, desc);
    }
}

/* One launch of a plan on the stream. A cluster or an early (programmatic dependent) launch
 * goes through cuLaunchKernelEx with its attributes, PDL only where the runner allows it
 * (r->pdl); the rest through cuLaunchKernel. */
static CUresult launch_one(fa_runner *r, const fa_launch *l, CUfunction fn, void **args)
{
    CUlaunchAttribute at[2];
    unsigned n = 0;
    memset(at, 0, sizeof at);
    if (l->cluster[0] * l->cluster[1] * l->cluster[2] > 1) {
        at[n].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
        at[n].value.clusterDim.x = l->cluster[0];
        at[n].value.clusterDim.y = l->cluster[1];
        at[n].value.clusterDim.z = l->cluster[2];
        n++;
    }
    if (l->pdl && r->pdl) {
        at[n].id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
        at[n].value.programmaticStreamSerializationAllowed = 1;
        n++;
    }
    if (n == 0)
        return r->cu->cuLaunchKernel(fn, l->grid[0], l->grid[1], l->grid[2], l->block[0],
                                     l->block[1], l->block[2], l->smem, r->stream, args, NULL);
    if (!r->cu->cuLaunchKernelEx)
        return CUDA_ERROR_NOT_SUPPORTED;
    CUlaunchConfig cfg = {.gridDimX = l->grid[0],
                          .gridDimY = l->grid[1],
                          .gridDimZ = l->grid[2],
                          .blockDimX = l->block[0],
                          .blockDimY = l->block[1],
                          .blockDimZ = l->block[2],
                          .sharedMemBytes = l->smem,
                          .hStream = r->stream,
                          .attrs = at,
                          .numAttrs = n};
    return r->cu->cuLaunchKernelEx(&cfg, fn, args, NULL);
}

/* One run of the variant: the plan's launches in order on the stream, the scratch zeroed
 * first (a split kernel's partial sums start from nothing every run) unless the plan keeps
 * it (zeroed once at allocation; the launches leave it so). */
CUresult rn_launch_variant(fa_runner *r, vkernel *vk, fa_fwd_params *a)
{
    CUresult e = bind_args(r, vk, a);
    if (e == CUDA_SUCCESS && vk->scratch && !vk->plan.scratch_keep)
        e = r->cu->cuMemsetD8Async(vk->scratch, 0, (size_t)vk->plan.scratch_bytes, r->stream);
    for (int i = 0; e == CUDA_SUCCESS && i < vk->plan.nlaunches; i++) {
        const fa_launch *l = &vk->plan.launch[i];
        void *args[] = {vk->args + (size_t)i * FA_MAX_ARG_BYTES};
        e = launch_one(r, l, vk->fn[l->kernel], args);
    }
    return e;
}

/* ---- timing ---------------------------------------------------------------------------- */

static fa_status flush_l2(fa_runner *r, const helper_mod *h, fa_err *err)
{
    long long n = (long long)(r->flush_bytes / 16);
    unsigned v = ++r->flush_count; /* a different value each time: nothing to elide */
    void *args[] = {&r->flush_buf, &n, &v};
    return rn_launch_1d(r, h->flush, n, args, "fa_ref_l2_flush", err);
}

/* What comes before a timed repetition's start event: the L2 flush (unless no_flush), then the
 * GPU idle of gap_us (fa_timing_opts). */
static fa_status before_rep(fa_runner *r, const helper_mod *h, const fa_timing_opts *o, fa_err *err)
{
    fa_status st = o->no_flush ? FA_OK : flush_l2(r, h, err);
    if (st == FA_OK && o->gap_us > 0) {
        unsigned long long ns = (unsigned long long)(o->gap_us * 1e3);
        void *args[] = {&ns};
        st = rn_launch(r, h->idle, 1, 1, 1, 32, 0, args, "fa_ref_gpu_idle", err);
    }
    return st;
}

static fa_status event_ms(fa_runner *r, CUevent a, CUevent b, double *ms, fa_err *err)
{
    float f = 0;
    fa_status st = FA_CU(r->cu, err, r->cu->cuEventElapsedTime(&f, a, b));
    *ms = f;
    return st;
}

/* A GPU that finished work for us this recently still runs at its working clocks: a timing
 * then needs only warmup_reps launches, not warmup_ms of GPU time (fa_harness.h). */
#define FA_WARM_GAP_S 0.2

/*
 * The timing protocol: warm-up (at least warmup_reps launches, and warmup_ms of GPU time
 * unless the GPU was busy for us within FA_WARM_GAP_S), then batches of repetitions, each
 * preceded by an L2 flush outside its event pair; after each batch the statistics decide:
 * stop once min_reps are in and the relative standard error is below target, or at max_reps,
 * or past max_seconds with at least 3 reps. With abandon_ms set, the first repetitions are
 * judged one at a time: one above FA_ABANDON_ONE_REP x abandon_ms, or a median of
 * FA_ABANDON_REPS above abandon_ms, ends the timing early (*abandoned = 1).
 *
 * The warm-up is booked to RN_PROF_WARMUP and the repetitions to prof_phase (FA_PROFILE).
 * fn_launched says the thing timed has already run in this context (a variant checked or
 * timed earlier, whose module stayed loaded): its first-launch costs are paid, so on a warm
 * GPU there is nothing left for a warm-up to absorb and none is run. On the full hd128 sweep
 * these launches were about 23 s of GPU time, one per timing.
 */
fa_status rn_time_reps(fa_runner *r, const helper_mod *h, rep_fn fn, void *ctx,
                       const fa_timing_opts *o, int fn_launched, int prof_phase,
                       fa_time_stats *st_out, int *abandoned, fa_err *err)
{
    const double t0 = fa_now_s();
    const int gpu_warm = r->last_busy_s > 0 && t0 - r->last_busy_s < FA_WARM_GAP_S;
    const double warmup_ms = gpu_warm ? 0 : o->warmup_ms;
    fa_status st = FA_OK;
    double warm_ms = 0, ms = 0;
    int warm = 0;
    *abandoned = 0;
    while (st == FA_OK && !(gpu_warm && fn_launched)) {
        st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[0], r->stream));
        if (st == FA_OK)
            st = fn(r, ctx, err);
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[1], r->stream));
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuEventSynchronize(r->ev[1]));
        if (st == FA_OK)
            st = event_ms(r, r->ev[0], r->ev[1], &ms, err);
        warm_ms += ms;
        warm++;
        if (warm >= o->warmup_reps && warm_ms >= warmup_ms)
            break;
        if (warm >= 10000 || fa_now_s() - t0 > o->max_seconds)
            break;
    }
    if (st != FA_OK)
        return st;
    const double t1 = rn_prof(r, RN_PROF_WARMUP, t0);
    const int cap = o->max_reps > 0 ? o->max_reps : 1;
    double *x = malloc((size_t)cap * sizeof *x);
    if (!x)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    int n = 0;
    fa_time_stats s;
    memset(&s, 0, sizeof s);
    while (st == FA_OK) {
        /* Batches of about 20 ms between host synchronisations (estimated from the warm-up or
         * the repetitions so far), within the event pool and never past what the stopping rule
         * can still need; while a race can still end the timing, one repetition at a time. */
        const double est = n > 0 ? s.mean_ms : warm > 0 ? warm_ms / warm : 0;
        int nb = est > 0 ? (int)(20.0 / est) : 1;
        nb = nb < 1 ? 1 : nb > FA_EV_PAIRS ? FA_EV_PAIRS : nb;
        if (n < o->min_reps && nb > o->min_reps - n)
            nb = o->min_reps - n;
        if (o->abandon_ms > 0 && n < FA_ABANDON_REPS)
            nb = 1;
        const int racing = o->abandon_ms > 0 && n < FA_ABANDON_REPS;
        nb = nb < cap - n ? nb : cap - n;
        for (int i = 0; st == FA_OK && i < nb; i++) {
            st = before_rep(r, h, o, err);
            if (st == FA_OK)
                st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[2 * i], r->stream));
            if (st == FA_OK)
                st = fn(r, ctx, err);
            if (st == FA_OK)
                st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[2 * i + 1], r->stream));
        }
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuEventSynchronize(r->ev[2 * nb - 1]));
        for (int i = 0; st == FA_OK && i < nb; i++)
            st = event_ms(r, r->ev[2 * i], r->ev[2 * i + 1], &x[n++], err);
        if (st != FA_OK)
            break;
        fa_stats_compute(x, n, &s);
        if (racing && (s.min_ms > FA_ABANDON_ONE_REP * o->abandon_ms ||
                       (n >= FA_ABANDON_REPS && s.median_ms > o->abandon_ms))) {
            *abandoned = 1;
            break;
        }
        if (n >= o->min_reps && s.rse <= o->target_rse)
            break;
        if (n >= cap)
            break;
        if (fa_now_s() - t1 >= o->max_seconds && n >= 3)
            break;
    }
    free(x);
    rn_prof(r, prof_phase, t1);
    if (st == FA_OK)
        *st_out = s;
    return st;
}

fa_status rn_variant_rep_fn(fa_runner *r, void *ctx, fa_err *err)
{
    variant_rep *c = ctx;
    return fa_cuda_check(r->cu, rn_launch_variant(r, c->vk, c->params), "variant launch", __FILE__,
                         __LINE__, err);
}

fa_status rn_eager_rep_fn(fa_runner *r, void *ctx, fa_err *err)
{
    eager_rep *c = ctx;
    return rn_eager_run(r, c->h, c->b, c->p, c->pl, 0, err);
}

/* ---- interleaved re-timing ------------------------------------------------------------- */

/* Job i against job l over their first m rounds, round by round: the statistics of
 * x_i[k] / x_l[k] (tmp holds m values). Launches of one round are adjacent, so a clock or
 * power state that moves between rounds -- long groups of heavy kernels throttle, and a
 * member's repetitions then varied by 4-26% on an H100 -- divides out of the ratio. */
static void paired_stats(const double *xi, const double *xl, int m, double *tmp, fa_time_stats *s)
{
    for (int k = 0; k < m; k++)
        tmp[k] = xl[k] > 0 ? xi[k] / xl[k] : 0;
    fa_stats_compute(tmp, m, s);
}

/* The fastest job by median among the active, unraced ones with a sample; -1 if none. */
static int group_leader(int n, const int *active, const int *raced, double *const *x, const int *nx)
{
    int bi = -1;
    double bm = 0;
    for (int i = 0; i < n; i++) {
        if (!active[i] || raced[i] || nx[i] < 1)
            continue;
        fa_time_stats s;
        fa_stats_compute(x[i], nx[i], &s);
        if (bi < 0 || s.median_ms < bm) {
            bi = i;
            bm = s.median_ms;
        }
    }
    return bi;
}

/* What one fa_runner_retime shares between its phases. */
typedef struct retime_ctx {
    fa_runner *r;
    const fa_job *jobs;
    int n;
    fa_measurement *ms;
    int *culprit;
    const fa_problem *p;
    helper_mod *h;
    fa_timing_opts topt;
    vkernel vk[FA_RETIME_MAX];
    int active[FA_RETIME_MAX], raced[FA_RETIME_MAX];
    int ref[FA_RETIME_MAX];      /* a raced job: the fastest job when it was raced */
    double ratio[FA_RETIME_MAX]; /* ...and its median over that job's, same rounds */
    double *x[FA_RETIME_MAX];    /* each job's times, one per round */
    int nx[FA_RETIME_MAX];
    int cap, n_active;
    int round;   /* rounds launched: the order's turn (fa_retime_slot) */
    double *tmp; /* paired_stats' ratios */
    fa_err e;
    bufs *b;
    CUdeviceptr lse;
    fa_fwd_params a;
    double flops;
} retime_ctx;

/* The jobs a re-timing takes: 1 to FA_RETIME_MAX variants of one problem, on a live context. */
static fa_status retime_check_jobs(const fa_runner *r, const fa_job *jobs, int n, fa_err *err)
{
    if (n < 1 || n > FA_RETIME_MAX)
        return FA_ERR(err, FA_INVALID, "interleaved re-timing takes 1 to %d jobs, not %d",
                      FA_RETIME_MAX, n);
    if (r->poisoned)
        return FA_ERR(err, FA_INVALID, "the runner's CUDA context is lost to an earlier fault");
    const fa_problem *p = &jobs[0].problem;
    for (int i = 0; i < n; i++) {
        if (!jobs[i].cubin)
            return FA_ERR(err, FA_INVALID, "job %d has no cubin: only variants are re-timed", i);
        if (!rn_same_problem(p, &jobs[i].problem))
            return FA_ERR(err, FA_INVALID, "job %d's problem differs: finalists share a problem",
                          i);
        if (!fa_variant_matches(&jobs[i].variant, p))
            return FA_ERR(err, FA_INVALID, "job %d's variant does not implement the problem", i);
    }
    return FA_OK;
}

/* The shared inputs, the LSE and the kernel arguments, then every job's kernel and sample
 * array: a job that cannot start gets its result now and stays inactive. */
static void retime_prepare(retime_ctx *c)
{
    fa_runner *r = c->r;
    const fa_problem *p = c->p;
    uint64_t seed = rn_job_seed(r, &c->jobs[0]);
    fa_status st = rn_inputs_for_timing(r, c->h, p, seed, &c->b, &seed, &c->e);
    bufs *b = c->b;
    if (st == FA_OK)
        st = rn_dalloc(r, &c->lse, (size_t)b->t.lse_elems * 4, "LSE", &c->e);
    c->flops = st == FA_OK ? fa_tensors_flops(&b->t, p) : 0;
    if (st == FA_OK)
        rn_bufs_params(b, p, b->o, c->lse, &c->a);
    c->n_active = 0;
    for (int i = 0; i < c->n; i++) {
        fa_measurement *m = &c->ms[i];
        fa_measurement_init(m);
        m->build = c->jobs[i].build;
        m->check_seed = seed;
        c->active[i] = 0;
        if (st != FA_OK) {
            rn_fail(m, st, &c->e);
            continue;
        }
        if (rn_vkernel_load(r, &c->jobs[i], &b->t, &c->vk[i], m) != FA_OK)
            continue;
        c->x[i] = malloc((size_t)c->cap * sizeof *c->x[i]);
        if (!c->x[i]) {
            rn_set_result(m, FA_NOMEM, "out of memory");
            continue;
        }
        c->active[i] = 1;
        c->n_active++;
    }
}

/* Warm-up every finalist before the first timed round, but for one that already ran here on
 * a GPU still busy for us (rn_time_reps says why). A job that faults is the culprit. */
static void retime_warmup(retime_ctx *c, double t_start)
{
    fa_runner *r = c->r;
    const int gpu_warm = r->last_busy_s > 0 && t_start - r->last_busy_s < FA_WARM_GAP_S;
    for (int i = 0; i < c->n && !r->poisoned; i++) {
        const int warmups =
            gpu_warm && c->active[i] && c->vk[i].entry->launched ? 0 : c->topt.warmup_reps;
        for (int w = 0; c->active[i] && w < warmups; w++) {
            CUresult ce = rn_launch_variant(r, &c->vk[i], &c->a);
            if (ce == CUDA_SUCCESS)
                ce = r->cu->cuStreamSynchronize(r->stream);
            if (ce != CUDA_SUCCESS) {
                rn_classify(r, ce, "warm-up", &c->ms[i]);
                c->active[i] = 0;
                c->n_active--;
                *c->culprit = i;
            }
        }
    }
}

/* One round: A B C ..., each after its own L2 flush (and GPU idle, gap_us), enqueued back to back
 * and synchronised once, in an order that turns by one job each round (fa_retime_slot).
 * (Synchronising after every launch left the GPU idle between them, and repetitions varied by 2% at
 * 1 ms against 0.1% in a separate timing's batches: enough to rank two tiles 3% apart as equal.) A
 * fault in a round is pinned on no job: all are returned interrupted, and the worker re-times each
 * alone, which finds the culprit (fa_worker.c). Returns 1 when the round's times were added, 0 when
 * it failed. */
static int retime_round(retime_ctx *c)
{
    fa_runner *r = c->r;
    int in_round[FA_RETIME_MAX], nr = 0;
    CUresult ce = CUDA_SUCCESS;
    for (int k = 0; k < c->n && ce == CUDA_SUCCESS; k++) {
        const int i = fa_retime_slot(c->n, c->round, k);
        if (!c->active[i] || c->raced[i] || c->nx[i] >= c->cap)
            continue;
        if (before_rep(r, c->h, &c->topt, &c->e) != FA_OK)
            ce = CUDA_ERROR_LAUNCH_FAILED;
        if (ce == CUDA_SUCCESS)
            ce = r->cu->cuEventRecord(r->ev[2 * nr], r->stream);
        if (ce == CUDA_SUCCESS)
            ce = rn_launch_variant(r, &c->vk[i], &c->a);
        if (ce == CUDA_SUCCESS)
            ce = r->cu->cuEventRecord(r->ev[2 * nr + 1], r->stream);
        in_round[nr++] = i;
    }
    c->round++;
    if (ce == CUDA_SUCCESS && nr > 0)
        ce = r->cu->cuEventSynchronize(r->ev[2 * nr - 1]);
    double t[FA_RETIME_MAX];
    for (int k = 0; k < nr && ce == CUDA_SUCCESS; k++)
        if (event_ms(r, r->ev[2 * k], r->ev[2 * k + 1], &t[k], &c->e) != FA_OK)
            ce = CUDA_ERROR_UNKNOWN;
    if (ce != CUDA_SUCCESS) {
        fa_measurement fm;
        fa_measurement_init(&fm);
        rn_classify(r, ce, "interleaved timing", &fm);
        for (int k = 0; k < nr; k++) {
            const int i = in_round[k];
            rn_set_result(&c->ms[i], FA_INTERRUPTED,
                          "not measured: a round of the interleaved re-timing failed (%s)",
                          fm.message);
            c->active[i] = 0;
            c->n_active--;
        }
        return 0;
    }
    for (int k = 0; k < nr; k++) {
        c->x[in_round[k]][c->nx[in_round[k]]++] = t[k];
        c->vk[in_round[k]].entry->launched = 1;
    }
    return 1;
}

int fa_retime_out(const fa_time_stats *ratio, int rounds, double margin)
{
    if (margin <= 0 || rounds < 1)
        return 0;
    if (ratio->median_ms > margin * (rounds >= FA_ABANDON_REPS ? 1.0 : FA_ABANDON_ONE_REP))
        return 1;
    if (rounds >= 2 && ratio->min_ms > margin) /* over the margin in each of two rounds */
        return 1;
    const double se = ratio->rse * ratio->mean_ms; /* rse: stddev / sqrt(n) / mean */
    return rounds >= FA_RETIME_TIGHT_ROUNDS && ratio->median_ms > 1 + FA_RETIME_TIGHT &&
           ratio->mean_ms - 2 * se > 1;
}

int fa_retime_settled(const fa_time_stats *ratio, int rounds, double margin)
{
    if (margin <= 0 || rounds < FA_RETIME_SETTLED_ROUNDS || ratio->reps < FA_RETIME_SETTLED_ROUNDS)
        return 0;
    const double se = ratio->rse * ratio->mean_ms; /* rse: stddev / sqrt(n) / mean */
    const double lo = ratio->mean_ms - 2 * se, hi = ratio->mean_ms + 2 * se;
    if (!(2 * se <= FA_RETIME_ZONE) || lo < 1 - FA_RETIME_ZONE)
        return 0;
    return ratio->median_ms >= 1 ||
           (hi <= 1 + FA_RETIME_ZONE && ratio->median_ms >= 1 - FA_RETIME_ZONE);
}

int fa_retime_slot(int n, int round, int k)
{
    return n > 0 ? (int)(((long long)k + round) % n) : 0;
}

int fa_retime_min_rounds(int min_reps, int unraced)
{
    return unraced <= 1 && min_reps > FA_RETIME_ALONE_MIN ? FA_RETIME_ALONE_MIN : min_reps;
}

/* Race: every job is judged by its round-by-round ratio to the group's fastest, bi
 * (fa_retime_out). */
static void retime_race(retime_ctx *c, int bi)
{
    if (c->topt.interleave_margin <= 0 || bi < 0)
        return;
    for (int i = 0; i < c->n; i++) {
        if (!c->active[i] || c->raced[i] || i == bi || c->nx[i] < 1)
            continue;
        fa_time_stats s;
        const int m = c->nx[i] < c->nx[bi] ? c->nx[i] : c->nx[bi];
        paired_stats(c->x[i], c->x[bi], m, c->tmp, &s);
        if (fa_retime_out(&s, m, c->topt.interleave_margin)) {
            c->raced[i] = 1;
            c->ref[i] = bi;
            c->ratio[i] = s.median_ms;
        }
    }
}

/* Done once every job has min_reps rounds and its ratio to the fastest is known to
 * target_rse (a job alone: its own times, from fa_retime_min_rounds' fewer rounds); or, with
 * racing on, once every job but the fastest is settled (fa_retime_settled: none can be over 1%
 * ahead of it); or at the cap, or past the time budget. The fastest's own times need no
 * more than min_reps rounds (or the settled rounds): their median is what the others are
 * scaled by, and the clocks that spread them are shared by all. */
static int retime_converged(retime_ctx *c, int bi, double t0, double budget_s)
{
    int done = 1, fewest = c->cap, unraced = 0;
    for (int i = 0; i < c->n; i++)
        unraced += c->active[i] && !c->raced[i];
    const int min_rounds = fa_retime_min_rounds(c->topt.min_reps, unraced);
    int settled = bi >= 0 && unraced > 1;
    for (int i = 0; i < c->n; i++) {
        if (!c->active[i] || c->raced[i])
            continue;
        fa_time_stats s;
        if (bi < 0 || unraced == 1) {
            fa_stats_compute(c->x[i], c->nx[i], &s);
        } else if (i == bi) {
            s.rse = 0;
        } else {
            const int m = c->nx[i] < c->nx[bi] ? c->nx[i] : c->nx[bi];
            paired_stats(c->x[i], c->x[bi], m, c->tmp, &s);
            settled = settled && fa_retime_settled(&s, m, c->topt.interleave_margin);
        }
        if (c->nx[i] < c->cap && (c->nx[i] < min_rounds || s.rse > c->topt.target_rse))
            done = 0;
        fewest = c->nx[i] < fewest ? c->nx[i] : fewest;
    }
    return done || settled || (fa_now_s() - t0 >= budget_s && fewest >= 3);
}

/* What is stored: the fastest job's own median; every other job's median ratio to it, round
 * by round, times that median -- for a raced job, the ratio to the fastest when it was raced,
 * resolved along the chain if that one was raced later. A job's own median would carry the
 * clocks of its rounds (a raced job's are only the first ones). Frees the samples. */
static void retime_store(retime_ctx *c)
{
    fa_runner *r = c->r;
    const int n = c->n;
    double final_ms[FA_RETIME_MAX];
    int rel[FA_RETIME_MAX];
    const int lead = group_leader(n, c->active, c->raced, c->x, c->nx);
    for (int i = 0; i < n; i++) {
        final_ms[i] = -1;
        rel[i] = c->raced[i];
        if (c->active[i] && c->nx[i] > 0) {
            fa_time_stats s;
            fa_stats_compute(c->x[i], c->nx[i], &s);
            final_ms[i] = s.median_ms;
        }
        if (c->active[i] && !c->raced[i] && lead >= 0 && i != lead && c->nx[i] > 0) {
            fa_time_stats s;
            paired_stats(c->x[i], c->x[lead], c->nx[i] < c->nx[lead] ? c->nx[i] : c->nx[lead],
                         c->tmp, &s);
            rel[i] = 1;
            c->ref[i] = lead;
            c->ratio[i] = s.median_ms;
        }
    }
    fa_retime_resolve_raced(n, rel, c->ref, c->ratio, final_ms);
    for (int i = 0; i < n; i++) {
        fa_measurement *m = &c->ms[i];
        if (c->active[i] && !r->poisoned) {
            fa_time_stats s;
            fa_stats_compute(c->x[i], c->nx[i], &s);
            if (rel[i] && final_ms[i] > 0)
                s.median_ms = final_ms[i]; /* relative to the fastest (above) */
            rn_fill_timing(m, &s, c->flops);
            /* tracked: the LSE and the plan's scratch (no delta taken) */
            m->peak_extra_bytes = c->b->t.lse_elems * 4 + (int64_t)c->vk[i].plan.scratch_bytes;
            m->raced = c->raced[i];
            if (c->raced[i])
                rn_set_result(m, FA_OK,
                              "raced out of the interleaved re-timing after %d rounds at %.3fx the "
                              "fastest; median = that ratio x the fastest's final median",
                              c->nx[i], c->ratio[i]);
        } else if (c->active[i]) {
            rn_set_result(m, FA_INTERRUPTED,
                          "not measured: the worker was lost to job %d's "
                          "fault",
                          *c->culprit);
        }
        free(c->x[i]);
    }
}

fa_status fa_runner_retime(fa_runner *r, const fa_job *jobs, int n, fa_measurement *ms,
                           int *culprit, fa_err *err)
{
    *culprit = -1;
    fa_status st = retime_check_jobs(r, jobs, n, err);
    if (st != FA_OK)
        return st;
    const fa_problem *p = &jobs[0].problem;
    helper_mod *h = rn_helper_slot(r, p->dtype, p->head_dim);
    if (!h || !h->loaded)
        return FA_ERR(err, FA_INVALID, "no helper module loaded for %s head dim %d",
                      fa_dtype_name(p->dtype), p->head_dim);
    retime_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.jobs = jobs;
    c.n = n;
    c.ms = ms;
    c.culprit = culprit;
    c.p = p;
    c.h = h;
    rn_resolve_timing(&jobs[0], &c.topt);
    c.cap = c.topt.max_reps > 0 ? c.topt.max_reps : 1;
    c.tmp = malloc((size_t)c.cap * sizeof *c.tmp);
    if (!c.tmp)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    fa_err_clear(&c.e);

    retime_prepare(&c);
    const double t_start = fa_now_s();
    retime_warmup(&c, t_start);
    const double t0 = fa_now_s();
    const double budget_s = c.topt.max_seconds * (c.n_active > 0 ? c.n_active : 1);
    while (c.n_active > 0 && !r->poisoned) {
        if (!retime_round(&c))
            break;
        const int bi = group_leader(n, c.active, c.raced, c.x, c.nx);
        retime_race(&c, bi);
        if (retime_converged(&c, bi, t0, budget_s))
            break;
    }
    fa_retime_trace(jobs, n, c.active, c.raced, c.x, c.nx);
    retime_store(&c);

    free(c.tmp);
    fa_module_cache_unpin_all(&r->modules);
    rn_prof(r, RN_PROF_RETIME, t_start);
    for (int i = 0; i < n; i++)
        rn_vkernel_release(r, &c.vk[i]);
    rn_dfree(r, &c.lse);
    if (r->poisoned)
        rn_release_kept(r);
    else
        r->last_busy_s = fa_now_s();
    return FA_OK;
}
