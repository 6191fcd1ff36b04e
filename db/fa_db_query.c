/*
 * This file implements the read side: measurements as flat rows, the winners view, peers,
 * ceilings, runs with their devices, and the per-problem summary. Each query is one cached
 * statement stepped into a caller-visible struct handed to a callback; the statement is
 * reset before returning, so no read transaction outlives the call.
 */
#include "fa_db_internal.h"

#include <string.h>

static fa_dtype dtype_of(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t && strcmp((const char *)t, "bf16") == 0 ? FA_DTYPE_BF16 : FA_DTYPE_FP16;
}

/* Problem columns in the order dtype, head_dim, causal, varlen, batch, heads_q, heads_kv, gqa,
 * seqlen_q, seqlen_k, bucket, layout, softmax_scale, seed starting at column i. */
static void read_problem(sqlite3_stmt *s, int i, fa_problem *p, int *gqa, int *bucket)
{
    memset(p, 0, sizeof *p);
    p->dtype = dtype_of(s, i);
    p->head_dim = sqlite3_column_int(s, i + 1);
    p->causal = sqlite3_column_int(s, i + 2);
    p->varlen = sqlite3_column_int(s, i + 3);
    p->batch = sqlite3_column_int(s, i + 4);
    p->heads_q = sqlite3_column_int(s, i + 5);
    p->heads_kv = sqlite3_column_int(s, i + 6);
    *gqa = sqlite3_column_int(s, i + 7);
    p->seqlen_q = sqlite3_column_int(s, i + 8);
    p->seqlen_k = sqlite3_column_int(s, i + 9);
    *bucket = sqlite3_column_int(s, i + 10);
    const unsigned char *layout = sqlite3_column_text(s, i + 11);
    p->layout =
        layout && strcmp((const char *)layout, "bhsd") == 0 ? FA_LAYOUT_BHSD : FA_LAYOUT_BSHD;
    p->softmax_scale = (float)sqlite3_column_double(s, i + 12);
    p->seed = (uint64_t)sqlite3_column_int64(s, i + 13);
}

/* A problem's op fields from columns op_col (op) and op_col + 1 (page_size), and the
 * cache-length distribution from its name ("_uniform"; a user's "_lens<id>" keeps only the
 * name: its lengths are not stored). */
static void read_op(sqlite3_stmt *s, int op_col, const char *name, fa_problem *p)
{
    const unsigned char *op = sqlite3_column_text(s, op_col);
    fa_op o = FA_OP_FWD;
    if (op && fa_op_parse((const char *)op, &o) == FA_OK)
        p->op = o;
    if (p->op != FA_OP_DECODE)
        return;
    p->page_size = sqlite3_column_int(s, op_col + 1);
    const char *u = strstr(name, "_uniform");
    if (u && u[8] == '\0')
        p->cache_lens = FA_CACHE_UNIFORM;
}

static void read_row(sqlite3_stmt *s, fa_db_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    fa_db_col_text(s, 1, r->uuid, sizeof r->uuid);
    fa_db_col_text(s, 2, r->arch, sizeof r->arch);
    fa_db_col_text(s, 3, r->variant_name, sizeof r->variant_name);
    fa_db_col_text(s, 6, r->family, sizeof r->family);
    fa_db_col_text(s, 7, r->op, sizeof r->op);
    fa_db_col_text(s, 8, r->params, sizeof r->params);
    fa_variant *v = &r->variant;
    /* The name is the key and encodes every parameter: parsing it finds the family in this
     * binary's registry. A family this binary does not know keeps the mode columns only
     * (family NULL); the row still carries its name. */
    fa_err perr;
    if (fa_variant_parse(r->variant_name, v, &perr) != FA_OK) {
        memset(v, 0, sizeof *v);
        v->dtype = dtype_of(s, 4);
        v->head_dim = sqlite3_column_int(s, 5);
        v->causal = sqlite3_column_int(s, 11);
        v->varlen = sqlite3_column_int(s, 12);
        const unsigned char *op = sqlite3_column_text(s, 7);
        fa_op o = FA_OP_FWD;
        if (op && fa_op_parse((const char *)op, &o) == FA_OK)
            v->op = o;
    }
    fa_db_col_text(s, 13, r->problem_name, sizeof r->problem_name);
    read_problem(s, 14, &r->problem, &r->gqa, &r->bucket);
    read_op(s, 57, r->problem_name, &r->problem);
    fa_db_col_text(s, 28, r->status, sizeof r->status);
    fa_measurement *m = &r->m;
    m->status = fa_db_status_from_token(r->status);
    fa_db_col_text(s, 29, m->message, sizeof m->message);
    m->median_ms = fa_db_col_double(s, 30);
    m->min_ms = fa_db_col_double(s, 31);
    m->cv = fa_db_col_double(s, 32);
    m->reps = fa_db_col_int(s, 33);
    m->tflops = fa_db_col_double(s, 34);
    m->max_abs_err = fa_db_col_double(s, 35);
    m->rel_l2_err = fa_db_col_double(s, 36);
    m->eager_max_abs_err = fa_db_col_double(s, 37);
    m->lse_max_err = fa_db_col_double(s, 38);
    m->nonfinite = fa_db_col_int64(s, 39);
    m->unwritten = fa_db_col_int64(s, 40);
    m->check_seed = (uint64_t)sqlite3_column_int64(s, 41);
    m->peak_extra_bytes = fa_db_col_int64(s, 42);
    m->eager_median_ms = fa_db_col_double(s, 43);
    m->eager_peak_extra_bytes = fa_db_col_int64(s, 44);
    m->build.registers = fa_db_col_int(s, 45);
    m->build.smem_static = fa_db_col_int(s, 46);
    m->build.stack_bytes = fa_db_col_int(s, 47);
    m->build.spill_stores = fa_db_col_int(s, 48);
    m->build.spill_loads = fa_db_col_int(s, 49);
    m->build.compile_ms = fa_db_col_double(s, 50);
    m->build.cache_hit = fa_db_col_int(s, 51);
    fa_db_col_text(s, 52, r->measured_at, sizeof r->measured_at);
    fa_db_col_text(s, 53, r->run_uuid, sizeof r->run_uuid);
    fa_db_col_text(s, 54, r->source_hash, sizeof r->source_hash);
    fa_db_col_text(s, 55, r->fa_tune_version, sizeof r->fa_tune_version);
    fa_db_col_text(s, 56, r->device_name, sizeof r->device_name);
}

