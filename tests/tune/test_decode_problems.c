/*
 * This file implements the CPU test of decode problems on the tuner's side: their names (paged,
 * uniform and a user's lengths apart), every rule of fa_problem_check for the op, classes and
 * variant matching by op, a decode class's check problem (lengths 0, 1, unaligned, full), the
 * K/V-bytes rate, the cache lengths each distribution draws, the default decode grid, a shapes
 * file's decode keys and their errors, and the forward default grid unchanged byte for byte
 * (tests/tune/fixtures/fwd_grid.txt, written before decode existed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_family.h"
#include "fa_problem_set.h"
#include "fa_tune.h"

static fa_problem decode_problem(void)
{
    return (fa_problem){.op = FA_OP_DECODE,
                        .dtype = FA_DTYPE_BF16,
                        .head_dim = 128,
                        .causal = 1,
                        .batch = 64,
                        .heads_q = 32,
                        .heads_kv = 8,
                        .seqlen_q = 1,
                        .seqlen_k = 4096};
}

static void check_name(const fa_problem *p, const char *want)
{
    char got[FA_PROBLEM_NAME_MAX];
    fa_problem_name(p, got, sizeof got);
    CHECK_MSG(!strcmp(got, want), "name '%s', want '%s'", got, want);
}

/* fa_problem_check refuses p with a message holding want. */
static void refused(const fa_problem *p, const char *want)
{
    fa_err err = {0};
    CHECK_MSG(fa_problem_check(p, &err) == FA_INVALID && strstr(err.msg, want),
              "want '%s', got '%s'", want, err.msg);
}

static void test_names_and_checks(void)
{
    fa_problem p = decode_problem();
    fa_err err = {0};
    CHECK_MSG(fa_problem_check(&p, &err) == FA_OK, "%s", err.msg);
    check_name(&p, "b64_h32_kv8_q1_k4096_d128_bf16_causal_decode");
    p.page_size = 64;
    check_name(&p, "b64_h32_kv8_q1_k4096_d128_bf16_causal_decode_page64");
    p.cache_lens = FA_CACHE_UNIFORM;
    check_name(&p, "b64_h32_kv8_q1_k4096_d128_bf16_causal_decode_page64_uniform");
    int lens[3] = {0, 100, 5000};
    fa_varlen_dist_from(lens, 3, &p.lengths);
    char want[FA_PROBLEM_NAME_MAX];
    snprintf(want, sizeof want, "b64_h32_kv8_q1_k4096_d128_bf16_causal_decode_page64_lens%08x",
             (unsigned)p.lengths.id);
    check_name(&p, want);
    CHECK_MSG(fa_problem_check(&p, &err) == FA_OK, "a cache length of 0 is legal: %s", err.msg);
    /* The forward op's name is what it always was. */
    fa_problem f = {.dtype = FA_DTYPE_FP16,
                    .head_dim = 64,
                    .causal = 1,
                    .varlen = 1,
                    .batch = 8,
                    .heads_q = 16,
                    .heads_kv = 4,
                    .seqlen_q = 2048,
                    .seqlen_k = 2048};
    check_name(&f, "b8_h16_kv4_q2048_k2048_d64_fp16_causal_varlen");

    /* Every rule of the op. */
    p = decode_problem();
    p.seqlen_q = 16;
    CHECK_MSG(fa_problem_check(&p, &err) == FA_OK, "seqlen_q 16: %s", err.msg);
    p.seqlen_q = 17;
    refused(&p, "decode seqlen_q 17 is above 16");
    p = decode_problem();
    p.varlen = 1;
    refused(&p, "decode problems are not varlen");
    p = decode_problem();
    p.layout = FA_LAYOUT_BHSD; /* a contiguous cache in PyTorch's layout */
    CHECK_MSG(fa_problem_check(&p, &err) == FA_OK, "bhsd: %s", err.msg);
    check_name(&p, "b64_h32_kv8_q1_k4096_d128_bf16_causal_decode_bhsd");
    p.page_size = 64;
    refused(&p, "paged decode caches are bshd");
    p = decode_problem();
    p.page_size = 8;
    refused(&p, "page size 8 is not 0 (contiguous) or in [16, 256]");
    p.page_size = 257;
    refused(&p, "page size 257");
    p.page_size = 16;
    CHECK_MSG(fa_problem_check(&p, &err) == FA_OK, "page 16: %s", err.msg);
    p.page_size = 256;
    CHECK_MSG(fa_problem_check(&p, &err) == FA_OK, "page 256: %s", err.msg);
    p = decode_problem();
    p.cache_lens = 2;
    refused(&p, "cache lengths 2 are not fixed (0) or uniform (1)");
    p = decode_problem();
    p.lengths.id = 1; /* q[] all 0: legal for decode, not for varlen */
    CHECK_MSG(fa_problem_check(&p, &err) == FA_OK, "zeros for decode: %s", err.msg);
    p.lengths.q[5] = -1;
    refused(&p, "cache length distribution holds length -1");
    f.page_size = 64;
    refused(&f, "page size and cache lengths apply to decode problems only");
    f.page_size = 0;
    f.cache_lens = FA_CACHE_UNIFORM;
    refused(&f, "page size and cache lengths apply to decode problems only");
    f.cache_lens = 0;
    f.op = (fa_op)7;
    refused(&f, "op 7 is not an op");

    /* Classes and variants by op: a decode problem never shares a forward space. */
    fa_problem a = decode_problem(), b = decode_problem();
    b.cache_lens = FA_CACHE_UNIFORM;
    b.batch = 1;
    b.seqlen_k = 131072;
    CHECK_MSG(fa_problem_same_class(&a, &b), "fixed and uniform caches share a class");
    b.page_size = 64;
    CHECK_MSG(!fa_problem_same_class(&a, &b), "paged and contiguous share a check problem");
    b = a;
    b.seqlen_q = 4;
    CHECK_MSG(!fa_problem_same_class(&a, &b), "seqlen_q 1 and 4 share a check problem");
    b = a;
    b.op = FA_OP_FWD;
    CHECK_MSG(!fa_problem_same_class(&a, &b), "decode and forward share a class");
    fa_variant v = {.op = FA_OP_FWD, .dtype = FA_DTYPE_BF16, .head_dim = 128, .causal = 1};
    CHECK_MSG(!fa_variant_matches(&v, &a) && fa_variant_matches(&v, &b), "variant matching");
    v.op = FA_OP_DECODE;
    CHECK_MSG(fa_variant_matches(&v, &a) && !fa_variant_matches(&v, &b), "decode variant");
}

