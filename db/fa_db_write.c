/*
 * This file implements every write a tuner makes: devices, runs, measurements (with their
 * variant and problem rows), peers and ceilings, plus the resume lookup. Each call is one
 * transaction (BEGIN IMMEDIATE ... COMMIT), so a crash or a signal between calls leaves the
 * database with every earlier result and nothing half-written.
 */
#include "fa_db_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

fa_status fa_db_uuid(char buf[FA_DB_UUID_MAX], fa_err *err)
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            char why[128];
            return FA_ERR(err, FA_IO, "cannot make a run id: getrandom: %s",
                          fa_db_errno_text(errno, why, sizeof why));
        }
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(buf, FA_DB_UUID_MAX,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return FA_OK;
}

void fa_db_device_compile_only(const fa_arch *arch, int cuda_version, int nvrtc_version,
                               fa_db_device *dev)
{
    memset(dev, 0, sizeof *dev);
    snprintf(dev->name, sizeof dev->name, "%s", FA_DB_COMPILE_ONLY);
    snprintf(dev->arch, sizeof dev->arch, "%s", arch ? arch->name : "");
    dev->cc = arch ? arch->cc : 0;
    dev->cuda_version = cuda_version;
    dev->nvrtc_version = nvrtc_version;
}

/* Step a statement that returns no row; SQLITE_DONE -> SQLITE_OK. */
static int step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Step a `SELECT id ...`; *id = -1 if no row. */
static int step_id(sqlite3_stmt *s, int64_t *id)
{
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? (int64_t)sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int bind_device(sqlite3_stmt *s, const fa_db_device *d)
{
    int rc = fa_db_bind_text(s, 1, d->name);
    rc = rc ? rc : fa_db_bind_text(s, 2, d->arch);
    rc = rc ? rc : sqlite3_bind_int(s, 3, d->cc);
    rc = rc ? rc : sqlite3_bind_int(s, 4, d->sm_count);
    rc = rc ? rc : sqlite3_bind_int(s, 5, d->clock_khz);
    rc = rc ? rc : sqlite3_bind_int(s, 6, d->mem_clock_khz);
    rc = rc ? rc : sqlite3_bind_int64(s, 7, d->memory_bytes);
    rc = rc ? rc : sqlite3_bind_int64(s, 8, d->l2_bytes);
    rc = rc ? rc : sqlite3_bind_int(s, 9, d->driver_version);
    rc = rc ? rc : sqlite3_bind_int(s, 10, d->cuda_version);
    rc = rc ? rc : sqlite3_bind_int(s, 11, d->nvrtc_version);
    return rc;
}

fa_status fa_db_device_upsert(fa_db *db, const fa_db_device *dev, int64_t *device_id, fa_err *err)
{
    static const char what[] = "cannot store the device in";
    fa_status st = fa_db_require_writable(db, what, err);
    sqlite3_stmt *ins = NULL, *sel = NULL;
    int in_tx = 0;
    int64_t id = -1;
    if (st != FA_OK)
        return st;
    if (!dev || !device_id || !dev->name[0] || !dev->arch[0])
        return FA_ERR(err, FA_INVALID, "%s '%s': the device needs a name and an arch", what,
                      db->path);
    if ((st = fa_db_stmt(db, STMT_DEVICE_INSERT, &ins, err)) != FA_OK ||
        (st = fa_db_stmt(db, STMT_DEVICE_SELECT, &sel, err)) != FA_OK)
        return st;
    if ((st = fa_db_begin(db, err)) != FA_OK)
        return st;
    in_tx = 1;
    FA_DB_CHECK(db, bind_device(ins, dev), what, err);
    FA_DB_CHECK(db, step_done(ins), what, err);
    FA_DB_CHECK(db, bind_device(sel, dev), what, err);
    FA_DB_CHECK(db, step_id(sel, &id), what, err);
    if (id < 0) {
        st = FA_ERR(err, FA_DB, "%s '%s': the row vanished after insert", what, db->path);
        goto cleanup;
    }
    st = fa_db_commit(db, err);
    in_tx = 0;
    if (st == FA_OK)
        *device_id = id;

cleanup:
    if (in_tx)
        fa_db_rollback(db);
    return st;
}

/* Inside run_begin's transaction: every "running" run of this host whose process is gone (no
 * one holds its lock, fa_db_runlock.c) becomes "interrupted". Its end time stays unknown. */
static fa_status mark_stale_runs(fa_db *db, const char *host, fa_err *err)
{
    static const char what[] = "cannot check the runs in";
    fa_status st = FA_OK;
    sqlite3_stmt *q = NULL, *mark = NULL;
    int64_t gone[64];
    int n = 0, rc;
    if (!host[0])
        return FA_OK;
    if ((st = fa_db_stmt(db, STMT_RUNS_RUNNING, &q, err)) != FA_OK ||
        (st = fa_db_stmt(db, STMT_RUN_MARK_INTERRUPTED, &mark, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(q, 1, host), what, err);
    /* At most 64 per run begun: a backlog of dead runs is cleared over the next runs. */
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && n < 64) {
        const unsigned char *uuid = sqlite3_column_text(q, 1);
        if (uuid && fa_db_run_gone(db, (const char *)uuid))
            gone[n++] = (int64_t)sqlite3_column_int64(q, 0);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        FA_DB_CHECK(db, rc, what, err);
    sqlite3_reset(q);
    for (int i = 0; i < n; i++) {
        FA_DB_CHECK(db, sqlite3_bind_int64(mark, 1, gone[i]), what, err);
        FA_DB_CHECK(db, step_done(mark), what, err);
    }

cleanup:
    sqlite3_reset(q);
    sqlite3_reset(mark);
    return st;
}

fa_status fa_db_run_begin(fa_db *db, int64_t device_id, const char *fa_tune_version,
                          const char *source_hash, const char *command_line, int64_t *run_id,
                          fa_err *err)
{
    static const char what[] = "cannot start a run in";
    fa_status st = fa_db_require_writable(db, what, err);
    sqlite3_stmt *s = NULL;
    int in_tx = 0;
    char uuid[FA_DB_UUID_MAX];
    char host[FA_DB_NAME_MAX] = "";
    if (st != FA_OK)
        return st;
    if (!fa_tune_version || !source_hash || !run_id)
        return FA_ERR(err, FA_INVALID, "%s '%s': fa-tune version and source hash are required",
                      what, db->path);
    if ((st = fa_db_uuid(uuid, err)) != FA_OK)
        return st;
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    if ((st = fa_db_stmt(db, STMT_RUN_INSERT, &s, err)) != FA_OK)
        return st;
    if ((st = fa_db_begin(db, err)) != FA_OK)
        return st;
    in_tx = 1;
    if ((st = mark_stale_runs(db, host, err)) != FA_OK)
        goto cleanup;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, uuid), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int64(s, 2, device_id), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 3, fa_tune_version), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 4, source_hash), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 5, command_line ? command_line : ""), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 6, host), what, err);
    FA_DB_CHECK(db, step_done(s), what, err);
    int64_t id = (int64_t)sqlite3_last_insert_rowid(db->h);
    fa_db_run_lock(db, uuid); /* before the commit: no moment where the row looks dead */
    st = fa_db_commit(db, err);
    in_tx = 0;
    if (st == FA_OK)
        *run_id = id;
    else
        fa_db_run_unlock(db);