/* Step s to the end, handing each row to read(s, item) and fn(item, user); stops early when
 * fn returns non-zero. The statement is reset either way. */
#define ITERATE(db, s, item, read, fn, user, what, err)                                            \
    do {                                                                                           \
        int rc_;                                                                                   \
        while ((rc_ = sqlite3_step(s)) == SQLITE_ROW) {                                            \
            read(s, &(item));                                                                      \
            if ((fn)(&(item), (user)))                                                             \
                break;                                                                             \
        }                                                                                          \
        if (rc_ != SQLITE_ROW && rc_ != SQLITE_DONE)                                               \
            st = FA_DB_FAIL(db, rc_, what, err);                                                   \
        sqlite3_reset(s);                                                                          \
    } while (0)

static fa_status check_args(fa_db *db, int have_fn, const char *what, fa_err *err)
{
    if (!db || !have_fn)
        return FA_ERR(err, FA_INVALID, "%s: no database handle or callback", what);
    return FA_OK;
}

fa_status fa_db_measurements(fa_db *db, const fa_db_filter *filter, fa_db_row_fn fn, void *user,
                             fa_err *err)
{
    static const char what[] = "cannot read measurements from";
    fa_status st = check_args(db, fn != NULL, what, err);
    sqlite3_stmt *s = NULL;
    fa_db_filter none = {0};
    fa_db_row *row = NULL;
    if (!filter)
        filter = &none;
    const int one = filter->arch && filter->variant; /* index-friendly form */
    if (st != FA_OK ||
        (st = fa_db_stmt(db, one ? STMT_Q_MEASUREMENTS_OF : STMT_Q_MEASUREMENTS, &s, err)) != FA_OK)
        return st;
    row = sqlite3_malloc(sizeof *row);
    if (!row)
        return FA_ERR(err, FA_NOMEM, "%s '%s': out of memory", what, db->path);
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, filter->arch), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 2, filter->variant), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 3, filter->problem), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 4, filter->status), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(s, 5, filter->head_dim), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(s, 6, filter->timed_pairs != 0), what, err);
    ITERATE(db, s, *row, read_row, fn, user, what, err);

cleanup:
    sqlite3_free(row);
    return st;
}