/* A decode class's check problem: its seqlen_q and page size, caches with lengths 0 and 1,
 * lengths no page size divides, and the full cache. */
static void test_check_problem(void)
{
    fa_problem p = decode_problem(), c;
    p.seqlen_q = 4;
    p.page_size = 64;
    p.cache_lens = FA_CACHE_UNIFORM;
    fa_tune_check_problem(&p, &c);
    fa_err err = {0};
    CHECK_MSG(fa_problem_check(&c, &err) == FA_OK, "%s", err.msg);
    CHECK(c.op == FA_OP_DECODE && c.seqlen_q == 4 && c.page_size == 64 && c.seqlen_k == 1000 &&
          c.batch == FA_DECODE_CHECK_BATCH && c.heads_q == 32 && c.heads_kv == 8 && c.seed == 0);
    int lens[FA_DECODE_CHECK_BATCH], zero = 0, one = 0, full = 0, odd = 0;
    fa_problem_cache_lens(&c, lens);
    for (int b = 0; b < c.batch; b++) {
        zero += lens[b] == 0;
        one += lens[b] == 1;
        full += lens[b] == 1000;
        odd += lens[b] > 16 && lens[b] % 16 != 0;
    }
    CHECK_MSG(zero && one && full && odd, "check lengths: %d empty, %d of 1, %d full, %d odd", zero,
              one, full, odd);
    fa_problem f = decode_problem();
    f.op = FA_OP_FWD;
    f.seqlen_q = 4096;
    fa_tune_check_problem(&f, &c);
    CHECK(c.batch == 2 && c.seqlen_q == 1000 && c.seqlen_k == 1000 && c.lengths.id == 0);
}