cleanup:
    if (in_tx)
        fa_db_rollback(db);
    return st;
}

fa_status fa_db_run_end(fa_db *db, int64_t run_id, fa_status status, fa_err *err)
{
    static const char what[] = "cannot end the run in";
    fa_status st = fa_db_require_writable(db, what, err);
    sqlite3_stmt *s = NULL;
    int in_tx = 0;
    if (st != FA_OK)
        return st;
    if ((st = fa_db_stmt(db, STMT_RUN_END, &s, err)) != FA_OK)
        return st;
    if ((st = fa_db_begin(db, err)) != FA_OK)
        return st;
    in_tx = 1;
    FA_DB_CHECK(db, sqlite3_bind_int64(s, 1, run_id), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 2, fa_status_token(status)), what, err);
    FA_DB_CHECK(db, step_done(s), what, err);
    if (sqlite3_changes(db->h) != 1) {
        st = FA_ERR(err, FA_NOT_FOUND, "%s '%s': no run %lld", what, db->path, (long long)run_id);
        goto cleanup;
    }
    st = fa_db_commit(db, err);
    in_tx = 0;
    if (st == FA_OK)
        fa_db_run_unlock(db); /* the run's status is final: it need not look alive */

cleanup:
    if (in_tx)
        fa_db_rollback(db);
    return st;
}

