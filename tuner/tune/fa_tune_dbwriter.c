/*
 * fa_tune_dbwriter.c -- the tuning engine's database writer: one thread that stores the rows
 * the GPU slots and the producers hand it, in the order they were handed.
 *
 * Why: a slot that wrote its own row (one SQLite transaction) left its GPU idle for that long
 * before the next job. The full hd128 exhaustive job wrote 50,040 timing rows from its slot
 * that way, and its GPU sat idle 7% of 165 s. Now a slot copies its rows into the queue and
 * goes on; the writer stores each handed batch in one transaction, as the slot did (so a
 * failure costs the same rows as before, and every row stored before it stays). A failure
 * ends the run (en_fail) with the database's message; the rows still queued are dropped, as
 * the slots' own failed writes were. en_db_writer_stop drains the queue before the run
 * reports: nothing measured is left unwritten by a run that ends normally or is interrupted.
 */
#include <stdlib.h>
#include <string.h>

#include "fa_tune_engine.h"
#include "fa_util.h"

/* One handed batch: n rows of variant v. */
struct db_rows {
    struct db_rows *next;
    fa_variant v;
    int n;
    fa_problem *ps;
    fa_measurement *ms;
};

static void rows_free(db_rows *r)
{
    if (r) {
        free(r->ps);
        free(r->ms);
        free(r);
    }
}

/* Store r's rows in one transaction and count them (db_s, db_records under db_mu). */
static fa_status store(engine *e, const db_rows *r, fa_err *err)
{
    const double t = fa_now_s();
    fa_status st = fa_db_record_many(e->env->db, e->env->run_id, e->o->arch->name, &r->v, r->ps,
                                     r->ms, r->n, err);
    pthread_mutex_lock(&e->db_mu);
    e->st->db_s += fa_now_s() - t;
    e->st->db_records += st == FA_OK ? r->n : 0;
    pthread_mutex_unlock(&e->db_mu);
    return st;
}

static void *writer_main(void *arg)
{
    engine *e = arg;
    int failed = 0;
    for (;;) {
        pthread_mutex_lock(&e->db_mu);
        while (!e->dbq && !e->db_stop)
            pthread_cond_wait(&e->db_cv, &e->db_mu);
        db_rows *list = e->dbq;
        e->dbq = e->dbq_tail = NULL;
        const int stop = e->db_stop;
        pthread_mutex_unlock(&e->db_mu);
        if (!list && stop)
            break;
        while (list) {
            db_rows *r = list;
            list = r->next;
            if (!failed) {
                fa_err err = {0};
                const fa_status st = store(e, r, &err);
                if (st != FA_OK) {
                    failed = 1;
                    en_fail(e, st, &err);
                }
            }
            rows_free(r);
        }
    }
    return NULL;
}

fa_status en_db_writer_start(engine *e, fa_err *err)
{
    e->dbq = e->dbq_tail = NULL;
    e->db_stop = 0;
    if (pthread_create(&e->db_thread, NULL, writer_main, e) != 0)
        return FA_ERR(err, FA_NOMEM, "cannot start the database writer thread");
    pthread_mutex_lock(&e->db_mu);
    e->db_running = 1;
    pthread_mutex_unlock(&e->db_mu);
    return FA_OK;
}

void en_db_writer_stop(engine *e)
{
    pthread_mutex_lock(&e->db_mu);
    const int running = e->db_running;
    e->db_stop = 1;
    pthread_cond_signal(&e->db_cv);
    pthread_mutex_unlock(&e->db_mu);
    if (!running)
        return;
    pthread_join(e->db_thread, NULL); /* the queue is empty once it returns */
    pthread_mutex_lock(&e->db_mu);
    e->db_running = 0;
    pthread_mutex_unlock(&e->db_mu);
}

fa_status en_db_write(engine *e, const fa_variant *v, const int *problems, const fa_measurement *ms,
                      int n, fa_err *err)
{
    if (n < 1)
        return FA_OK;
    db_rows *r = calloc(1, sizeof *r);
    if (r) {
        r->ps = malloc(sizeof *r->ps * (size_t)n);
        r->ms = malloc(sizeof *r->ms * (size_t)n);
    }
    if (!r || !r->ps || !r->ms) {
        rows_free(r);
        return FA_ERR(err, FA_NOMEM, "out of memory for %d database rows", n);
    }
    r->v = *v;
    r->n = n;
    for (int i = 0; i < n; i++)
        r->ps[i] = e->o->problems[problems[i]];
    memcpy(r->ms, ms, sizeof *ms * (size_t)n);
    pthread_mutex_lock(&e->db_mu);
    if (!e->db_running) {
        /* No writer: before it starts or after it stops, when the engine's one thread is the
           only one that writes (the slots and producers run in between). Store them here. */
        pthread_mutex_unlock(&e->db_mu);
        const fa_status st = store(e, r, err);
        rows_free(r);
        return st;
    }
    if (e->dbq_tail)
        e->dbq_tail->next = r;
    else
        e->dbq = r;
    e->dbq_tail = r;
    pthread_cond_signal(&e->db_cv);
    pthread_mutex_unlock(&e->db_mu);
    return FA_OK;
}
