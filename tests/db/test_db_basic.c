/*
 * This file tests the results database's normal path: record -> query round trips, the
 * winners view against hand-made data (exclusion of failed variants, latest measurement
 * wins, coverage, deterministic tie breaks, runner-up margin), resume lookups, peers and
 * ceilings, runs and summaries, read-only handles, merge idempotence and export.
 */
#include <time.h>

#include "db_test.h"

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- round trip ------------------------------------------------------------------------ */

struct find_ctx {
    fa_db_row row;
    long n;
};

static int keep_row(const fa_db_row *r, void *user)
{
    struct find_ctx *c = user;
    c->row = *r;
    c->n++;
    return 0;
}

static void test_round_trip(void)
{
    char path[512];
    test_path(path, sizeof path, "roundtrip.db");
    fa_err err;
    int64_t dev, run;
    fa_db *db = test_open_run(path, "hash-a", &dev, &run);
    CHECK(fa_db_schema_version(db) == FA_DB_SCHEMA_VERSION);
    CHECK(fa_db_schema_version_on_disk(db) == 0);

    fa_variant v = test_variant(FA_DTYPE_BF16, 128, 1, 5);
    fa_problem p = test_problem(FA_DTYPE_BF16, 128, 1, 1000, 16, 4);
    p.layout = FA_LAYOUT_BHSD;
    fa_measurement m = test_measurement(FA_MISMATCH, 123.25, 0.75);
    CHECK_OK(fa_db_record(db, run, "sm90", &v, &p, &m, &err), &err);

    char vname[FA_VARIANT_NAME_MAX], pname[FA_PROBLEM_NAME_MAX];
    fa_variant_name(&v, vname, sizeof vname);
    fa_problem_name(&p, pname, sizeof pname);
    struct find_ctx c = {0};
    fa_db_filter f = {0};
    f.variant = vname;
    CHECK_OK(fa_db_measurements(db, &f, keep_row, &c, &err), &err);
    CHECK(c.n == 1);
    const fa_db_row *r = &c.row;
    CHECK(strcmp(r->arch, "sm90") == 0);
    CHECK(strcmp(r->variant_name, vname) == 0);
    CHECK(fa_variant_equal(&r->variant, &v));
    CHECK(strcmp(r->problem_name, pname) == 0);
    CHECK(r->problem.batch == p.batch && r->problem.heads_q == 16 && r->problem.heads_kv == 4);
    CHECK(r->problem.seqlen_q == 1000 && r->problem.layout == FA_LAYOUT_BHSD);
    CHECK(r->problem.seed == p.seed);
    CHECK(r->gqa == 4 && r->bucket == 1024);
    CHECK(strcmp(r->status, "mismatch") == 0 && r->m.status == FA_MISMATCH);
    CHECK(strcmp(r->m.message, m.message) == 0);
    CHECK(r->m.median_ms == m.median_ms && r->m.min_ms == m.min_ms && r->m.cv == m.cv);
    CHECK(r->m.reps == m.reps && r->m.tflops == m.tflops);
    CHECK(r->m.max_abs_err == m.max_abs_err && r->m.rel_l2_err == m.rel_l2_err);
    CHECK(r->m.eager_max_abs_err == m.eager_max_abs_err && r->m.lse_max_err == m.lse_max_err);
    CHECK(r->m.check_seed == m.check_seed);
    CHECK(r->m.peak_extra_bytes == m.peak_extra_bytes);
    CHECK(r->m.eager_median_ms == m.eager_median_ms);
    CHECK(r->m.eager_peak_extra_bytes == m.eager_peak_extra_bytes);
    CHECK(r->m.build.registers == 168 && r->m.build.compile_ms == 850.5);
    CHECK(strcmp(r->device_name, "NVIDIA H100 80GB HBM3") == 0);
    CHECK(strcmp(r->source_hash, "hash-a") == 0 && strcmp(r->fa_tune_version, "0.1.0") == 0);
    CHECK(strlen(r->uuid) == 36 && strlen(r->run_uuid) == 36 && r->measured_at[0] == '2');

    /* "Not measured" figures come back as -1. */
    fa_measurement u = test_measurement(FA_COMPILE_ERROR, -1, -1);
    u.min_ms = u.cv = u.eager_median_ms = -1;
    u.reps = -1;
    u.build.registers = -1;
    fa_variant v2 = test_variant(FA_DTYPE_BF16, 128, 1, 6);
    CHECK_OK(fa_db_record(db, run, "sm90", &v2, &p, &u, &err), &err);
    fa_variant_name(&v2, vname, sizeof vname);
    memset(&c, 0, sizeof c);
    CHECK_OK(fa_db_measurements(db, &f, keep_row, &c, &err), &err);
    CHECK(c.n == 1 && c.row.m.median_ms == -1 && c.row.m.tflops == -1 && c.row.m.reps == -1);
    CHECK(c.row.m.build.registers == -1 && c.row.m.status == FA_COMPILE_ERROR);

    /* Resume lookups. */
    int found = -1;
    fa_variant_name(&v, vname, sizeof vname);
    CHECK_OK(fa_db_has_measurement(db, dev, "sm90", "hash-a", vname, pname, &found, &err), &err);
    CHECK(found == 1);
    CHECK_OK(fa_db_has_measurement(db, dev, "sm90", "hash-b", vname, pname, &found, &err), &err);
    CHECK(found == 0);
    CHECK_OK(fa_db_has_measurement(db, dev, "sm80", "hash-a", vname, pname, &found, &err), &err);
    CHECK(found == 0);
    CHECK_OK(fa_db_has_measurement(db, dev + 1, "sm90", "hash-a", vname, pname, &found, &err),
             &err);
    CHECK(found == 0);
    /* ...and the fastest ok median of what they find: the mismatch row alone counts for
     * nothing, then the faster of two ok rows; another source hash or device sees none. */
    double best = 0;
    CHECK_OK(fa_db_best_ok_ms(db, dev, "sm90", "hash-a", vname, pname, &best, &err), &err);
    CHECK(best == -1);
    fa_measurement ok1 = test_measurement(FA_OK, 100, 0.5), ok2 = test_measurement(FA_OK, 120, 0.4);
    CHECK_OK(fa_db_record(db, run, "sm90", &v, &p, &ok1, &err), &err);
    CHECK_OK(fa_db_record(db, run, "sm90", &v, &p, &ok2, &err), &err);
    CHECK_OK(fa_db_best_ok_ms(db, dev, "sm90", "hash-a", vname, pname, &best, &err), &err);
    CHECK(best == 0.4);
    CHECK_OK(fa_db_best_ok_ms(db, dev, "sm90", "hash-b", vname, pname, &best, &err), &err);
    CHECK(best == -1);
    CHECK_OK(fa_db_best_ok_ms(db, dev + 1, "sm90", "hash-a", vname, pname, &best, &err), &err);
    CHECK(best == -1);

    /* Same device again -> same id; a different driver -> a new row. */
    fa_db_device d = test_device("NVIDIA H100 80GB HBM3", "sm90", 90);
    int64_t again = -1, other = -1;
    CHECK_OK(fa_db_device_upsert(db, &d, &again, &err), &err);
    CHECK(again == dev);
    d.driver_version = 12050;
    CHECK_OK(fa_db_device_upsert(db, &d, &other, &err), &err);
    CHECK(other != dev && other > 0);

    /* Writes that refer to nothing are refused cleanly. */
    CHECK_FAILS(fa_db_record(db, run + 100, "sm90", &v, &p, &m, &err), FA_INVALID, &err,
                "roundtrip.db");
    CHECK_FAILS(fa_db_run_end(db, run + 100, FA_OK, &err), FA_NOT_FOUND, &err, "no run");
    CHECK_OK(fa_db_run_end(db, run, FA_OK, &err), &err);
    fa_db_close(db);
    fa_db_close(NULL); /* no-op */

    /* A read-only handle reads and refuses writes. */
    CHECK_OK(fa_db_open(path, FA_DB_READONLY, &db, &err), &err);
    CHECK(count_measurements(db, NULL) == 4); /* the mismatch, the compile error, two ok */
    CHECK_OK(fa_db_best_ok_ms(db, dev, "sm90", "hash-a", vname, pname, &best, &err), &err);
    CHECK(best == 0.4);
    CHECK_FAILS(fa_db_record(db, run, "sm90", &v, &p, &m, &err), FA_INVALID, &err, "read-only");
    CHECK_FAILS(fa_db_run_begin(db, dev, "0.1.0", "h", "", &run, &err), FA_INVALID, &err,
                "read-only");
    fa_db_close(db);
}

