/* This file implements the compile pool: worker threads that take variants from a FIFO job
 * queue (the urgent ones first: fa_compile_pool_submit_urgent), compile them through the
 * shared fa_compiler (several at a time, sharing one NVRTC program: fa_compile_variants), and
 * hand results back in completion order (see fa_compile.h). A variant whose kernels a queued
 * or running job already compiles (the same fa_variant_kernel_label and arch: decode's splits)
 * is not compiled again: it follows that job and gets a copy of its result. One mutex guards
 * the queues; jobs are seconds long, so the lock is never contended in a way that matters. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_compile.h"
#include "fa_family.h"

typedef struct job {
    struct job *next;
    fa_variant v;
    const fa_arch *arch;
    void *tag;
    int urgent; /* queued ahead of the plain jobs, batched only with urgent ones */
    char kernels[FA_VARIANT_NAME_MAX]; /* fa_variant_kernel_label; "" when illegal */
    struct job *followers;             /* jobs of the same kernels, waiting for this result */
    struct job *running_next;          /* in the pool's running list */
    /* Filled when done: */
    fa_status st;
    fa_err err;
    fa_compile_output out;
} job;

struct fa_compile_pool {
    fa_compiler *c;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a result was queued */
    job *todo_head, *todo_tail;
    job *done_head, *done_tail;
    job *running; /* taken by a worker, result not yet queued */
    int pending;  /* submitted and not yet returned by _next */
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

/* Takes the next job and, to share one NVRTC program among them (fa_compile_variants), up
 * to batch - 1 more queued jobs for the same arch and family, urgent or plain as it is (an
 * urgent job does not wait for plain ones compiled with it); never more than an even share of
 * the queue, so no thread idles while another holds a long batch. Called with the lock. */
static int take_jobs(fa_compile_pool *p, job **out, int batch)
{
    int queued = 0;
    for (job *j = p->todo_head; j; j = j->next)
        queued++;
    int share = (queued + p->nthreads - 1) / p->nthreads;
    if (batch > share)
        batch = share > 0 ? share : 1;
    int m = 0;
    out[m++] = pop(&p->todo_head, &p->todo_tail);
    job *prev = NULL;
    for (job *j = p->todo_head; j && m < batch;) {
        job *next = j->next;
        if (j->arch == out[0]->arch && j->v.family == out[0]->v.family &&
            j->urgent == out[0]->urgent) {
            if (prev)
                prev->next = next;
            else
                p->todo_head = next;
            if (p->todo_tail == j)
                p->todo_tail = prev;
            out[m++] = j;
        } else {
            prev = j;
        }
        j = next;
    }
    return m;
}

/* A copy of a finished job's result for one that follows it: cubin and log duplicated (each
 * caller releases its own), counted as a cache hit (no compile of its own). */
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

/* Queue the results of j's followers (caller holds the lock). */
static void finish_followers(fa_compile_pool *p, job *j)
{
    while (j->followers) {
        job *f = j->followers;
        j->followers = f->next;
        follow(j, f);
        push(&p->done_head, &p->done_tail, f);
    }
}

static void *worker(void *arg)
{
    fa_compile_pool *p = arg;
    int batch = fa_compiler_batch(p->c);
    job *jobs[FA_COMPILE_BATCH_MAX];
    fa_variant vs[FA_COMPILE_BATCH_MAX];
    fa_compile_output outs[FA_COMPILE_BATCH_MAX];
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->todo_head && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        int m = take_jobs(p, jobs, batch);
        for (int i = 0; i < m; i++) {
            jobs[i]->running_next = p->running;
            p->running = jobs[i];
        }
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
        pthread_mutex_lock(&p->mu);
        for (int i = 0; i < m; i++) {
            job **r = &p->running;
            while (*r != jobs[i])
                r = &(*r)->running_next;
            *r = jobs[i]->running_next;
            push(&p->done_head, &p->done_tail, jobs[i]);
            finish_followers(p, jobs[i]);
        }
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

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

/* Queue j by its urgency (caller holds the lock) and wake a worker. */
static void queue_locked(fa_compile_pool *p, job *j)
{
    if (!j->urgent || !p->todo_head || !p->todo_head->urgent) {
        if (j->urgent) { /* before every plain job */
            j->next = p->todo_head;
            p->todo_head = j;
            if (!p->todo_tail)
                p->todo_tail = j;
        } else {
            push(&p->todo_head, &p->todo_tail, j);
        }
    } else { /* after the last urgent job: the urgent ones stay in submission order */
        job *last = p->todo_head;
        while (last->next && last->next->urgent)
            last = last->next;
        j->next = last->next;
        last->next = j;
        if (p->todo_tail == last)
            p->todo_tail = j;
    }
    pthread_cond_signal(&p->work);
}

/* The queued or running job that compiles the same kernels for the same arch as j, or NULL
 * (caller holds the lock); *prev: the job before it in the queue (NULL at the head or when it
 * is running), *queued: 1 when it is queued. */
static job *find_leader(fa_compile_pool *p, const job *j, job **prev, int *queued)
{
    *prev = NULL;
    *queued = 1;
    for (job *q = p->todo_head; q; *prev = q, q = q->next)
        if (q->arch == j->arch && !strcmp(q->kernels, j->kernels))
            return q;
    *prev = NULL;
    *queued = 0;
    for (job *q = p->running; q; q = q->running_next)
        if (q->arch == j->arch && !strcmp(q->kernels, j->kernels))
            return q;
    return NULL;
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
        fa_variant_check(v, arch, &why) == FA_OK)
        fa_variant_kernel_label(v, j->kernels, sizeof j->kernels);
    pthread_mutex_lock(&p->mu);
    job *prev = NULL;
    int queued = 0;
    job *lead = j->kernels[0] ? find_leader(p, j, &prev, &queued) : NULL;
    if (lead && queued && urgent && !lead->urgent) {
        /* The queued plain job it would follow is urgent work now: it moves up. */
        if (prev)
            prev->next = lead->next;
        else
            p->todo_head = lead->next;
        if (p->todo_tail == lead)
            p->todo_tail = prev;
        lead->next = NULL;
        lead->urgent = 1;
        queue_locked(p, lead);
    }
    if (lead) { /* no compile of its own: lead's result is copied to it (follow) */
        j->next = lead->followers;
        lead->followers = j;
    } else {
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
    free_list(p->todo_head);
    free_list(p->done_head);
    free(p->threads);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