/* Insert the variant row if new; its id in *id. Inside the caller's transaction. */
static fa_status variant_id(fa_db *db, const fa_variant *v, int64_t *id, fa_err *err)
{
    static const char what[] = "cannot store the variant in";
    fa_status st = FA_OK;
    sqlite3_stmt *ins = NULL, *sel = NULL;
    char name[FA_VARIANT_NAME_MAX];
    fa_variant_name(v, name, sizeof name);
    if ((st = fa_db_stmt(db, STMT_VARIANT_INSERT, &ins, err)) != FA_OK ||
        (st = fa_db_stmt(db, STMT_VARIANT_SELECT, &sel, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(ins, 1, name), what, err);
    char params[256];
    fa_variant_params_text(v, params, sizeof params);
    if (!v->family) {
        st = FA_ERR(err, FA_INVALID, "cannot store '%s': it has no kernel family", name);
        goto cleanup;
    }
    FA_DB_CHECK(db, fa_db_bind_text(ins, 2, v->family->name), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(ins, 3, fa_op_name(v->op)), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(ins, 4, fa_dtype_name(v->dtype)), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 5, v->head_dim), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 6, v->causal), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 7, v->varlen), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(ins, 8, params), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 9, fa_variant_threads(v)), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 10, fa_variant_smem_bytes(v)), what, err);
    FA_DB_CHECK(db, step_done(ins), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(sel, 1, name), what, err);
    FA_DB_CHECK(db, step_id(sel, id), what, err);

cleanup:
    return st;
}

/* Insert the problem row if new; its id in *id. Inside the caller's transaction. */
static fa_status problem_id(fa_db *db, const fa_problem *p, int64_t *id, fa_err *err)
{
    static const char what[] = "cannot store the problem in";
    fa_status st = FA_OK;
    sqlite3_stmt *ins = NULL, *sel = NULL;
    char name[FA_PROBLEM_NAME_MAX];
    fa_problem_name(p, name, sizeof name);
    int longest = p->seqlen_q > p->seqlen_k ? p->seqlen_q : p->seqlen_k;
    if ((st = fa_db_stmt(db, STMT_PROBLEM_INSERT, &ins, err)) != FA_OK ||
        (st = fa_db_stmt(db, STMT_PROBLEM_SELECT, &sel, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(ins, 1, name), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(ins, 2, fa_dtype_name(p->dtype)), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 3, p->head_dim), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 4, p->causal), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 5, p->varlen), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 6, p->batch), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 7, p->heads_q), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 8, p->heads_kv), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 9, fa_problem_gqa(p)), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 10, p->seqlen_q), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 11, p->seqlen_k), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int(ins, 12, fa_seqlen_bucket(longest)), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(ins, 13, p->layout == FA_LAYOUT_BHSD ? "bhsd" : "bshd"), what,
                err);
    FA_DB_CHECK(db, sqlite3_bind_double(ins, 14, fa_problem_scale(p)), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int64(ins, 15, (sqlite3_int64)p->seed), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(ins, 16, fa_op_name(p->op)), what, err);
    /* Decode's fields (NULL for the forward op): the page size (0 contiguous) and the longest
     * cache; the cache-length distribution is in the name (the key). */
    FA_DB_CHECK(db, fa_db_bind_int64_opt(ins, 17, p->op == FA_OP_DECODE ? p->page_size : -1), what,
                err);
    FA_DB_CHECK(db, fa_db_bind_int64_opt(ins, 18, p->op == FA_OP_DECODE ? p->seqlen_k : -1), what,
                err);
    FA_DB_CHECK(db, step_done(ins), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(sel, 1, name), what, err);
    FA_DB_CHECK(db, step_id(sel, id), what, err);