/* ---- winners --------------------------------------------------------------------------- */

struct winners_ctx {
    fa_db_winner w[8];
    int n;
};

static int keep_winner(const fa_db_winner *w, void *user)
{
    struct winners_ctx *c = user;
    if (c->n < 8)
        c->w[c->n] = *w;
    c->n++;
    return 0;
}

static void record(fa_db *db, int64_t run, const char *arch, const fa_variant *v,
                   const fa_problem *p, fa_status st, double tflops, double ms)
{
    fa_err err;
    fa_measurement m = test_measurement(st, tflops, ms);
    CHECK_OK(fa_db_record(db, run, arch, v, p, &m, &err), &err);
}

static int stop_after_one(const fa_db_row *r, void *user)
{
    (void)r;
    (*(long *)user)++;
    return 1;
}

static void test_winners(void)
{
    char path[512];
    test_path(path, sizeof path, "winners.db");
    fa_err err;
    int64_t dev, run1, run2;
    fa_db *db = test_open_run(path, "h1", &dev, &run1);
    fa_variant v[8];
    for (int i = 0; i < 8; i++)
        v[i] = test_variant(FA_DTYPE_BF16, 128, 0, i);
    /* Two problems in one key: bf16, d128, non-causal, gqa 1, bucket 1024. */
    fa_problem p1 = test_problem(FA_DTYPE_BF16, 128, 0, 1000, 16, 16);
    fa_problem p2 = test_problem(FA_DTYPE_BF16, 128, 0, 1024, 16, 16);
    /* v0: mean 105 TFLOP/s at 1.0 ms; v1: mean 105 at 0.9 ms (wins the tie on median). */
    record(db, run1, "sm90", &v[0], &p1, FA_OK, 100, 1.0);
    record(db, run1, "sm90", &v[0], &p2, FA_OK, 110, 1.0);
    record(db, run1, "sm90", &v[1], &p1, FA_OK, 105, 0.9);
    record(db, run1, "sm90", &v[1], &p2, FA_OK, 105, 0.9);
    /* v2: fastest on p1 but wrong on p2 -> excluded. */
    record(db, run1, "sm90", &v[2], &p1, FA_OK, 200, 0.5);
    record(db, run1, "sm90", &v[2], &p2, FA_MISMATCH, -1, -1);
    /* v3: fastest, but measured on one problem of two -> ranks below full coverage. */
    record(db, run1, "sm90", &v[3], &p1, FA_OK, 300, 0.3);
    /* v4: a mismatch on p1 in run 1, re-measured ok in run 2 -> qualifies (latest wins). */
    record(db, run1, "sm90", &v[4], &p1, FA_MISMATCH, -1, -1);
    record(db, run1, "sm90", &v[4], &p2, FA_OK, 90, 1.2);
    /* v5: ok in run 1, fault in run 2 -> excluded (latest wins). */
    record(db, run1, "sm90", &v[5], &p1, FA_OK, 500, 0.2);
    record(db, run1, "sm90", &v[5], &p2, FA_OK, 500, 0.2);
    /* v7: ok in run 1, refused by the legality model in run 2 -> excluded (latest wins, even
     * though the refusal is a row the view's first step might skip: v4 keeps every row of a
     * variant with an ok one). */
    record(db, run1, "sm90", &v[7], &p1, FA_OK, 600, 0.1);
    record(db, run1, "sm90", &v[7], &p2, FA_OK, 600, 0.1);
    /* An exact tie in another key (fp16 causal): decided by name. */
    fa_variant c6 = test_variant(FA_DTYPE_FP16, 64, 1, 6),
               c7 = test_variant(FA_DTYPE_FP16, 64, 1, 7);
    fa_problem pc = test_problem(FA_DTYPE_FP16, 64, 1, 4096, 32, 8);
    record(db, run1, "sm90", &c7, &pc, FA_OK, 150, 2.0);
    record(db, run1, "sm90", &c6, &pc, FA_OK, 150, 2.0);
    /* Another arch must not leak into sm90's winners. */
    record(db, run1, "sm80", &v[6], &p1, FA_OK, 999, 0.1);

    pause_ms(5); /* run 2 starts strictly later */
    CHECK_OK(fa_db_run_begin(db, dev, "0.1.0", "h2", "rerun", &run2, &err), &err);
    record(db, run2, "sm90", &v[4], &p1, FA_OK, 90, 1.2);
    record(db, run2, "sm90", &v[5], &p2, FA_FAULT, -1, -1);
    record(db, run2, "sm90", &v[7], &p1, FA_UNSUPPORTED, -1, -1);

    /* A compile-only sweep measures nothing that may supersede timings. */
    fa_db_device co;
    int64_t codev, corun;
    fa_db_device_compile_only(fa_arch_find("sm90"), 12040, 12040, &co);
    CHECK(strcmp(co.name, FA_DB_COMPILE_ONLY) == 0 && co.cc == 90);
    CHECK_OK(fa_db_device_upsert(db, &co, &codev, &err), &err);
    CHECK_OK(fa_db_run_begin(db, codev, "0.1.0", "h2", "fa-tune compile", &corun, &err), &err);
    record(db, corun, "sm90", &v[1], &p1, FA_OK, -1, -1);

    struct winners_ctx c = {0};
    CHECK_OK(fa_db_winners(db, "sm90", keep_winner, &c, &err), &err);
    CHECK(c.n == 2);
    char name[FA_VARIANT_NAME_MAX];
    /* Sorted fp16 before bf16. */
    const fa_db_winner *t = &c.w[0], *w = &c.w[1];
    char n6[FA_VARIANT_NAME_MAX], n7[FA_VARIANT_NAME_MAX];
    fa_variant_name(&c6, n6, sizeof n6);
    fa_variant_name(&c7, n7, sizeof n7);
    const char *first = strcmp(n6, n7) < 0 ? n6 : n7, *second = strcmp(n6, n7) < 0 ? n7 : n6;
    CHECK(t->dtype == FA_DTYPE_FP16 && t->head_dim == 64 && t->causal == 1 && t->gqa == 4);
    CHECK(t->bucket == 4096);
    CHECK(strcmp(t->variant_name, first) == 0);
    CHECK(strcmp(t->runner_up_name, second) == 0 && t->margin == 0.0);

    fa_variant_name(&v[1], name, sizeof name);
    CHECK(strcmp(w->arch, "sm90") == 0 && w->dtype == FA_DTYPE_BF16 && w->head_dim == 128);
    CHECK(w->causal == 0 && w->varlen == 0 && w->gqa == 1 && w->bucket == 1024);
    CHECK(strcmp(w->variant_name, name) == 0);
    CHECK(fa_variant_equal(&w->variant, &v[1]));
    CHECK(w->problems == 2);
    CHECK(w->candidates == 4); /* v0, v1, v3, v4 */
    CHECK(w->tflops == 105 && w->median_ms > 0.8999 && w->median_ms < 0.9001);
    CHECK(w->eager_ms > 2.6999 && w->eager_ms < 2.7001);
    CHECK(w->speedup > 2.9999 && w->speedup < 3.0001);
    CHECK(w->registers == 168 && w->smem_bytes == fa_variant_smem_bytes(&v[1]));
    CHECK(w->spill_bytes == 0 && w->peak_extra_bytes == 65536);
    fa_variant_name(&v[0], name, sizeof name);
    CHECK(strcmp(w->runner_up_name, name) == 0);
    CHECK(w->runner_up_tflops == 105 && w->margin == 0.0);

    /* NULL arch: every arch; sm80 has its own single winner without a runner-up. */
    c.n = 0;
    CHECK_OK(fa_db_winners(db, NULL, keep_winner, &c, &err), &err);
    CHECK(c.n == 3 && strcmp(c.w[0].arch, "sm80") == 0);
    CHECK(c.w[0].runner_up_name[0] == '\0' && c.w[0].margin == -1 && c.w[0].candidates == 1);

    /* Every row is visited; stopping early is not an error. */
    long seen = 0;
    CHECK_OK(fa_db_measurements(db, NULL, count_rows_cb, &seen, &err), &err);
    CHECK(seen == 20);
    if (seen != 20)
        fprintf(stderr, "  seen %ld measurements\n", seen);
    seen = 0;
    CHECK_OK(fa_db_measurements(db, NULL, stop_after_one, &seen, &err), &err);
    CHECK(seen == 1);
    /* The statement was reset: the same query runs again. */
    seen = 0;
    fa_db_filter f = {0};
    f.arch = "sm80";
    CHECK_OK(fa_db_measurements(db, &f, count_rows_cb, &seen, &err), &err);
    CHECK(seen == 1);
    fa_db_close(db);
}

