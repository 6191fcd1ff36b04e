/* This file implements the compile pool: worker threads that take variants from a FIFO job
 * queue (the urgent ones first: fa_compile_pool_submit_urgent), compile them through the
 * shared fa_compiler (several at a time, sharing one NVRTC program: fa_compile_variants), and
 * hand results back in completion order (see fa_compile.h). A variant whose kernels a queued
 * or running job already compiles (the same fa_variant_kernel_label and arch: decode's splits)
 * is not compiled again: it follows that job and gets a copy of its result. One mutex guards
 * the queue, the leaders' table and the results; jobs are seconds long, so the lock is never
 * contended in a way that matters. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_compile.h"
#include "fa_family.h"

typedef struct job {
    struct job *next;          /* in the done list, or a leader's followers */
    struct job *qprev, *qnext; /* in the queue (todo) */
    struct job *hnext;         /* in the leaders' table */
    fa_variant v;
    const fa_arch *arch;
    void *tag;
    int urgent; /* queued ahead of the plain jobs, batched only with urgent ones */
    int queued; /* in the queue; else taken by a worker (a leader) or following one */
    char kernels[FA_VARIANT_NAME_MAX];      /* fa_variant_kernel_label; "" when illegal */
    unsigned hash;                          /* of arch and kernels: its bucket in the table */
    struct job *followers, *followers_tail; /* same kernels, waiting for this result */
    /* Filled when done: */
    fa_status st;
    fa_err err;
    fa_compile_output out;
} job;

/* Leaders (queued or running jobs that others may follow) by arch and kernels: a submit finds
 * its leader in constant time, not by walking a queue of 20,000 jobs. */
#define LEADER_BUCKETS 4096

struct fa_compile_pool {
    fa_compiler *c;
    pthread_mutex_t mu;
    pthread_cond_t work;          /* a job was queued, or stop */
    pthread_cond_t done;          /* a result was queued */
    job *todo_head, *todo_tail;   /* the queue: the urgent jobs, then the plain ones */
    job *last_urgent;             /* the queue's last urgent job, NULL if none */
    int queued;                   /* jobs in the queue */
    job *done_head, *done_tail;   /* results not yet returned by _next */
    job *leaders[LEADER_BUCKETS]; /* chained through hnext */
    int pending;                  /* submitted and not yet returned by _next */
    int stop;
    int nthreads;
    pthread_t *threads;
};

