/*
 * db_test.h -- what the results-database tests share: the counting checks of fa_check.h
 * (plus CHECK_FAILS), a scratch directory per test program, file checksums (the "bytes
 * unchanged" requirement), and builders for variants, problems and measurements.
 * Header-only: each test program is one .c file plus this.
 */
#ifndef DB_TEST_H
#define DB_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_db.h"
#include "fa_test_variant.h"

/* Check a call failed with status want and its message contains needle. */
#define CHECK_FAILS(call, want, errp, needle)                                                      \
    do {                                                                                           \
        fa_status st_ = (call);                                                                    \
        if (st_ != (want) || !strstr((errp)->msg, (needle))) {                                     \
            fprintf(stderr, "%s:%d: %s -> %s '%s', want %s containing '%s'\n", __FILE__, __LINE__, \
                    #call, fa_status_str(st_), (errp)->msg, fa_status_str(want), (needle));        \
            fa_check_failures++;                                                                   \
        }                                                                                          \
    } while (0)

static char test_dir[256];

/* A fresh scratch directory under $TMPDIR (or /tmp), world-traversable so a test that drops
 * privileges can still reach it. */
static inline void test_setup(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(test_dir, sizeof test_dir, "%s/fa-db-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(test_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    chmod(test_dir, 0755);
}

static inline void test_path(char *buf, size_t n, const char *file)
{
    snprintf(buf, n, "%s/%s", test_dir, file);
}

static inline int test_finish(const char *name)
{
    if (fa_check_failures) {
        fprintf(stderr, "%s: %d check(s) failed (scratch files kept in %s)\n", name,
                fa_check_failures, test_dir);
        return 1;
    }
    char cmd[sizeof test_dir * 2 + 64];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' && rm -rf '%s'", test_dir, test_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "%s: could not remove %s\n", name, test_dir);
    printf("%s: all checks passed\n", name);
    return 0;
}

/* FNV-1a over the file's bytes; 0 if it cannot be read. Also checks the size. */
static inline uint64_t file_sum(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint64_t h = 1469598103934665603ull;
    int c;
    while ((c = fgetc(f)) != EOF)
        h = (h ^ (uint64_t)(unsigned char)c) * 1099511628211ull;
    fclose(f);
    return h;
}

static inline int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static inline int64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* Variant i of a small deterministic family: tiles vary with i. */
static inline fa_variant test_variant(fa_dtype dtype, int head_dim, int causal, int i)
{
    static const int bm[] = {64, 128, 128, 64};
    static const int bn[] = {64, 64, 32, 32};
    fa_variant v;
    memset(&v, 0, sizeof v);
    v.family = fa_family_sm80();
    v.dtype = dtype;
    v.head_dim = head_dim;
    fa_test_set(&v, "block_m", bm[i % 4]);
    fa_test_set(&v, "block_n", bn[i % 4]);
    fa_test_set(&v, "warps", 4);
    fa_test_set(&v, "stages", 2 + (i / 4) % 2);
    fa_test_set(&v, "q_in_regs", (i / 8) % 2);
    v.causal = causal;
    return v;
}

static inline fa_problem test_problem(fa_dtype dtype, int head_dim, int causal, int seqlen, int hq,
                                      int hkv)
{
    fa_problem p;
    memset(&p, 0, sizeof p);
    p.dtype = dtype;
    p.head_dim = head_dim;
    p.causal = causal;
    p.batch = 2;
    p.heads_q = hq;
    p.heads_kv = hkv;
    p.seqlen_q = seqlen;
    p.seqlen_k = seqlen;
    p.layout = FA_LAYOUT_BSHD;
    p.seed = 0x9e3779b97f4a7c15ull; /* exercises the full 64 bits */
    return p;
}

static inline fa_measurement test_measurement(fa_status status, double tflops, double median_ms)
{
    fa_measurement m;
    memset(&m, 0, sizeof m);
    m.status = status;
    m.median_ms = median_ms;
    m.min_ms = median_ms * 0.98;
    m.cv = 0.004;
    m.reps = 50;
    m.tflops = tflops;
    m.max_abs_err = 1.5e-3;
    m.rel_l2_err = 2e-4;
    m.eager_max_abs_err = 2e-3;
    m.lse_max_err = 1e-5;
    m.check_seed = 0xfedcba9876543210ull;
    m.peak_extra_bytes = 65536;
    m.eager_median_ms = median_ms * 3;
    m.eager_peak_extra_bytes = 1 << 26;
    m.build.registers = 168;
    m.build.smem_static = 0;
    m.build.stack_bytes = 0;
    m.build.spill_stores = 0;
    m.build.spill_loads = 0;
    m.build.compile_ms = 850.5;
    m.build.cache_hit = 0;
    if (status == FA_MISMATCH)
        snprintf(m.message, sizeof m.message, "max err 0.5 > bound 0.004, \"row\" 17");
    return m;
}

static inline fa_db_device test_device(const char *name, const char *arch, int cc)
{
    fa_db_device d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.arch, sizeof d.arch, "%s", arch);
    d.cc = cc;
    d.sm_count = 132;
    d.clock_khz = 1980000;
    d.mem_clock_khz = 2619000;
    d.memory_bytes = 85520809984LL;
    d.l2_bytes = 52428800;
    d.driver_version = 12040;
    d.cuda_version = 12040;
    d.nvrtc_version = 12040;
    return d;
}

/* Open (creating) path and start a run on a test device; aborts the test on failure. */
static inline fa_db *test_open_run(const char *path, const char *hash, int64_t *device_id,
                                   int64_t *run_id)
{
    fa_err err;
    fa_err_clear(&err);
    fa_db *db = NULL;
    fa_db_device d = test_device("NVIDIA H100 80GB HBM3", "sm90", 90);
    if (fa_db_open(path, FA_DB_CREATE, &db, &err) != FA_OK ||
        fa_db_device_upsert(db, &d, device_id, &err) != FA_OK ||
        fa_db_run_begin(db, *device_id, "0.1.0", hash, "fa-tune --arch sm90 --headdim 128", run_id,
                        &err) != FA_OK) {
        fprintf(stderr, "test_open_run(%s): %s\n", path, err.msg);
        exit(1);
    }
    return db;
}

/* Count callback for any iterator. */
static inline int count_cb(const void *row, void *user)
{
    (void)row;
    (*(long *)user)++;
    return 0;
}

static inline int count_rows_cb(const fa_db_row *r, void *user)
{
    return count_cb(r, user);
}

static inline long count_measurements(fa_db *db, const fa_db_filter *f)
{
    long n = 0;
    fa_err err;
    if (fa_db_measurements(db, f, count_rows_cb, &n, &err) != FA_OK) {
        fprintf(stderr, "count_measurements: %s\n", err.msg);
        return -1;
    }
    return n;
}

#endif /* DB_TEST_H */