static void read_winner(sqlite3_stmt *s, fa_db_winner *w)
{
    memset(w, 0, sizeof *w);
    fa_db_col_text(s, 0, w->arch, sizeof w->arch);
    w->dtype = dtype_of(s, 1);
    w->head_dim = sqlite3_column_int(s, 2);
    w->causal = sqlite3_column_int(s, 3);
    w->varlen = sqlite3_column_int(s, 4);
    w->gqa = sqlite3_column_int(s, 5);
    w->bucket = sqlite3_column_int(s, 6);
    fa_db_col_text(s, 7, w->variant_name, sizeof w->variant_name);
    if (fa_variant_parse(w->variant_name, &w->variant, NULL) != FA_OK)
        memset(&w->variant, 0, sizeof w->variant);
    w->problems = sqlite3_column_int(s, 8);
    w->candidates = sqlite3_column_int(s, 9);
    w->tflops = fa_db_col_double(s, 10);
    w->median_ms = fa_db_col_double(s, 11);
    w->eager_ms = fa_db_col_double(s, 12);
    w->speedup = fa_db_col_double(s, 13);
    w->peak_extra_bytes = fa_db_col_int64(s, 14);
    w->eager_peak_extra_bytes = fa_db_col_int64(s, 15);
    w->registers = fa_db_col_int(s, 16);
    w->smem_bytes = fa_db_col_int(s, 17);
    w->spill_bytes = fa_db_col_int(s, 18);
    fa_db_col_text(s, 19, w->runner_up_name, sizeof w->runner_up_name);
    w->runner_up_tflops = fa_db_col_double(s, 20);
    w->margin = sqlite3_column_type(s, 21) == SQLITE_NULL ? -1.0 : sqlite3_column_double(s, 21);
}

static void read_decode_winner(sqlite3_stmt *s, fa_db_winner *w)
{
    read_winner(s, w);
    w->q_bucket = sqlite3_column_int(s, 22);
    w->paged = sqlite3_column_int(s, 23);
}