static void push(job **head, job **tail, job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static job *pop(job **head, job **tail)
{
    job *j = *head;
    if (j) {
        *head = j->next;
        if (!*head)
            *tail = NULL;
    }
    return j;
}

/* ---- the queue (caller holds the lock) ---------------------------------------------------- */

static void q_unlink(fa_compile_pool *p, job *j)
{
    if (p->last_urgent == j)
        p->last_urgent = j->qprev; /* urgent jobs are a prefix: NULL or urgent */
    if (j->qprev)
        j->qprev->qnext = j->qnext;
    else
        p->todo_head = j->qnext;
    if (j->qnext)
        j->qnext->qprev = j->qprev;
    else
        p->todo_tail = j->qprev;
    j->qprev = j->qnext = NULL;
    j->queued = 0;
    p->queued--;
}

/* j after `after` (NULL: at the head). */
static void q_insert(fa_compile_pool *p, job *after, job *j)
{
    j->qprev = after;
    j->qnext = after ? after->qnext : p->todo_head;
    if (j->qnext)
        j->qnext->qprev = j;
    else
        p->todo_tail = j;
    if (after)
        after->qnext = j;
    else
        p->todo_head = j;
    j->queued = 1;
    p->queued++;
}

/* Queue j by its urgency: an urgent job after the urgent ones already queued (they stay in
 * submission order) and before every plain one; a plain job last. Wakes a worker. */
static void queue_locked(fa_compile_pool *p, job *j)
{
    if (j->urgent) {
        q_insert(p, p->last_urgent, j);
        p->last_urgent = j;
    } else {
        q_insert(p, p->todo_tail, j);
    }
    pthread_cond_signal(&p->work);
}

/* ---- leaders (caller holds the lock) ------------------------------------------------------ */

static unsigned leader_hash(const fa_arch *arch, const char *kernels)
{
    unsigned h = 2166136261u; /* FNV-1a over the arch's name and the kernels' label */
    for (const char *s = arch->name; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *s = kernels; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static job *leader_find(fa_compile_pool *p, const job *j)
{
    for (job *q = p->leaders[j->hash % LEADER_BUCKETS]; q; q = q->hnext)
        if (q->arch == j->arch && !strcmp(q->kernels, j->kernels))
            return q;
    return NULL;
}

static void leader_add(fa_compile_pool *p, job *j)
{
    job **b = &p->leaders[j->hash % LEADER_BUCKETS];
    j->hnext = *b;
    *b = j;
}

static void leader_remove(fa_compile_pool *p, job *j)
{
    job **q = &p->leaders[j->hash % LEADER_BUCKETS];
    while (*q && *q != j)
        q = &(*q)->hnext;
    if (*q)
        *q = j->hnext;
    j->hnext = NULL;
}

/* Takes the next job and, to share one NVRTC program among them (fa_compile_variants), up
 * to batch - 1 more queued jobs for the same arch and family, urgent or plain as it is (an
 * urgent job does not wait for plain ones compiled with it); never more than an even share of
 * the queue, so no thread idles while another holds a long batch. Called with the lock. */
static int take_jobs(fa_compile_pool *p, job **out, int batch)
{
    int share = (p->queued + p->nthreads - 1) / p->nthreads;
    if (batch > share)
        batch = share > 0 ? share : 1;
    int m = 0;
    out[m++] = p->todo_head;
    q_unlink(p, p->todo_head);
    for (job *j = p->todo_head; j && m < batch;) {
        job *next = j->qnext;
        if (j->arch == out[0]->arch && j->v.family == out[0]->v.family &&
            j->urgent == out[0]->urgent) {
            q_unlink(p, j);
            out[m++] = j;
        }
        j = next;
    }
    return m;
}

/* A copy of a finished job's result for one that follows it: cubin and log duplicated (each
 * caller releases its own), counted as a cache hit (no compile of its own). Called without
 * the lock: lead is the worker's until it is queued as done. */
static void follow(const job *lead, job *f)
{
    f->st = lead->st;
    f->err = lead->err;
    if (lead->st != FA_OK)
        return;
    f->out = lead->out;
    f->out.cubin = NULL;
    f->out.log = NULL;
    f->out.build.cache_hit = 1;
    f->out.build.compile_ms = 0;
    f->out.cache_rebuilt = 0;
    if (lead->out.cubin) {
        f->out.cubin = malloc(lead->out.cubin_size);
        if (f->out.cubin)
            memcpy(f->out.cubin, lead->out.cubin, lead->out.cubin_size);
    }
    if (lead->out.log)
        f->out.log = strdup(lead->out.log);
    if ((lead->out.cubin && !f->out.cubin) || (lead->out.log && !f->out.log)) {
        fa_compile_output_release(&f->out);
        f->st = FA_ERR(&f->err, FA_NOMEM, "out of memory copying a shared compile result");
    }
}

static void *worker(void *arg)
{
    fa_compile_pool *p = arg;
    int batch = fa_compiler_batch(p->c);
    job *jobs[FA_COMPILE_BATCH_MAX];
    job *fol[FA_COMPILE_BATCH_MAX];
    fa_variant vs[FA_COMPILE_BATCH_MAX];
    fa_compile_output outs[FA_COMPILE_BATCH_MAX];
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->todo_head && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        int m = take_jobs(p, jobs, batch); /* they stay leaders while they compile */
        pthread_mutex_unlock(&p->mu);
        /* Even one job goes through fa_compile_variants: it also looks under the batch
         * key, where an earlier batch may have left this variant's entry. */
        fa_err e;
        fa_err_clear(&e);
        for (int i = 0; i < m; i++)
            vs[i] = jobs[i]->v;
        fa_status st = fa_compile_variants(p->c, vs, m, jobs[0]->arch, outs, &e);
        for (int i = 0; i < m; i++) {
            jobs[i]->st = st;
            jobs[i]->err = e;
            if (st == FA_OK)
                jobs[i]->out = outs[i];
        }
        /* No job follows these any more (a later sibling compiles on its own and finds the
         * cache entry); their followers get copies outside the lock, then all are done. */
        pthread_mutex_lock(&p->mu);
        for (int i = 0; i < m; i++) {
            if (jobs[i]->kernels[0])
                leader_remove(p, jobs[i]);
            fol[i] = jobs[i]->followers;
            jobs[i]->followers = jobs[i]->followers_tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < m; i++)
            for (job *f = fol[i]; f; f = f->next)
                follow(jobs[i], f);
        pthread_mutex_lock(&p->mu);
        for (int i = 0; i < m; i++) {
            push(&p->done_head, &p->done_tail, jobs[i]);
            for (job *f = fol[i]; f;) {
                job *next = f->next;
                push(&p->done_head, &p->done_tail, f);
                f = next;
            }
        }
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Frees a list chained through next (done results, followers) with every job's followers. */
static void free_list(job *j)
{
    while (j) {
        job *next = j->next;
        free_list(j->followers);
        fa_compile_output_release(&j->out);
        free(j);
        j = next;
    }
}

fa_status fa_compile_pool_new(fa_compiler *c, int nthreads, fa_compile_pool **out, fa_err *err)
{
    fa_status st = FA_OK;
    pthread_attr_t attr;
    int have_attr = 0;
    if (!c)
        return FA_ERR(err, FA_INVALID, "compile pool needs a compiler");
    if (nthreads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (int)n : 1;
    }
    fa_compile_pool *p = calloc(1, sizeof *p);
    if (!p)
        return FA_ERR(err, FA_NOMEM, "out of memory creating the compile pool");
    p->c = c;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    if (!p->threads) {
        st = FA_ERR(err, FA_NOMEM, "out of memory for %d compile threads", nthreads);
        goto cleanup;
    }
    if (pthread_attr_init(&attr) != 0) {
        st = FA_ERR(err, FA_ERROR, "pthread_attr_init failed");
        goto cleanup;
    }
    have_attr = 1;
    /* NVRTC's front end recurses deeply on heavy templates; do not depend on ulimit -s. */
    pthread_attr_setstacksize(&attr, (size_t)64 << 20);
    for (int i = 0; i < nthreads; i++) {
        int rc = pthread_create(&p->threads[i], &attr, worker, p);
        if (rc != 0) {
            st = FA_ERR(err, FA_ERROR, "cannot start compile thread %d of %d: %s", i + 1, nthreads,
                        strerror(rc));
            goto cleanup;
        }
        p->nthreads++;
    }
    *out = p;
    p = NULL;
cleanup:
    if (have_attr)
        pthread_attr_destroy(&attr);
    fa_compile_pool_free(p);
    return st;
}

static fa_status submit(fa_compile_pool *p, const fa_variant *v, const fa_arch *arch, void *tag,
                        int urgent, fa_err *err)
{
    if (!p || !v || !arch)
        return FA_ERR(err, FA_INVALID, "compile pool submit needs a pool, a variant and an arch");
    job *j = calloc(1, sizeof *j);
    if (!j)
        return FA_ERR(err, FA_NOMEM, "out of memory queueing a compile job");
    j->v = *v;
    j->arch = arch;
    j->tag = tag;
    j->urgent = urgent;
    /* A variant the legality model refuses (fused with one split, say) neither leads nor
       follows: its result is its own refusal, not its siblings' cubin. */
    fa_err why = {0};
    if (v->family && fa_family_nvrtc_arch(v->family, arch) &&
        fa_variant_check(v, arch, &why) == FA_OK) {
        fa_variant_kernel_label(v, j->kernels, sizeof j->kernels);
        j->hash = leader_hash(arch, j->kernels);
    }
    pthread_mutex_lock(&p->mu);
    job *lead = j->kernels[0] ? leader_find(p, j) : NULL;
    if (lead && lead->queued && urgent && !lead->urgent) {
        /* The queued plain job it would follow is urgent work now: it moves up. */
        q_unlink(p, lead);
        lead->urgent = 1;
        queue_locked(p, lead);
    }
    if (lead) { /* no compile of its own: lead's result is copied to it (follow) */
        if (lead->followers_tail)
            lead->followers_tail->next = j;
        else
            lead->followers = j;
        lead->followers_tail = j;
    } else {
        if (j->kernels[0])
            leader_add(p, j);
        queue_locked(p, j);
    }
    p->pending++;
    pthread_mutex_unlock(&p->mu);
    return FA_OK;
}

fa_status fa_compile_pool_submit(fa_compile_pool *p, const fa_variant *v, const fa_arch *arch,
                                 void *tag, fa_err *err)
{
    return submit(p, v, arch, tag, 0, err);
}

fa_status fa_compile_pool_submit_urgent(fa_compile_pool *p, const fa_variant *v,
                                        const fa_arch *arch, void *tag, fa_err *err)
{
    return submit(p, v, arch, tag, 1, err);
}

fa_status fa_compile_pool_next(fa_compile_pool *p, fa_variant *v_out, void **tag_out,
                               fa_compile_output *out, fa_err *err)
{
    if (!p || !out)
        return FA_ERR(err, FA_INVALID, "compile pool next needs a pool and an output");
    pthread_mutex_lock(&p->mu);
    if (p->pending == 0) {
        pthread_mutex_unlock(&p->mu);
        return FA_ERR(err, FA_NOT_FOUND, "no compile job is pending");
    }
    while (!p->done_head)
        pthread_cond_wait(&p->done, &p->mu);
    job *j = pop(&p->done_head, &p->done_tail);
    p->pending--;
    pthread_mutex_unlock(&p->mu);

    fa_status st = j->st;
    if (v_out)
        *v_out = j->v;
    if (tag_out)
        *tag_out = j->tag;
    if (st == FA_OK) {
        *out = j->out;
    } else {
        memset(out, 0, sizeof *out);
        if (err)
            *err = j->err;
        fa_compile_output_release(&j->out);
    }
    free(j);
    return st;
}

int fa_compile_pool_pending(const fa_compile_pool *p)
{
    if (!p)
        return 0;
    /* The lock is not const; pending is read under it through a cast, as it is only a count. */
    fa_compile_pool *q = (fa_compile_pool *)p;
    pthread_mutex_lock(&q->mu);
    int n = q->pending;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void fa_compile_pool_free(fa_compile_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    while (p->todo_head) { /* queued jobs (and their followers) are dropped */
        job *j = p->todo_head;
        q_unlink(p, j);
        j->next = NULL;
        free_list(j);
    }
    free_list(p->done_head);
    free(p->threads);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
