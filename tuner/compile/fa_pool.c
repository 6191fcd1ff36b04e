/* This file implements the compile pool: worker threads that take variants from a FIFO job
 * queue (the urgent ones first: fa_compile_pool_submit_urgent), compile them through the
 * shared fa_compiler (several at a time, sharing one NVRTC program: fa_compile_variants), and
 * hand results back in completion order (see fa_compile.h). One mutex guards both queues;
 * jobs are seconds long, so the lock is never contended in a way that matters. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_compile.h"

typedef struct job {
    struct job *next;
    fa_variant v;
    const fa_arch *arch;
    void *tag;
    int urgent; /* queued ahead of the plain jobs, batched only with urgent ones */
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
    int pending; /* submitted and not yet returned by _next */
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
        for (int i = 0; i < m; i++)
            push(&p->done_head, &p->done_tail, jobs[i]);
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void free_list(job *j)
{
    while (j) {
        job *next = j->next;
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
    pthread_mutex_lock(&p->mu);
    if (!urgent || !p->todo_head || !p->todo_head->urgent) {
        if (urgent) { /* before every plain job */
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
    p->pending++;
    pthread_cond_signal(&p->work);
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