/* ---- peers, ceilings, runs, summaries ---------------------------------------------------- */

static int keep_peer(const fa_db_peer *p, void *user)
{
    fa_db_peer *out = user;
    out[0] = *p;
    return 1; /* stop after the first */
}

static int count_peer(const fa_db_peer *p, void *user)
{
    return count_cb(p, user);
}

static int keep_run(const fa_db_run *r, void *user)
{
    fa_db_run *out = user;
    out[0] = *r;
    return 0;
}

static int count_run(const fa_db_run *r, void *user)
{
    return count_cb(r, user);
}

static int keep_summary(const fa_db_summary *s, void *user)
{
    fa_db_summary *out = user;
    out[0] = *s;
    return 0;
}

static int keep_ceiling(const fa_db_ceiling *c, void *user)
{
    fa_db_ceiling *out = user;
    out[0] = *c;
    return 0;
}

static void test_peers_runs(void)
{
    char path[512];
    test_path(path, sizeof path, "peers.db");
    fa_err err;
    int64_t dev, run;
    fa_db *db = test_open_run(path, "hp", &dev, &run);
    fa_problem p = test_problem(FA_DTYPE_BF16, 128, 1, 8192, 16, 16);
    CHECK_OK(fa_db_record_peer(db, run, &p, "torch_sdpa_flash", "2.5.1", 9.0, 300.0, 1024, &err),
             &err);
    /* Same (run, peer, problem): replaced, not duplicated. */
    CHECK_OK(
        fa_db_record_peer(db, run, &p, "torch_sdpa_flash", "2.5.1+cu124", 8.0, 310.0, -1, &err),
        &err);
    CHECK_OK(fa_db_record_peer(db, run, &p, "torch_eager", "2.5.1", 30.0, 90.0, 1 << 30, &err),
             &err);
    fa_db_peer pe;
    CHECK_OK(fa_db_peers(db, "sm90", keep_peer, &pe, &err), &err);
    CHECK(strcmp(pe.peer, "torch_eager") == 0); /* sorted by peer name */
    CHECK(strcmp(pe.problem_name, "b2_h16_kv16_q8192_k8192_d128_bf16_causal") == 0);
    CHECK(pe.bucket == 8192 && pe.peak_extra_bytes == 1 << 30 && pe.tflops == 90.0);
    long n = 0;
    CHECK_OK(fa_db_peers(db, NULL, count_peer, &n, &err), &err);
    CHECK(n == 2);
    n = 0;
    CHECK_OK(fa_db_peers(db, "sm80", count_peer, &n, &err), &err);
    CHECK(n == 0);

    CHECK_OK(fa_db_record_ceiling(db, run, "gemm_bf16_8192", FA_DTYPE_BF16, 1.4, 780.0, &err),
             &err);
    CHECK_OK(fa_db_record_ceiling(db, run, "gemm_bf16_8192", FA_DTYPE_BF16, 1.3, 790.0, &err),
             &err);
    double tf = -1;
    int found = -1;
    CHECK_OK(fa_db_ceiling_best(db, "sm90", FA_DTYPE_BF16, &tf, &found, &err), &err);
    CHECK(found == 1 && tf == 790.0);
    CHECK_OK(fa_db_ceiling_best(db, "sm90", FA_DTYPE_FP16, &tf, &found, &err), &err);
    CHECK(found == 0);
    fa_db_ceiling ce;
    memset(&ce, 0, sizeof ce);
    CHECK_OK(fa_db_ceilings(db, "sm90", keep_ceiling, &ce, &err), &err);
    CHECK(strcmp(ce.name, "gemm_bf16_8192") == 0 && ce.tflops == 790.0);
    CHECK(strcmp(ce.device_name, "NVIDIA H100 80GB HBM3") == 0);

    fa_variant v = test_variant(FA_DTYPE_BF16, 128, 1, 0);
    record(db, run, "sm90", &v, &p, FA_OK, 320, 7.5);
    record(db, run, "sm90", &v, &p, FA_OK, 321, 7.4); /* a re-timing: a second row */
    CHECK_OK(fa_db_run_end(db, run, FA_INTERRUPTED, &err), &err);

    fa_db_run r;
    memset(&r, 0, sizeof r);
    CHECK_OK(fa_db_runs(db, "sm90", keep_run, &r, &err), &err);
    CHECK(strcmp(r.status, "interrupted") == 0 && r.ended_at[0] == '2');
    CHECK(r.measurements == 2 && strcmp(r.source_hash, "hp") == 0);
    CHECK(strcmp(r.device.name, "NVIDIA H100 80GB HBM3") == 0 && r.device.sm_count == 132);
    CHECK(r.device.memory_bytes == 85520809984LL && r.device.driver_version == 12040);
    CHECK(r.host[0] != '\0');
    CHECK(strstr(r.command_line, "--headdim 128") != NULL);
    n = 0;
    CHECK_OK(fa_db_runs(db, "sm86", count_run, &n, &err), &err);
    CHECK(n == 0);

    fa_db_summary s;
    memset(&s, 0, sizeof s);
    record(db, run, "sm90", &v, &p, FA_MISMATCH, -1, -1);
    record(db, run, "sm90", &v, &p, FA_UNSUPPORTED, -1, -1);
    CHECK_OK(fa_db_summaries(db, "sm90", keep_summary, &s, &err), &err);
    CHECK(s.total == 4 && s.ok == 2 && s.mismatch == 1 && s.unsupported == 1 && s.fault == 0);
    CHECK(s.other == 0 && s.variants == 1);
    fa_db_close(db);
}