static void test_work_and_lengths(void)
{
    fa_problem p = decode_problem();
    /* 64 sequences x 4096 rows x K and V x 8 heads x 128 x 2 bytes = 1 GiB / 2 */
    CHECK_MSG(fa_problem_work(&p, NULL, NULL, NULL) == 64.0 * 4096 * 2 * 8 * 128 * 2,
              "decode work %.0f", fa_problem_work(&p, NULL, NULL, NULL));
    int lens[64];
    for (int b = 0; b < 64; b++)
        lens[b] = b;
    CHECK_MSG(fa_problem_work(&p, NULL, NULL, lens) == 2016.0 * 2 * 8 * 128 * 2,
              "decode work with lengths");
    CHECK_MSG(!strcmp(fa_problem_rate_unit(&p), "TB/s"), "decode unit");
    fa_problem f = p;
    f.op = FA_OP_FWD;
    f.seqlen_q = 4096;
    CHECK_MSG(fa_problem_work(&f, NULL, NULL, lens) == fa_problem_flops(&f, NULL, NULL) &&
                  !strcmp(fa_problem_rate_unit(&f), "TFLOP/s"),
              "forward work is FLOPs");

    /* Fixed: all seqlen_k. Uniform: [N/2, N], reproducible, not all equal. */
    fa_problem_cache_lens(&p, lens);
    for (int b = 0; b < 64; b++)
        CHECK_MSG(lens[b] == 4096, "fixed length %d", lens[b]);
    p.cache_lens = FA_CACHE_UNIFORM;
    p.seed = 12345;
    int again[64], distinct = 0;
    fa_problem_cache_lens(&p, lens);
    fa_problem_cache_lens(&p, again);
    for (int b = 0; b < 64; b++) {
        CHECK_MSG(lens[b] >= 2048 && lens[b] <= 4096, "uniform length %d", lens[b]);
        CHECK(lens[b] == again[b]);
        distinct += lens[b] != lens[0];
    }
    CHECK_MSG(distinct > 0, "uniform lengths all equal");
    /* A user's distribution: only its values, cut at seqlen_k (0 kept). */
    int user[4] = {0, 1, 300, 9000};
    fa_varlen_dist_from(user, 4, &p.lengths);
    fa_problem_cache_lens(&p, lens);
    int zero = 0;
    for (int b = 0; b < 64; b++) {
        CHECK_MSG(lens[b] == 0 || lens[b] == 1 || lens[b] == 300 || lens[b] == 4096,
                  "user length %d", lens[b]);
        zero += lens[b] == 0;
    }
    CHECK_MSG(zero > 0, "no empty cache drawn from a distribution a quarter zeros");
}