cleanup:
    return st;
}

static int bind_measurement(sqlite3_stmt *s, const fa_measurement *m)
{
    const fa_build_info *b = &m->build;
    int rc = fa_db_bind_text(s, 7, m->message);
    rc = rc ? rc : fa_db_bind_double_opt(s, 8, m->median_ms);
    rc = rc ? rc : fa_db_bind_double_opt(s, 9, m->min_ms);
    rc = rc ? rc : fa_db_bind_double_opt(s, 10, m->cv);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 11, m->reps);
    rc = rc ? rc : fa_db_bind_double_opt(s, 12, m->tflops);
    rc = rc ? rc : fa_db_bind_double_opt(s, 13, m->max_abs_err);
    rc = rc ? rc : fa_db_bind_double_opt(s, 14, m->rel_l2_err);
    rc = rc ? rc : fa_db_bind_double_opt(s, 15, m->eager_max_abs_err);
    rc = rc ? rc : fa_db_bind_double_opt(s, 16, m->lse_max_err);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 17, m->nonfinite);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 18, m->unwritten);
    /* The full 64 bits, stored as the signed integer with the same bits. */
    rc = rc ? rc : sqlite3_bind_int64(s, 19, (sqlite3_int64)m->check_seed);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 20, m->peak_extra_bytes);
    rc = rc ? rc : fa_db_bind_double_opt(s, 21, m->eager_median_ms);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 22, m->eager_peak_extra_bytes);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 23, b->registers);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 24, b->smem_static);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 25, b->stack_bytes);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 26, b->spill_stores);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 27, b->spill_loads);
    rc = rc ? rc : fa_db_bind_double_opt(s, 28, b->compile_ms);
    rc = rc ? rc : fa_db_bind_int64_opt(s, 29, b->cache_hit);
    return rc;
}

fa_status fa_db_record_many(fa_db *db, int64_t run_id, const char *arch, const fa_variant *v,
                            const fa_problem *ps, const fa_measurement *ms, int n, fa_err *err)
{
    static const char what[] = "cannot record the measurement in";
    fa_status st = fa_db_require_writable(db, what, err);
    sqlite3_stmt *s = NULL;
    int in_tx = 0;
    int64_t vid = -1, pid = -1;
    char uuid[FA_DB_UUID_MAX];
    if (st != FA_OK)
        return st;
    if (!arch || !*arch || !v || !ps || !ms || n < 1)
        return FA_ERR(err, FA_INVALID,
                      "%s '%s': arch, variant, problems and measurements are "
                      "required",
                      what, db->path);
    if ((st = fa_db_begin(db, err)) != FA_OK)
        return st;
    in_tx = 1;
    if ((st = variant_id(db, v, &vid, err)) != FA_OK ||
        (st = fa_db_stmt(db, STMT_MEASUREMENT_INSERT, &s, err)) != FA_OK)
        goto cleanup;
    for (int i = 0; i < n; i++) {
        if ((st = fa_db_uuid(uuid, err)) != FA_OK ||
            (st = problem_id(db, &ps[i], &pid, err)) != FA_OK)
            goto cleanup;
        FA_DB_CHECK(db, fa_db_bind_text(s, 1, uuid), what, err);
        FA_DB_CHECK(db, sqlite3_bind_int64(s, 2, run_id), what, err);
        FA_DB_CHECK(db, sqlite3_bind_int64(s, 3, vid), what, err);
        FA_DB_CHECK(db, sqlite3_bind_int64(s, 4, pid), what, err);
        FA_DB_CHECK(db, fa_db_bind_text(s, 5, arch), what, err);
        FA_DB_CHECK(db, fa_db_bind_text(s, 6, fa_status_token(ms[i].status)), what, err);
        FA_DB_CHECK(db, bind_measurement(s, &ms[i]), what, err);
        FA_DB_CHECK(db, step_done(s), what, err);
    }
    st = fa_db_commit(db, err);
    in_tx = 0;

cleanup:
    if (in_tx)
        fa_db_rollback(db);
    return st;
}