/* ---- merge and export ------------------------------------------------------------------ */

static char *export_string(fa_db *db, fa_db_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fa_err err;
    CHECK_OK(fa_db_export(db, fmt, NULL, f, &err), &err);
    fclose(f);
    return buf;
}

static void fill(fa_db *db, int64_t run, const char *arch, int nvar, int seqlen)
{
    fa_problem p = test_problem(FA_DTYPE_FP16, 64, 0, seqlen, 8, 8);
    for (int i = 0; i < nvar; i++) {
        fa_variant v = test_variant(FA_DTYPE_FP16, 64, 0, i);
        record(db, run, arch, &v, &p, FA_OK, 50 + i, 1.0 + i);
    }
}

static void test_merge_export(void)
{
    char pa[512], pb[512], pc[512];
    test_path(pa, sizeof pa, "merge-a.db");
    test_path(pb, sizeof pb, "merge-b.db");
    test_path(pc, sizeof pc, "merge-c.db");
    fa_err err;
    int64_t dev, run;
    fa_db *a = test_open_run(pa, "ha", &dev, &run);
    fill(a, run, "sm90", 6, 2048);
    CHECK_OK(fa_db_run_end(a, run, FA_OK, &err), &err);
    fa_db *b = test_open_run(pb, "hb", &dev, &run);
    fill(b, run, "sm90", 4, 2048); /* same variants and problem as a: shared rows */
    fill(b, run, "sm90", 3, 512);
    fa_problem p = test_problem(FA_DTYPE_FP16, 64, 0, 2048, 8, 8);
    CHECK_OK(fa_db_record_peer(b, run, &p, "cudnn", "9.1", 1.0, 50.0, -1, &err), &err);
    CHECK_OK(fa_db_record_ceiling(b, run, "gemm_fp16_8192", FA_DTYPE_FP16, 1.4, 700, &err), &err);
    fa_db_device d2 = test_device("NVIDIA A100-SXM4-80GB", "sm80", 80);
    int64_t dev2, run2;
    CHECK_OK(fa_db_device_upsert(b, &d2, &dev2, &err), &err);
    CHECK_OK(fa_db_run_begin(b, dev2, "0.1.0", "hb", "on an a100", &run2, &err), &err);
    fill(b, run2, "sm80", 2, 2048); /* left "running": merged as such */
    fa_db_close(b);

    fa_db_merge_stats s;
    CHECK_OK(fa_db_merge(a, pb, &s, &err), &err);
    CHECK(s.devices == 1 && s.runs == 2 && s.variants == 0 && s.problems == 1);
    CHECK(s.measurements == 4 + 3 + 2 && s.peers == 1 && s.ceilings == 1);
    CHECK(count_measurements(a, NULL) == 6 + 9);
    char *before = export_string(a, FA_DB_FORMAT_CSV);
    char *jbefore = export_string(a, FA_DB_FORMAT_JSON);
    CHECK_OK(fa_db_merge(a, pb, &s, &err), &err);
    CHECK(s.devices == 0 && s.runs == 0 && s.variants == 0 && s.problems == 0);
    CHECK(s.measurements == 0 && s.peers == 0 && s.ceilings == 0);
    char *after = export_string(a, FA_DB_FORMAT_CSV);
    CHECK(before && after && strcmp(before, after) == 0);

    /* Into an empty database: twice gives the same as once. */
    fa_db *c = NULL;
    CHECK_OK(fa_db_open(pc, FA_DB_CREATE, &c, &err), &err);
    CHECK_OK(fa_db_merge(c, pa, &s, &err), &err);
    CHECK(s.runs == 3 && s.measurements == 15 && s.devices == 2);
    CHECK_OK(fa_db_merge(c, pa, &s, &err), &err);
    CHECK(s.runs == 0 && s.measurements == 0);
    char *cexp = export_string(c, FA_DB_FORMAT_CSV);
    CHECK(cexp && strcmp(cexp, before) == 0); /* same rows, same order, same uuids */
    free(cexp);

    /* Bad merges name what is wrong. */
    CHECK_FAILS(fa_db_merge(a, pa, &s, &err), FA_INVALID, &err, "into itself");
    char missing[512];
    test_path(missing, sizeof missing, "missing.db");
    CHECK_FAILS(fa_db_merge(a, missing, &s, &err), FA_NOT_FOUND, &err, "missing.db");
    CHECK_FAILS(fa_db_merge(a, test_dir, &s, &err), FA_IO, &err, "is a directory");

    /* CSV: header plus one line per measurement, fields quoted where needed. */
    int lines = 0;
    for (const char *q = before; q && *q; q++)
        lines += *q == '\n';
    CHECK(lines == 1 + 15);
    CHECK(strncmp(before, "uuid,arch,variant,", 18) == 0);
    CHECK(jbefore && jbefore[0] == '[' && strstr(jbefore, "\"tflops\":50,") != NULL);
    free(before);
    free(after);
    free(jbefore);

    /* A mismatch message with a comma and quotes survives CSV quoting. */
    fa_variant v = test_variant(FA_DTYPE_FP16, 64, 0, 9);
    record(a, run, "sm90", &v, &p, FA_MISMATCH, -1, -1);
    char *q = export_string(a, FA_DB_FORMAT_CSV);
    CHECK(q && strstr(q, "\"max err 0.5 > bound 0.004, \"\"row\"\" 17\"") != NULL);
    CHECK(q && strstr(q, ",mismatch,,,0.004,50,,") != NULL); /* unknown: empty cells */
    free(q);
    char *j = export_string(a, FA_DB_FORMAT_JSON);
    CHECK(j && strstr(j, "\"median_ms\":null") != NULL);
    CHECK(j && strstr(j, "\\\"row\\\" 17") != NULL);
    free(j);

    /* An empty database exports a header / an empty array. */
    fa_db *e = NULL;
    char pe[512];
    test_path(pe, sizeof pe, "empty.db");
    CHECK_OK(fa_db_open(pe, FA_DB_CREATE, &e, &err), &err);
    char *ej = export_string(e, FA_DB_FORMAT_JSON);
    CHECK(ej && strcmp(ej, "[]\n") == 0);
    free(ej);
    fa_db_format fmt;
    CHECK(fa_db_format_parse("json", &fmt) == FA_OK && fmt == FA_DB_FORMAT_JSON);
    CHECK(fa_db_format_parse("xlsx", &fmt) == FA_INVALID);
    fa_db_close(e);
    fa_db_close(c);
    fa_db_close(a);
}