/* Visit the rows of a winners statement (id) of arch, each read by read. */
static fa_status winners_of(fa_db *db, fa_db_stmt_id id,
                            void (*read)(sqlite3_stmt *, fa_db_winner *), const char *arch,
                            fa_db_winner_fn fn, void *user, fa_err *err)
{
    static const char what[] = "cannot read the winners from";
    fa_status st = check_args(db, fn != NULL, what, err);
    sqlite3_stmt *s = NULL;
    fa_db_winner w;
    if (st != FA_OK || (st = fa_db_stmt(db, id, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, arch), what, err);
    ITERATE(db, s, w, read, fn, user, what, err);

cleanup:
    return st;
}

fa_status fa_db_winners(fa_db *db, const char *arch, fa_db_winner_fn fn, void *user, fa_err *err)
{
    return winners_of(db, STMT_Q_WINNERS, read_winner, arch, fn, user, err);
}

fa_status fa_db_decode_winners(fa_db *db, const char *arch, fa_db_winner_fn fn, void *user,
                               fa_err *err)
{
    return winners_of(db, STMT_Q_DECODE_WINNERS, read_decode_winner, arch, fn, user, err);
}

static void read_peer(sqlite3_stmt *s, fa_db_peer *p)
{
    memset(p, 0, sizeof *p);
    fa_db_col_text(s, 0, p->arch, sizeof p->arch);
    fa_db_col_text(s, 1, p->peer, sizeof p->peer);
    fa_db_col_text(s, 2, p->version, sizeof p->version);
    fa_db_col_text(s, 3, p->problem_name, sizeof p->problem_name);
    read_problem(s, 4, &p->problem, &p->gqa, &p->bucket);
    read_op(s, 22, p->problem_name, &p->problem);
    p->median_ms = fa_db_col_double(s, 18);
    p->tflops = fa_db_col_double(s, 19);
    p->peak_extra_bytes = fa_db_col_int64(s, 20);
    fa_db_col_text(s, 21, p->run_uuid, sizeof p->run_uuid);
}

fa_status fa_db_peers(fa_db *db, const char *arch, fa_db_peer_fn fn, void *user, fa_err *err)
{
    static const char what[] = "cannot read peers from";
    fa_status st = check_args(db, fn != NULL, what, err);
    sqlite3_stmt *s = NULL;
    fa_db_peer p;
    if (st != FA_OK || (st = fa_db_stmt(db, STMT_Q_PEERS, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, arch), what, err);
    ITERATE(db, s, p, read_peer, fn, user, what, err);

cleanup:
    return st;
}

static void read_ceiling(sqlite3_stmt *s, fa_db_ceiling *c)
{
    memset(c, 0, sizeof *c);
    fa_db_col_text(s, 0, c->arch, sizeof c->arch);
    fa_db_col_text(s, 1, c->device_name, sizeof c->device_name);
    fa_db_col_text(s, 2, c->name, sizeof c->name);
    c->dtype = dtype_of(s, 3);
    c->median_ms = fa_db_col_double(s, 4);
    c->tflops = fa_db_col_double(s, 5);
    fa_db_col_text(s, 6, c->run_uuid, sizeof c->run_uuid);
}

fa_status fa_db_ceilings(fa_db *db, const char *arch, fa_db_ceiling_fn fn, void *user, fa_err *err)
{
    static const char what[] = "cannot read ceilings from";
    fa_status st = check_args(db, fn != NULL, what, err);
    sqlite3_stmt *s = NULL;
    fa_db_ceiling c;
    if (st != FA_OK || (st = fa_db_stmt(db, STMT_Q_CEILINGS, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, arch), what, err);
    ITERATE(db, s, c, read_ceiling, fn, user, what, err);

cleanup:
    return st;
}

fa_status fa_db_ceiling_best(fa_db *db, const char *arch, fa_dtype dtype, double *tflops,
                             int *found, fa_err *err)
{
    static const char what[] = "cannot read ceilings from";
    fa_status st = FA_OK;
    sqlite3_stmt *s = NULL;
    if (!db || !arch || !tflops || !found)
        return FA_ERR(err, FA_INVALID, "%s: missing argument", what);
    if ((st = fa_db_stmt(db, STMT_Q_CEILING_BEST, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, arch), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 2, fa_dtype_name(dtype)), what, err);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(s, 0) != SQLITE_NULL;
        if (*found)
            *tflops = sqlite3_column_double(s, 0);
    } else {
        st = FA_DB_FAIL(db, rc, what, err);
    }
    sqlite3_reset(s);

cleanup:
    return st;
}

static void read_run(sqlite3_stmt *s, fa_db_run *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    fa_db_col_text(s, 1, r->uuid, sizeof r->uuid);
    fa_db_device *d = &r->device;
    d->id = sqlite3_column_int64(s, 2);
    fa_db_col_text(s, 3, d->name, sizeof d->name);
    fa_db_col_text(s, 4, d->arch, sizeof d->arch);
    d->cc = sqlite3_column_int(s, 5);
    d->sm_count = sqlite3_column_int(s, 6);
    d->clock_khz = sqlite3_column_int(s, 7);
    d->mem_clock_khz = sqlite3_column_int(s, 8);
    d->memory_bytes = sqlite3_column_int64(s, 9);
    d->l2_bytes = sqlite3_column_int64(s, 10);
    d->driver_version = sqlite3_column_int(s, 11);
    d->cuda_version = sqlite3_column_int(s, 12);
    d->nvrtc_version = sqlite3_column_int(s, 13);
    fa_db_col_text(s, 14, r->fa_tune_version, sizeof r->fa_tune_version);
    fa_db_col_text(s, 15, r->source_hash, sizeof r->source_hash);
    fa_db_col_text(s, 16, r->command_line, sizeof r->command_line);
    fa_db_col_text(s, 17, r->host, sizeof r->host);
    fa_db_col_text(s, 18, r->started_at, sizeof r->started_at);
    fa_db_col_text(s, 19, r->ended_at, sizeof r->ended_at);
    fa_db_col_text(s, 20, r->status, sizeof r->status);
    r->measurements = sqlite3_column_int64(s, 21);
}

fa_status fa_db_runs(fa_db *db, const char *arch, fa_db_run_fn fn, void *user, fa_err *err)
{
    static const char what[] = "cannot read runs from";
    fa_status st = check_args(db, fn != NULL, what, err);
    sqlite3_stmt *s = NULL;
    fa_db_run r;
    if (st != FA_OK || (st = fa_db_stmt(db, STMT_Q_RUNS, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, arch), what, err);
    ITERATE(db, s, r, read_run, fn, user, what, err);

cleanup:
    return st;
}

static void read_summary(sqlite3_stmt *s, fa_db_summary *x)
{
    memset(x, 0, sizeof *x);
    fa_db_col_text(s, 0, x->arch, sizeof x->arch);
    fa_db_col_text(s, 1, x->problem_name, sizeof x->problem_name);
    x->total = sqlite3_column_int64(s, 2);
    x->ok = sqlite3_column_int64(s, 3);
    x->mismatch = sqlite3_column_int64(s, 4);
    x->unsupported = sqlite3_column_int64(s, 5);
    x->compile_error = sqlite3_column_int64(s, 6);
    x->fault = sqlite3_column_int64(s, 7);
    x->variants = sqlite3_column_int64(s, 8);
    x->compiled = sqlite3_column_int64(s, 9);
    x->spilled = sqlite3_column_int64(s, 10);
    x->other =
        x->total - x->ok - x->compiled - x->mismatch - x->unsupported - x->compile_error - x->fault;
}

fa_status fa_db_summaries(fa_db *db, const char *arch, fa_db_summary_fn fn, void *user, fa_err *err)
{
    static const char what[] = "cannot read the summary from";
    fa_status st = check_args(db, fn != NULL, what, err);
    sqlite3_stmt *s = NULL;
    fa_db_summary x;
    if (st != FA_OK || (st = fa_db_stmt(db, STMT_Q_SUMMARIES, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, arch), what, err);
    ITERATE(db, s, x, read_summary, fn, user, what, err);

cleanup:
    return st;
}
