/*
 * This file tests reports/fa_emit's library side without the CLI: the default tiles per arch
 * (stages lowered where shared memory does not fit), prefix validation, the atomic writer,
 * option errors, the "no winners" error, and a database filled through the fa_db API (random
 * run uuids) rendered twice to the same bytes, with a custom prefix replacing every
 * identifier.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FA_CHECK_COUNT
#include "fa_check.h"

#include "fa_db.h"
#include "fa_emit.h"
#include "fa_test_variant.h"

static char dir[512];

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static void test_defaults(void)
{
    fa_variant v;
    fa_err err;
    const fa_arch *sm80 = fa_arch_find("sm80"), *sm86 = fa_arch_find("sm86");
    const fa_arch *sm90 = fa_arch_find("sm90");
    CHECK(fa_emit_default_variant(64, sm86, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_m") == 128 && fa_variant_param(&v, "block_n") == 128 &&
          fa_variant_param(&v, "warps") == 4 && fa_variant_param(&v, "stages") == 2);
    CHECK(fa_emit_default_variant(128, sm86, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_m") == 128 && fa_variant_param(&v, "block_n") == 64 &&
          fa_variant_param(&v, "warps") == 4 && fa_variant_param(&v, "stages") == 2);
    /* 64x64 s2 at hd256 needs 160 KB: sm86 allows 99 KB, so one stage. */
    CHECK(fa_emit_default_variant(256, sm86, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_m") == 64 && fa_variant_param(&v, "block_n") == 64 &&
          fa_variant_param(&v, "stages") == 1);
    CHECK(fa_emit_default_variant(192, sm86, &v, &err) == FA_OK &&
          fa_variant_param(&v, "warps") == 8 && fa_variant_param(&v, "stages") == 1);
    CHECK(fa_emit_default_variant(256, sm80, &v, &err) == FA_OK &&
          fa_variant_param(&v, "stages") == 2);
    CHECK(fa_emit_default_variant(192, sm90, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_m") == 128 && fa_variant_param(&v, "block_n") == 64 &&
          fa_variant_param(&v, "warps") == 8 && fa_variant_param(&v, "stages") == 2);
    CHECK(fa_emit_default_variant(32, sm90, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_n") == 128);
    for (int i = 0; i < fa_num_head_dims; i++)
        for (const fa_arch *a = fa_archs; a->name; a++)
            CHECK(fa_emit_default_variant(fa_head_dims[i], a, &v, &err) == FA_OK &&
                  fa_variant_check(&v, a, NULL) == FA_OK &&
                  fa_variant_param(&v, "q_in_regs") == 0 && !v.causal);
}

/* The default decode tiles: the splitkv family's seeds with auto splits, made smaller until
 * legal (hd192 on sm86's 99 KB: BLOCK_N 32 over 2 warps). */
static void test_decode_defaults(void)
{
    fa_variant v;
    fa_err err;
    const fa_arch *sm86 = fa_arch_find("sm86"), *sm90 = fa_arch_find("sm90");
    CHECK(fa_emit_default_decode_variant(128, sm90, &v, &err) == FA_OK && v.op == FA_OP_DECODE &&
          !strcmp(v.family->name, "splitkv") && fa_variant_param(&v, "block_m") == 16 &&
          fa_variant_param(&v, "block_n") == 64 && fa_variant_param(&v, "warps") == 4 &&
          fa_variant_param(&v, "stages") == 3 && fa_variant_param(&v, "splits") == 0);
    CHECK(fa_emit_default_decode_variant(64, sm90, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_n") == 128 && fa_variant_param(&v, "stages") == 3);
    CHECK(fa_emit_default_decode_variant(256, sm90, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_n") == 64 && fa_variant_param(&v, "stages") == 2);
    CHECK(fa_emit_default_decode_variant(192, sm86, &v, &err) == FA_OK &&
          fa_variant_param(&v, "block_n") == 32 && fa_variant_param(&v, "warps") == 2 &&
          fa_variant_param(&v, "stages") == 3);
    for (int i = 0; i < fa_num_head_dims; i++)
        for (const fa_arch *a = fa_archs; a->name; a++)
            CHECK(fa_emit_default_decode_variant(fa_head_dims[i], a, &v, &err) == FA_OK &&
                  fa_variant_check(&v, a, NULL) == FA_OK);
}

static void test_prefix(void)
{
    CHECK(fa_emit_prefix_valid("fa_dispatch"));
    CHECK(fa_emit_prefix_valid("my_attn2"));
    CHECK(fa_emit_prefix_valid("X"));
    CHECK(!fa_emit_prefix_valid(""));
    CHECK(!fa_emit_prefix_valid(NULL));
    CHECK(!fa_emit_prefix_valid("_x"));
    CHECK(!fa_emit_prefix_valid("2x"));
    CHECK(!fa_emit_prefix_valid("a__b"));
    CHECK(!fa_emit_prefix_valid("a-b"));
    CHECK(!fa_emit_prefix_valid("a b"));
    CHECK(!fa_emit_prefix_valid("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

/* Entries of a directory, "." and ".." aside. */
static int count_entries(const char *d)
{
    DIR *h = opendir(d);
    int n = 0;
    if (!h)
        return -1;
    for (struct dirent *e; (e = readdir(h)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(h);
    return n;
}

static void test_write_file(void)
{
    char path[1024], sub[600];
    size_t len = 0;
    fa_err err;
    path_of(sub, sizeof sub, "w");
    CHECK(mkdir(sub, 0777) == 0);
    snprintf(path, sizeof path, "%s/out.h", sub);
    CHECK(fa_emit_write_file(path, "one\n", 4, &err) == FA_OK);
    char *t = slurp(path, &len);
    CHECK(t && len == 4 && !strcmp(t, "one\n"));
    free(t);
    CHECK(fa_emit_write_file(path, "second\n", 7, &err) == FA_OK);
    t = slurp(path, &len);
    CHECK(t && len == 7 && !strcmp(t, "second\n"));
    free(t);
    struct stat st;
    mode_t mask = umask(0);
    umask(mask);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask));
    CHECK(count_entries(sub) == 1); /* no temporary file left */
    /* A missing directory: FA_IO naming the path, nothing created. */
    snprintf(path, sizeof path, "%s/missing/out.h", sub);
    CHECK(fa_emit_write_file(path, "x", 1, &err) == FA_IO && strstr(err.msg, "missing/out.h"));
    CHECK(count_entries(sub) == 1);
}

static fa_db *open_new(const char *name)
{
    char path[600];
    fa_db *db = NULL;
    fa_err err;
    path_of(path, sizeof path, name);
    if (fa_db_open(path, FA_DB_CREATE, &db, &err) != FA_OK) {
        fprintf(stderr, "cannot create %s: %s\n", path, err.msg);
        exit(1);
    }
    return db;
}

static void test_errors(void)
{
    fa_db *db = open_new("empty.db");
    const fa_arch *archs[2] = {fa_arch_find("sm90"), fa_arch_find("sm80")};
    fa_emit_opts o = {0};
    char *text = (char *)"untouched";
    size_t len = 12345;
    fa_err err;
    o.archs = archs;
    o.n_archs = 0;
    CHECK(fa_emit_render(db, &o, &text, &len, NULL, &err) == FA_INVALID);
    o.n_archs = 1;
    o.prefix = "bad prefix";
    CHECK(fa_emit_render(db, &o, &text, &len, NULL, &err) == FA_INVALID);
    o.prefix = NULL;
    o.embed_cubin = 1;
    CHECK(fa_emit_render(db, &o, &text, &len, NULL, &err) == FA_INVALID);
    o.embed_cubin = 0;
    CHECK(fa_emit_render(db, &o, &text, &len, NULL, &err) == FA_NOT_FOUND);
    CHECK(strstr(err.msg, "no winners for sm90") &&
          strstr(err.msg, "fa-tune --arch sm90 --headdim 128"));
    CHECK(!strcmp(text, "untouched") && len == 12345); /* out-parameters untouched */
    fa_db_close(db);
}

static void record(fa_db *db, int64_t run, const char *arch, const char *variant, int seqlen,
                   int hq, int hkv, double tflops)
{
    fa_variant v;
    fa_err err;
    fa_measurement m;
    fa_problem p;
    if (fa_variant_parse(variant, &v, &err) != FA_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    memset(&p, 0, sizeof p);
    p.dtype = v.dtype;
    p.head_dim = v.head_dim;
    p.causal = v.causal;
    p.batch = 2;
    p.heads_q = hq;
    p.heads_kv = hkv;
    p.seqlen_q = p.seqlen_k = seqlen;
    memset(&m, 0, sizeof m);
    m.status = FA_OK;
    m.median_ms = 1.0;
    m.min_ms = 0.9;
    m.reps = 10;
    m.tflops = tflops;
    m.eager_median_ms = -1;
    m.peak_extra_bytes = m.eager_peak_extra_bytes = -1;
    m.build.registers = 200;
    CHECK(fa_db_record(db, run, arch, &v, &p, &m, &err) == FA_OK);
}

static void test_api_db(void)
{
    fa_db *db = open_new("api.db");
    fa_db_device d;
    int64_t dev, run;
    fa_err err;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "NVIDIA H100 80GB HBM3 */ tricky");
    snprintf(d.arch, sizeof d.arch, "sm90");
    d.cc = 90;
    d.driver_version = 12080;
    d.cuda_version = 12080;
    d.nvrtc_version = 12080;
    CHECK(fa_db_device_upsert(db, &d, &dev, &err) == FA_OK);
    CHECK(fa_db_run_begin(db, dev, "0.1.0", "hash-x", "fa-tune --arch sm90", &run, &err) == FA_OK);
    record(db, run, "sm90", "fwd_sm80_hd128_bf16_m128n64w4s2", 1000, 16, 16, 301.04);
    record(db, run, "sm90", "fwd_sm80_hd128_bf16_m128n128w8s2", 1000, 16, 16, 299.0);
    record(db, run, "sm90", "fwd_sm80_hd64_fp16_causal_m128n128w4s2", 4000, 16, 2, 150.0);
    CHECK(fa_db_run_end(db, run, FA_OK, &err) == FA_OK);

    const fa_arch *archs[2] = {fa_arch_find("sm90"), fa_arch_find("sm90")};
    fa_emit_opts o = {0};
    o.archs = archs;
    o.n_archs = 2; /* duplicates are one arch */
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    fa_emit_info info;
    CHECK(fa_emit_render(db, &o, &a, &la, &info, &err) == FA_OK);
    CHECK(fa_emit_render(db, &o, &b, &lb, NULL, &err) == FA_OK);
    CHECK(a && b && la == lb && !memcmp(a, b, la) && la == strlen(a));
    CHECK(info.entries == 2 && info.kernels == 2 && info.variants == 2 && info.runs == 1 &&
          info.bytes == la && !info.stale_source);
    CHECK(a && strstr(a, "\"fwd_sm80_hd128_bf16_m128n64w4s2\"") && strstr(a, "301.0,") &&
          !strstr(a, "m128n128w8s2\"")); /* the runner-up is no row */
    CHECK(a && strstr(a, "driver 12.8, CUDA 12.8, NVRTC 12.8") &&
          strstr(a, "source sha256 hash-x"));
    CHECK(a && strstr(a, "HBM3 * / tricky")); /* no comment terminator from a device name */
    CHECK(a && strstr(a, "#define FA_DISPATCH_ARCHS \"sm90\""));
    free(b);
    b = NULL;

    o.prefix = "my_attn";
    CHECK(fa_emit_render(db, &o, &b, &lb, NULL, &err) == FA_OK);
    CHECK(b && strstr(b, "#ifndef MY_ATTN_H") &&
          strstr(b, "static inline my_attn_choice my_attn_lookup(") &&
          strstr(b, "#define MY_ATTN_FOR_EACH_VARIANT(X)") && !strstr(b, "fa_dispatch") &&
          !strstr(b, "FA_DISPATCH") && !strstr(b, "@p@") && !strstr(b, "@P@"));
    free(a);
    free(b);

    /* Written through fa_emit_write, then an arch without winners: the file stays. */
    char path[600];
    path_of(path, sizeof path, "api.h");
    o.prefix = NULL;
    CHECK(fa_emit_write(db, &o, path, NULL, &err) == FA_OK);
    size_t l1 = 0, l2 = 0;
    char *t1 = slurp(path, &l1);
    const fa_arch *two[2] = {fa_arch_find("sm90"), fa_arch_find("sm80")};
    o.archs = two;
    CHECK(fa_emit_write(db, &o, path, NULL, &err) == FA_NOT_FOUND &&
          strstr(err.msg, "no winners for sm80"));
    char *t2 = slurp(path, &l2);
    CHECK(t1 && t2 && l1 == l2 && !memcmp(t1, t2, l1));
    free(t1);
    free(t2);
    fa_db_close(db);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fa_emit_unit_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_defaults();
    test_decode_defaults();
    test_prefix();
    test_write_file();
    test_errors();
    test_api_db();
    if (!fa_check_failures) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        printf("emit unit tests passed\n");
        return 0;
    }
    fprintf(stderr, "%d fa_check_failures (files kept in %s)\n", fa_check_failures, dir);
    return 1;
}