/* A decode problem's op, page size and cache-length distribution survive the database: the
 * row read back names the same problem and carries the decode fields; a forward problem of
 * the same shape is another row. */
static void test_decode_round_trip(void)
{
    char path[512];
    test_path(path, sizeof path, "decode.db");
    fa_err err;
    int64_t dev, run;
    fa_db *db = test_open_run(path, "hash-d", &dev, &run);
    fa_variant v = test_variant(FA_DTYPE_BF16, 128, 1, 1);
    fa_problem p = test_problem(FA_DTYPE_BF16, 128, 1, 4096, 32, 8);
    p.op = FA_OP_DECODE;
    p.seqlen_q = 4;
    p.page_size = 64;
    p.cache_lens = FA_CACHE_UNIFORM;
    fa_problem f = test_problem(FA_DTYPE_BF16, 128, 1, 4096, 32, 8);
    f.seqlen_q = 4;
    fa_measurement m = test_measurement(FA_OK, 3.9, 0.25); /* TB/s for decode */
    CHECK_OK(fa_db_record(db, run, "sm90", &v, &p, &m, &err), &err);
    CHECK_OK(fa_db_record(db, run, "sm90", &v, &f, &m, &err), &err);
    char pname[FA_PROBLEM_NAME_MAX];
    fa_problem_name(&p, pname, sizeof pname);
    CHECK(strcmp(pname, "b2_h32_kv8_q4_k4096_d128_bf16_causal_decode_page64_uniform") == 0);
    struct find_ctx c = {0};
    fa_db_filter flt = {0};
    flt.problem = pname;
    CHECK_OK(fa_db_measurements(db, &flt, keep_row, &c, &err), &err);
    CHECK(c.n == 1);
    const fa_problem *r = &c.row.problem;
    char rname[FA_PROBLEM_NAME_MAX];
    fa_problem_name(r, rname, sizeof rname);
    CHECK_MSG(strcmp(rname, pname) == 0, "read back as '%s'", rname);
    CHECK(r->op == FA_OP_DECODE && r->page_size == 64 && r->cache_lens == FA_CACHE_UNIFORM);
    CHECK(r->seqlen_q == 4 && r->seqlen_k == 4096 && r->seed == p.seed && c.row.bucket == 4096);
    CHECK(c.row.m.tflops == 3.9);
    fa_problem_name(&f, pname, sizeof pname);
    memset(&c, 0, sizeof c);
    CHECK_OK(fa_db_measurements(db, &flt, keep_row, &c, &err), &err);
    CHECK(c.n == 1 && c.row.problem.op == FA_OP_FWD && c.row.problem.page_size == 0 &&
          c.row.problem.cache_lens == 0);
    fa_db_close(db);
}