fa_status fa_db_record(fa_db *db, int64_t run_id, const char *arch, const fa_variant *v,
                       const fa_problem *p, const fa_measurement *m, fa_err *err)
{
    return fa_db_record_many(db, run_id, arch, v, p, m, 1, err);
}

/* The five parameters of the resume lookups (STMT_HAS_MEASUREMENT, STMT_BEST_OK_MS). */
static int bind_lookup(sqlite3_stmt *s, int64_t device_id, const char *arch,
                       const char *source_hash, const char *variant, const char *problem)
{
    int rc = sqlite3_bind_int64(s, 1, device_id);
    rc = rc ? rc : fa_db_bind_text(s, 2, arch);
    rc = rc ? rc : fa_db_bind_text(s, 3, source_hash);
    rc = rc ? rc : fa_db_bind_text(s, 4, variant);
    return rc ? rc : fa_db_bind_text(s, 5, problem);
}

fa_status fa_db_has_measurement(fa_db *db, int64_t device_id, const char *arch,
                                const char *source_hash, const char *variant, const char *problem,
                                int *found, fa_err *err)
{
    static const char what[] = "cannot look up measurements in";
    fa_status st = FA_OK;
    sqlite3_stmt *s = NULL;
    int64_t hit = -1;
    if (!db || !arch || !source_hash || !variant || !problem || !found)
        return FA_ERR(err, FA_INVALID, "%s '%s': missing argument", what, db ? db->path : "(null)");
    if ((st = fa_db_stmt(db, STMT_HAS_MEASUREMENT, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, bind_lookup(s, device_id, arch, source_hash, variant, problem), what, err);
    FA_DB_CHECK(db, step_id(s, &hit), what, err);
    *found = hit >= 0;

cleanup:
    return st;
}

fa_status fa_db_best_ok_ms(fa_db *db, int64_t device_id, const char *arch, const char *source_hash,
                           const char *variant, const char *problem, double *ms, fa_err *err)
{
    static const char what[] = "cannot look up measurements in";
    fa_status st = FA_OK;
    sqlite3_stmt *s = NULL;
    int rc = SQLITE_OK;
    if (!db || !arch || !source_hash || !variant || !problem || !ms)
        return FA_ERR(err, FA_INVALID, "%s '%s': missing argument", what, db ? db->path : "(null)");
    *ms = -1;
    if ((st = fa_db_stmt(db, STMT_BEST_OK_MS, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, bind_lookup(s, device_id, arch, source_hash, variant, problem), what, err);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *ms = sqlite3_column_double(s, 0);
    sqlite3_reset(s);
    FA_DB_CHECK(db, rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc, what, err);

cleanup:
    return st;
}

fa_status fa_db_variant_has_ok(fa_db *db, const char *arch, const char *variant, int *has,
                               fa_err *err)
{
    static const char what[] = "cannot look up measurements in";
    fa_status st = FA_OK;
    sqlite3_stmt *s = NULL;
    int64_t hit = -1;
    if (!db || !arch || !variant || !has)
        return FA_ERR(err, FA_INVALID, "%s '%s': missing argument", what, db ? db->path : "(null)");
    if ((st = fa_db_stmt(db, STMT_HAS_OK, &s, err)) != FA_OK)
        return st;
    FA_DB_CHECK(db, fa_db_bind_text(s, 1, arch), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 2, variant), what, err);
    FA_DB_CHECK(db, step_id(s, &hit), what, err);
    *has = hit >= 0;

cleanup:
    return st;
}

fa_status fa_db_record_peer(fa_db *db, int64_t run_id, const fa_problem *p, const char *peer,
                            const char *version, double median_ms, double tflops,
                            int64_t peak_extra_bytes, fa_err *err)
{
    static const char what[] = "cannot record the peer measurement in";
    fa_status st = fa_db_require_writable(db, what, err);
    sqlite3_stmt *s = NULL;
    int in_tx = 0;
    int64_t pid = -1;
    if (st != FA_OK)
        return st;
    if (!p || !peer || !*peer)
        return FA_ERR(err, FA_INVALID, "%s '%s': problem and peer name are required", what,
                      db->path);
    if ((st = fa_db_stmt(db, STMT_PEER_UPSERT, &s, err)) != FA_OK)
        return st;
    if ((st = fa_db_begin(db, err)) != FA_OK)
        return st;
    in_tx = 1;
    if ((st = problem_id(db, p, &pid, err)) != FA_OK)
        goto cleanup;
    FA_DB_CHECK(db, sqlite3_bind_int64(s, 1, run_id), what, err);
    FA_DB_CHECK(db, sqlite3_bind_int64(s, 2, pid), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 3, peer), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 4, version ? version : ""), what, err);
    FA_DB_CHECK(db, fa_db_bind_double_opt(s, 5, median_ms), what, err);
    FA_DB_CHECK(db, fa_db_bind_double_opt(s, 6, tflops), what, err);
    FA_DB_CHECK(db, fa_db_bind_int64_opt(s, 7, peak_extra_bytes), what, err);
    FA_DB_CHECK(db, step_done(s), what, err);
    st = fa_db_commit(db, err);
    in_tx = 0;

cleanup:
    if (in_tx)
        fa_db_rollback(db);
    return st;
}

int fa_db_is_copy_ceiling(const char *name)
{
    return !strcmp(name, "copy") || !strncmp(name, "copy_", 5);
}

fa_status fa_db_record_ceiling(fa_db *db, int64_t run_id, const char *name, fa_dtype dtype,
                               double median_ms, double tflops, fa_err *err)
{
    static const char what[] = "cannot record the ceiling in";
    fa_status st = fa_db_require_writable(db, what, err);
    sqlite3_stmt *s = NULL;
    int in_tx = 0;
    if (st != FA_OK)
        return st;
    if (!name || !*name)
        return FA_ERR(err, FA_INVALID, "%s '%s': a ceiling name is required", what, db->path);
    if ((st = fa_db_stmt(db, STMT_CEILING_UPSERT, &s, err)) != FA_OK)
        return st;
    if ((st = fa_db_begin(db, err)) != FA_OK)
        return st;
    in_tx = 1;
    FA_DB_CHECK(db, sqlite3_bind_int64(s, 1, run_id), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 2, name), what, err);
    FA_DB_CHECK(db, fa_db_bind_text(s, 3, fa_dtype_name(dtype)), what, err);
    FA_DB_CHECK(db, fa_db_bind_double_opt(s, 4, median_ms), what, err);
    FA_DB_CHECK(db, fa_db_bind_double_opt(s, 5, tflops), what, err);
    FA_DB_CHECK(db, step_done(s), what, err);
    st = fa_db_commit(db, err);
    in_tx = 0;

cleanup:
    if (in_tx)
        fa_db_rollback(db);
    return st;
}