static void test_grids(void)
{
    /* The forward default grids, byte for byte as before decode existed. */
    FILE *f = fopen(FA_FWD_GRID_FIXTURE, "r");
    CHECK_MSG(f != NULL, "cannot open '%s'", FA_FWD_GRID_FIXTURE);
    if (!f)
        return;
    const int hd[] = {32, 64, 96, 128, 192, 256};
    char line[512], mine[512];
    int lines = 0;
    for (int i = 0; i < 6; i++) {
        fa_problem_axes ax;
        fa_problem_axes_default(hd[i], &ax);
        fa_problem *ps = NULL;
        int n = 0;
        fa_err err = {0};
        CHECK_MSG(fa_problem_set_build(&ax, &ps, &n, &err) == FA_OK, "%s", err.msg);
        for (int k = 0; k < n; k++, lines++) {
            const fa_problem *p = &ps[k];
            char nm[FA_PROBLEM_NAME_MAX];
            fa_problem_name(p, nm, sizeof nm);
            snprintf(mine, sizeof mine,
                     "%s seed=%016llx dtype=%d d=%d causal=%d varlen=%d b=%d h=%d kv=%d q=%d k=%d "
                     "layout=%d scale=%g lens=%08x op=%d\n",
                     nm, (unsigned long long)p->seed, p->dtype, p->head_dim, p->causal, p->varlen,
                     p->batch, p->heads_q, p->heads_kv, p->seqlen_q, p->seqlen_k, p->layout,
                     p->softmax_scale, (unsigned)p->lengths.id, p->op);
            CHECK_MSG(fgets(line, sizeof line, f) && !strcmp(line, mine),
                      "forward grid line %d: '%s' is now '%s'", lines + 1, line, mine);
            CHECK_MSG(p->page_size == 0 && p->cache_lens == 0, "a forward problem has decode "
                                                               "fields");
        }
        free(ps);
    }
    CHECK_MSG(!fgets(line, sizeof line, f), "the forward grid lost problems after %d", lines);
    fclose(f);

    /* The decode grid at hd128: 2 seqlen_q x 4 head pairs x 2 page sizes x 5 caches x 2
     * batches, all valid decode problems with distinct names. */
    fa_problem_axes ax;
    fa_problem_axes_decode(128, &ax);
    fa_problem *ps = NULL;
    int n = 0;
    fa_err err = {0};
    CHECK_MSG(fa_problem_set_build(&ax, &ps, &n, &err) == FA_OK, "%s", err.msg);
    CHECK_MSG(n == 2 * 4 * 2 * 5 * 2, "decode grid holds %d problems", n);
    int pairs[4] = {0}, paged = 0, b1 = 0, b64_4k = 0, b1_128k = 0;
    for (int i = 0; i < n; i++) {
        const fa_problem *p = &ps[i];
        CHECK_MSG(fa_problem_check(p, &err) == FA_OK, "%s", err.msg);
        CHECK(p->op == FA_OP_DECODE && p->dtype == FA_DTYPE_BF16 && p->causal &&
              (p->seqlen_q == 1 || p->seqlen_q == 4) && p->batch >= 1 && p->batch <= 128 &&
              p->cache_lens == FA_CACHE_FIXED && p->seed == fa_problem_seed(p));
        pairs[0] += p->heads_q == 32 && p->heads_kv == 8;
        pairs[1] += p->heads_q == 64 && p->heads_kv == 8;
        pairs[2] += p->heads_q == 16 && p->heads_kv == 16;
        pairs[3] += p->heads_q == 32 && p->heads_kv == 1;
        paged += p->page_size == 64;
        b1 += p->batch == 1;
        b64_4k += p->batch == 64 && p->seqlen_k == 4096 && p->heads_q == 32 && p->heads_kv == 8;
        b1_128k += p->batch == 1 && p->seqlen_k == 131072 && p->heads_q == 32 && p->heads_kv == 8;
        char x[FA_PROBLEM_NAME_MAX], y[FA_PROBLEM_NAME_MAX];
        fa_problem_name(p, x, sizeof x);
        for (int j = 0; j < i; j++) {
            fa_problem_name(&ps[j], y, sizeof y);
            CHECK_MSG(strcmp(x, y) != 0, "two decode problems named '%s'", x);
        }
    }
    for (int i = 0; i < 4; i++)
        CHECK_MSG(pairs[i] == n / 4, "head pair %d: %d problems", i, pairs[i]);
    CHECK_MSG(paged == n / 2 && b1 == n / 2, "paged %d, batch 1 %d", paged, b1);
    /* the cuDNN shapes: batch 64 x 4k and batch 1 x 128k, contiguous and paged, q 1/4 */
    CHECK_MSG(b64_4k == 4 && b1_128k == 4, "reference shapes %d %d", b64_4k, b1_128k);
    free(ps);

    /* hd64: query heads scaled by 2, MQA kept; --gqa 8 keeps the 64/8 pair's ratio only. */
    fa_problem_axes_decode(64, &ax);
    ax.n_gqa = 1;
    ax.gqa[0] = 8;
    CHECK_MSG(fa_problem_set_build(&ax, &ps, &n, &err) == FA_OK, "%s", err.msg);
    for (int i = 0; i < n; i++)
        CHECK_MSG(ps[i].heads_q == 128 && ps[i].heads_kv == 16, "hd64 gqa 8 pair %d/%d",
                  ps[i].heads_q, ps[i].heads_kv);
    free(ps);
    fa_problem_axes_decode(64, &ax);
    CHECK_MSG(fa_problem_set_build(&ax, &ps, &n, &err) == FA_OK, "%s", err.msg);
    int mqa = 0;
    for (int i = 0; i < n; i++)
        mqa += ps[i].heads_q == 64 && ps[i].heads_kv == 1;
    CHECK_MSG(mqa == n / 4, "hd64 keeps MQA (%d)", mqa);
    free(ps);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The shapes file at path with text fails with a message holding want. */
static void shapes_refused(const char *path, const char *text, const char *want)
{
    fa_problem *ps = NULL;
    int n = 0;
    fa_err err = {0};
    write_file(path, text);
    CHECK_MSG(fa_problem_set_read(path, FA_DTYPE_BF16, 128, &ps, &n, &err) == FA_INVALID &&
                  strstr(err.msg, want),
              "want '%s', got '%s'", want, err.msg);
    free(ps);
}

static void test_shapes(void)
{
    char dir[] = "/tmp/fa_decode_shapes_XXXXXX";
    CHECK(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/shapes.txt", dir);
    write_file(path, "op=decode batch=64 heads=32 heads_kv=8 seqlen_q=1 seqlen_k=4096 causal=1\n"
                     "op=decode batch=2 heads=32 heads_kv=1 seqlen_q=4 seqlen_k=131072 "
                     "page_size=64 cache_lens=uniform\n"
                     "op=fwd batch=4 heads=16 seqlen_q=1024\n");
    fa_problem *ps = NULL;
    int n = 0;
    fa_err err = {0};
    CHECK_MSG(fa_problem_set_read(path, FA_DTYPE_BF16, 128, &ps, &n, &err) == FA_OK, "%s", err.msg);
    CHECK_MSG(n == 3, "%d problems", n);
    if (n == 3) {
        check_name(&ps[0], "b64_h32_kv8_q1_k4096_d128_bf16_causal_decode");
        check_name(&ps[1], "b2_h32_kv1_q4_k131072_d128_bf16_decode_page64_uniform");
        check_name(&ps[2], "b4_h16_kv16_q1024_k1024_d128_bf16");
        CHECK(ps[1].op == FA_OP_DECODE && ps[1].page_size == 64 &&
              ps[1].cache_lens == FA_CACHE_UNIFORM && ps[1].seed == fa_problem_seed(&ps[1]));
        CHECK(ps[2].op == FA_OP_FWD && ps[2].page_size == 0);
        /* --seqlens-file reaches decode problems too, and renames them */
        int lens[2] = {0, 700};
        fa_varlen_dist d;
        fa_varlen_dist_from(lens, 2, &d);
        fa_problem_set_use_lengths(ps, n, &d);
        CHECK(ps[0].lengths.id == d.id && ps[1].lengths.id == d.id && ps[2].lengths.id == 0);
        CHECK(ps[0].seed == fa_problem_seed(&ps[0]));
    }
    free(ps);
    const char *base = "batch=1 heads=8 seqlen_q=1 seqlen_k=512";
    char text[256];
    snprintf(text, sizeof text, "op=prefill %s\n", base);
    shapes_refused(path, text, "shapes.txt:1: field 'op': expected fwd or decode, got 'prefill'");
    snprintf(text, sizeof text, "op=decode cache_lens=normal %s\n", base);
    shapes_refused(path, text, "field 'cache_lens': expected fixed or uniform, got 'normal'");
    snprintf(text, sizeof text, "op=decode page_size=8 %s\n", base);
    shapes_refused(path, text, "shapes.txt:1: page size 8 is not 0 (contiguous) or in [16, 256]");
    snprintf(text, sizeof text, "op=decode page_size=512 %s\n", base);
    shapes_refused(path, text, "field 'page_size': expected an integer in [0, 256], got '512'");
    snprintf(text, sizeof text, "page_size=64 %s\n", base);
    shapes_refused(path, text, "page size and cache lengths apply to decode problems only");
    shapes_refused(path, "op=decode batch=1 heads=8 seqlen_q=1\n",
                   "shapes.txt:1: field 'seqlen_k' (the longest cache) is required with op=decode");
    shapes_refused(path, "op=decode batch=1 heads=8 seqlen_q=32 seqlen_k=512\n",
                   "decode seqlen_q 32 is above 16");
    snprintf(text, sizeof text, "op=decode op=decode %s\n", base);
    shapes_refused(path, text, "field 'op' given twice");
    shapes_refused(path, "pages=64 batch=1\n",
                   "unknown field 'pages' (fields: dtype headdim batch heads heads_kv seqlen_q "
                   "seqlen_k causal varlen layout op page_size cache_lens)");
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_names_and_checks();
    test_work_and_lengths();
    test_check_problem();
    test_grids();
    test_shapes();
    printf("decode problems: %d failure(s)\n", fa_check_failures);
    return fa_check_failures ? 1 : 0;
}