/* fa_db_decode_winners: the winners view's rules over decode problems keyed by the seqlen_q
 * bucket (1; 2-4: 4; 5-16: 16, as fa_decode_q_bucket) and the paging too, where the view keys
 * them by (gqa, cache bucket) alone. */
static void test_decode_winners(void)
{
    char path[512];
    test_path(path, sizeof path, "decode_winners.db");
    fa_err err;
    int64_t dev, run;
    fa_db *db = test_open_run(path, "hash-w", &dev, &run);
    fa_variant v0 = test_variant(FA_DTYPE_BF16, 128, 0, 0),
               v1 = test_variant(FA_DTYPE_BF16, 128, 0, 1);
    fa_problem q[4]; /* seqlen_q 1 contiguous, 4 and 2 paged (one key), 5 contiguous */
    static const int sq[4] = {1, 4, 2, 5}, page[4] = {0, 64, 16, 0};
    for (int i = 0; i < 4; i++) {
        q[i] = test_problem(FA_DTYPE_BF16, 128, 0, 4096, 32, 8);
        q[i].op = FA_OP_DECODE;
        q[i].seqlen_q = sq[i];
        q[i].page_size = page[i];
    }
    fa_problem f = test_problem(FA_DTYPE_BF16, 128, 0, 4096, 32, 8); /* forward: never listed */
    record(db, run, "sm90", &v0, &q[0], FA_OK, 4.0, 0.2);
    record(db, run, "sm90", &v1, &q[0], FA_OK, 3.0, 0.3);
    record(db, run, "sm90", &v0, &q[1], FA_OK, 3.0, 0.3);
    record(db, run, "sm90", &v1, &q[1], FA_OK, 4.2, 0.2);
    record(db, run, "sm90", &v0, &q[2], FA_OK, 3.2, 0.3);
    record(db, run, "sm90", &v1, &q[2], FA_OK, 4.0, 0.2);
    record(db, run, "sm90", &v0, &q[3], FA_OK, 3.5, 0.3);
    record(db, run, "sm90", &v1, &q[3], FA_MISMATCH, -1, -1);
    record(db, run, "sm90", &v0, &f, FA_OK, 300, 0.3);

    struct winners_ctx c = {0};
    char n0[FA_VARIANT_NAME_MAX], n1[FA_VARIANT_NAME_MAX];
    fa_variant_name(&v0, n0, sizeof n0);
    fa_variant_name(&v1, n1, sizeof n1);
    CHECK_OK(fa_db_decode_winners(db, "sm90", keep_winner, &c, &err), &err);
    CHECK(c.n == 3);
    /* By seqlen_q bucket, then paging: q1 contiguous, q4 paged, q16 contiguous. */
    CHECK(c.w[0].q_bucket == 1 && c.w[0].paged == 0 && c.w[0].gqa == 4 && c.w[0].bucket == 4096);
    CHECK(strcmp(c.w[0].variant_name, n0) == 0 && c.w[0].problems == 1 && c.w[0].candidates == 2 &&
          strcmp(c.w[0].runner_up_name, n1) == 0);
    CHECK(c.w[1].q_bucket == 4 && c.w[1].paged == 1 && strcmp(c.w[1].variant_name, n1) == 0);
    CHECK(c.w[1].problems == 2 && c.w[1].tflops > 4.0999 && c.w[1].tflops < 4.1001);
    CHECK(c.w[2].q_bucket == 16 && c.w[2].paged == 0 && strcmp(c.w[2].variant_name, n0) == 0 &&
          c.w[2].candidates == 1); /* v1's mismatch keeps it out */
    for (int i = 0; i < 4; i++)
        CHECK(fa_decode_q_bucket(sq[i]) == (i == 0 ? 1 : i == 3 ? 16 : 4));
    CHECK(fa_decode_q_bucket(16) == 16);
    /* The view keeps one decode key for all four (v0: ok everywhere), beside the forward one. */
    c.n = 0;
    CHECK_OK(fa_db_winners(db, "sm90", keep_winner, &c, &err), &err);
    CHECK(c.n == 2 && c.w[0].q_bucket == 0 && c.w[1].q_bucket == 0);
    c.n = 0;
    CHECK_OK(fa_db_decode_winners(db, "sm80", keep_winner, &c, &err), &err);
    CHECK(c.n == 0);
    fa_db_close(db);
}

/* timed_pairs: only pairs with an "ok" row come back, with all their rows (a later
 * "unsupported" one too, so the latest row still decides); pairs never timed ok do not. */
static void test_timed_pairs(void)
{
    char path[512];
    test_path(path, sizeof path, "timed_pairs.db");
    fa_err err;
    int64_t dev, run;
    fa_db *db = test_open_run(path, "hash-a", &dev, &run);
    fa_problem p = test_problem(FA_DTYPE_BF16, 128, 1, 1000, 16, 4);
    fa_variant v[4];
    for (int i = 0; i < 4; i++)
        v[i] = test_variant(FA_DTYPE_BF16, 128, 1, i);
    /* v0: ok, then unsupported; v1: unsupported only; v2: mismatch only; v3: ok twice */
    fa_measurement ok = test_measurement(FA_OK, 100, 1.0);
    fa_measurement un = test_measurement(FA_UNSUPPORTED, -1, -1);
    fa_measurement mm = test_measurement(FA_MISMATCH, 90, 1.1);
    CHECK_OK(fa_db_record(db, run, "sm90", &v[0], &p, &ok, &err), &err);
    CHECK_OK(fa_db_record(db, run, "sm90", &v[0], &p, &un, &err), &err);
    CHECK_OK(fa_db_record(db, run, "sm90", &v[1], &p, &un, &err), &err);
    CHECK_OK(fa_db_record(db, run, "sm90", &v[2], &p, &mm, &err), &err);
    CHECK_OK(fa_db_record(db, run, "sm90", &v[3], &p, &ok, &err), &err);
    CHECK_OK(fa_db_record(db, run, "sm90", &v[3], &p, &ok, &err), &err);
    /* an ok row of v1 under another arch does not make v1's sm90 pair a timed one */
    CHECK_OK(fa_db_record(db, run, "sm80", &v[1], &p, &ok, &err), &err);
    fa_db_filter f = {0};
    f.arch = "sm90";
    CHECK(count_measurements(db, &f) == 6);
    f.timed_pairs = 1;
    CHECK(count_measurements(db, &f) == 4);
    char name[FA_VARIANT_NAME_MAX];
    for (int i = 0; i < 4; i++) {
        fa_variant_name(&v[i], name, sizeof name);
        f.variant = name;
        const long want = i == 0 || i == 3 ? 2 : 0;
        CHECK_MSG(count_measurements(db, &f) == want, "variant %d: %ld rows, want %ld", i,
                  count_measurements(db, &f), want);
    }
    fa_db_close(db);
}

int main(void)
{
    test_setup("basic");
    test_round_trip();
    test_decode_round_trip();
    test_winners();
    test_decode_winners();
    test_peers_runs();
    test_merge_export();
    test_timed_pairs();
    return test_finish("test_db_basic");
}
