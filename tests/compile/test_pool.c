/* This file implements the compile pool test: many variants compiled concurrently on
 * several threads all come back (each exactly once, with its tag), compile errors and
 * unsupported variants included; urgent jobs pass the plain ones queued before them, in their
 * own order; a pool freed with work still queued shuts down cleanly; and variants that share
 * their kernels (decode's splits) are compiled once, in flight and through the cache, an urgent
 * one moving the plain job it follows up, while an illegal sibling keeps its refusal. Uses the
 * stub templates of tests/compile/data. */
#include <dirent.h>

#include "fa_compile.h"
#include "fa_space.h"
#include "test_util.h"
#include "fa_test_variant.h"

/* Cache entries in dir whose label starts with prefix. */
static int entries(const char *dir, const char *prefix)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        n += len > 4 && !strcmp(de->d_name + len - 4, ".fac") &&
             !strncmp(de->d_name, prefix, strlen(prefix));
    }
    if (d)
        closedir(d);
    return n;
}

/* Decode variants that share kernels: two kernels (s3 and s2), five and three siblings, plus
 * k1f, which the legality model refuses (a fused combine needs more than one split). Each is
 * submitted on 3 threads, one variant a program: each kernel compiles once (one result that
 * is no cache hit), every sibling gets its cubin, bytes equal, and one cache entry a kernel
 * serves a later sibling. Then urgent work: a sibling submitted urgent moves the plain job it
 * follows ahead of the plain ones queued before it. */
static void shared_kernels(const char *templates, const char *tmp)
{
    static const char *names[] = {
        "decode_splitkv_hd128_bf16_m16n64w4s3k1f", "decode_splitkv_hd128_bf16_m16n64w4s3k0",
        "decode_splitkv_hd128_bf16_m16n64w4s3k2",  "decode_splitkv_hd128_bf16_m16n64w4s3k4f",
        "decode_splitkv_hd128_bf16_m16n64w4s2k4",  "decode_splitkv_hd128_bf16_m16n64w4s3k64",
        "decode_splitkv_hd128_bf16_m16n64w4s2k0f", "decode_splitkv_hd128_bf16_m16n64w4s3k12",
        "decode_splitkv_hd128_bf16_m16n64w4s2k16"};
    /* The illegal one first: it must not lead (its siblings would get its refusal). */
    enum { N = sizeof names / sizeof *names, ILLEGAL = 0 };
    fa_err err = {0};
    fa_variant v[N];
    for (int i = 0; i < N; i++)
        CHECK_OK(fa_variant_parse(names[i], &v[i], &err), &err);
    char label[FA_VARIANT_NAME_MAX];
    fa_variant_kernel_label(&v[3], label, sizeof label);
    CHECK_MSG(!strcmp(label, "decode_splitkv_hd128_bf16_m16n64w4s3k0"), "label %s", label);
    fa_variant_kernel_label(&v[6], label, sizeof label);
    CHECK_MSG(!strcmp(label, "decode_splitkv_hd128_bf16_m16n64w4s2k0"), "label %s", label);
    fa_variant f80;
    CHECK_OK(fa_variant_parse("fwd_sm80_hd64_fp16_causal_m128n96w4s3q", &f80, &err), &err);
    fa_variant_kernel_label(&f80, label, sizeof label); /* every sm80 axis is a kernel's */
    CHECK_MSG(!strcmp(label, "fwd_sm80_hd64_fp16_causal_m128n96w4s3q"), "label %s", label);

    const fa_arch *arch = fa_arch_find("sm90");
    char cache[600];
    snprintf(cache, sizeof cache, "%s/shared", tmp);
    fa_compiler *c = NULL;
    fa_compiler_opts o = {.cache_dir = cache, .templates_dir = templates, .batch = 1};
    CHECK_OK(fa_compiler_new(&o, &c, &err), &err);
    fa_compile_pool *p = NULL;
    if (c)
        CHECK_OK(fa_compile_pool_new(c, 3, &p, &err), &err);
    if (!p) {
        fa_compiler_free(c);
        return;
    }
    int tags[N], seen[N] = {0}, compiled[2] = {0};
    fa_compile_output outs[N];
    memset(outs, 0, sizeof outs);
    for (int i = 0; i < N - 2; i++) { /* the last two come later, through the cache */
        tags[i] = i;
        CHECK_OK(fa_compile_pool_submit(p, &v[i], arch, &tags[i], &err), &err);
    }
    CHECK(fa_compile_pool_pending(p) == N - 2);
    for (int k = 0; k < N - 2; k++) {
        void *tag = NULL;
        fa_compile_output out;
        CHECK_OK(fa_compile_pool_next(p, NULL, &tag, &out, &err), &err);
        const int i = tag ? *(int *)tag : -1;
        CHECK(i >= 0 && i < N - 2);
        if (i < 0 || i >= N - 2)
            continue;
        seen[i]++;
        if (i == ILLEGAL) {
            CHECK_MSG(out.status == FA_UNSUPPORTED && !out.cubin, "%s: status %d", names[i],
                      out.status);
            fa_compile_output_release(&out);
            continue;
        }
        CHECK_MSG(out.status == FA_OK && out.cubin && out.build.registers > 0, "%s: status %d",
                  names[i], out.status);
        compiled[fa_variant_param(&v[i], "stages") == 2] += !out.build.cache_hit;
        outs[i] = out;
    }
    for (int i = 0; i < N - 2; i++)
        CHECK_MSG(seen[i] == 1, "%s came back %d times", names[i], seen[i]);
    CHECK_MSG(compiled[0] == 1 && compiled[1] == 1, "s3 compiled %d times, s2 %d", compiled[0],
              compiled[1]);
    for (int i = 0; i < N - 2; i++) {
        const int lead = fa_variant_param(&v[i], "stages") == 2 ? 4 : 1;
        if (i == ILLEGAL || i == lead || !outs[i].cubin || !outs[lead].cubin)
            continue;
        CHECK_MSG(outs[i].cubin_size == outs[lead].cubin_size &&
                      !memcmp(outs[i].cubin, outs[lead].cubin, outs[i].cubin_size) &&
                      !strcmp(outs[i].lowered_name, outs[lead].lowered_name),
                  "%s has another cubin than %s", names[i], names[lead]);
    }
    CHECK_MSG(entries(cache, "decode_splitkv_hd128_bf16_m16n64w4s3k0-") == 1 &&
                  entries(cache, "decode_splitkv_hd128_bf16_m16n64w4s2k0-") == 1 &&
                  entries(cache, "") == 2,
              "%d cache entries", entries(cache, ""));
    for (int i = N - 2; i < N; i++) { /* later siblings: the kernel's one entry */
        fa_compile_output out;
        CHECK_OK(fa_compile_variant(c, &v[i], arch, &out, &err), &err);
        CHECK_MSG(out.status == FA_OK && out.build.cache_hit, "%s: status %d, hit %d", names[i],
                  out.status, out.build.cache_hit);
        fa_compile_output_release(&out);
    }
    for (int i = 0; i < N; i++)
        fa_compile_output_release(&outs[i]);
    fa_compile_pool_free(p);
    fa_compiler_free(c);

    /* Urgent: one thread, no cache. Plain jobs of two sm80 stub kernels and a decode one,
     * then an urgent decode job, then an urgent sibling of the third plain job: that job moves
     * up behind the urgent one (the sibling follows it), so both come back after the urgent
     * job and before the second plain job. */
    fa_compiler_opts o1 = {.no_cache = 1, .templates_dir = templates, .batch = 1};
    c = NULL;
    p = NULL;
    CHECK_OK(fa_compiler_new(&o1, &c, &err), &err);
    if (c)
        CHECK_OK(fa_compile_pool_new(c, 1, &p, &err), &err);
    if (p) {
        static const char *plain[] = {"fwd_sm80_hd64_fp16_m64n64w4s2",
                                      "fwd_sm80_hd64_fp16_m128n64w4s2",
                                      "decode_splitkv_hd128_bf16_m16n64w4s3k0"};
        fa_variant pv[3];
        int t[5] = {0, 1, 2, 3, 4}, order[5] = {0}, sib_hit = 0;
        for (int i = 0; i < 3; i++) {
            CHECK_OK(fa_variant_parse(plain[i], &pv[i], &err), &err);
            CHECK_OK(fa_compile_pool_submit(p, &pv[i], fa_arch_find("sm90"), &t[i], &err), &err);
        }
        CHECK_OK(fa_compile_pool_submit_urgent(p, &v[4], arch, &t[3], &err), &err);
        CHECK_OK(fa_compile_pool_submit_urgent(p, &v[2], arch, &t[4], &err), &err);
        for (int k = 0; k < 5; k++) {
            void *tag = NULL;
            fa_compile_output out;
            CHECK_OK(fa_compile_pool_next(p, NULL, &tag, &out, &err), &err);
            order[k] = tag ? *(int *)tag : -1;
            CHECK(out.status == FA_OK);
            if (order[k] == 4)
                sib_hit = out.build.cache_hit;
            fa_compile_output_release(&out);
        }
        int pos[5] = {0};
        for (int k = 0; k < 5; k++)
            if (order[k] >= 0 && order[k] < 5)
                pos[order[k]] = k;
        CHECK_MSG(pos[3] < pos[2] && pos[2] < pos[1] && pos[4] < pos[1] && sib_hit,
                  "order %d %d %d %d %d, sibling hit %d", order[0], order[1], order[2], order[3],
                  order[4], sib_hit);
    }
    fa_compile_pool_free(p);
    p = NULL;

    /* Freed with followers attached to queued and running jobs: nothing hangs or leaks (the
     * sanitizer build checks the leaks). */
    if (c)
        CHECK_OK(fa_compile_pool_new(c, 1, &p, &err), &err);
    for (int i = 0; p && i < N; i++)
        CHECK_OK(fa_compile_pool_submit(p, &v[i], arch, NULL, &err), &err);
    if (p) {
        fa_compile_output out;
        CHECK_OK(fa_compile_pool_next(p, NULL, NULL, &out, &err), &err);
        fa_compile_output_release(&out);
    }
    fa_compile_pool_free(p);
    fa_compiler_free(c);
}

int main(void)
{
    char tmp[512];
    fa_err err;
    fa_err_clear(&err);
    fa_test_tmpdir(tmp, sizeof tmp, "pool");
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.cache_dir = tmp;
    opts.templates_dir = FA_TEST_DATA;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return fa_test_done("test_pool");
    const fa_arch *arch = fa_arch_find("sm80");

    fa_variant *vs = NULL;
    int n = 0;
    fa_space_filter f = {.dtypes = 1u << FA_DTYPE_FP16 | 1u << FA_DTYPE_BF16,
                         .causal = FA_SPACE_ON,
                         .varlen = FA_SPACE_OFF};
    CHECK_OK(fa_space_enumerate(arch, 64, &f, &vs, &n, &err), &err);
    /* Every 7th variant of both dtypes: legal ones, illegal ones, and the stub's rejected
     * one (m64n48w4s2q) added by hand. */
    int picked[64], np = 0;
    for (int i = 0; i < n && np < 48; i += 7)
        picked[np++] = i;
    for (int i = 0; i < n; i++) {
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&vs[i], name, sizeof name);
        if (!strcmp(name, "fwd_sm80_hd64_fp16_causal_m64n48w4s2q"))
            picked[np++] = i;
    }

    fa_compile_pool *p = NULL;
    CHECK_OK(fa_compile_pool_new(c, 4, &p, &err), &err);
    if (!p)
        return fa_test_done("test_pool");
    for (int k = 0; k < np; k++)
        CHECK_OK(fa_compile_pool_submit(p, &vs[picked[k]], arch, &picked[k], &err), &err);
    CHECK(fa_compile_pool_pending(p) == np);

    /* The stub rejects BLOCK_N 48 with 2 stages and Q in registers, wherever it is legal. */
    int want_errors = 0;
    for (int k = 0; k < np; k++) {
        const fa_variant *v = &vs[picked[k]];
        want_errors += fa_variant_param(v, "block_n") == 48 && fa_variant_param(v, "stages") == 2 &&
                       fa_variant_param(v, "q_in_regs") && fa_variant_check(v, arch, NULL) == FA_OK;
    }
    int seen[2048] = {0}, ok = 0, unsupported = 0, errors = 0;
    for (int k = 0; k < np; k++) {
        fa_compile_output out;
        fa_variant v;
        void *tag = NULL;
        CHECK_OK(fa_compile_pool_next(p, &v, &tag, &out, &err), &err);
        int idx = tag ? *(int *)tag : -1;
        CHECK(idx >= 0 && idx < n && fa_variant_equal(&v, &vs[idx]));
        if (idx >= 0 && idx < n)
            seen[idx]++;
        int legal = fa_variant_check(&v, arch, NULL) == FA_OK;
        if (out.status == FA_OK) {
            ok++;
            CHECK(legal && out.cubin && out.build.registers > 0);
        } else if (out.status == FA_UNSUPPORTED) {
            unsupported++;
            CHECK(!legal && out.log && strlen(out.log) > 0 && out.cubin == NULL);
        } else {
            errors++;
            CHECK(out.status == FA_COMPILE_ERROR && out.log &&
                  strstr(out.log, "rejected on purpose"));
        }
        fa_compile_output_release(&out);
    }
    for (int k = 0; k < np; k++)
        CHECK(seen[picked[k]] == 1);
    fprintf(stderr, "%d jobs: %d ok, %d unsupported, %d compile errors\n", np, ok, unsupported,
            errors);
    CHECK(ok > 0 && unsupported > 0 && errors >= 1 && errors == want_errors);
    CHECK(fa_compile_pool_pending(p) == 0);
    fa_compile_output out;
    CHECK(fa_compile_pool_next(p, NULL, NULL, &out, &err) == FA_NOT_FOUND);
    fa_compile_pool_free(p);

    /* Urgent jobs: one thread, no cache, one variant a program. Six plain jobs, then two
     * urgent ones: these come back next after at most the plain job the thread took first,
     * the first submitted first; the plain ones keep their order. */
    fa_compiler *c1 = NULL;
    fa_compiler_opts o1 = opts;
    o1.no_cache = 1;
    o1.batch = 1;
    CHECK_OK(fa_compiler_new(&o1, &c1, &err), &err);
    p = NULL;
    if (c1)
        CHECK_OK(fa_compile_pool_new(c1, 1, &p, &err), &err);
    if (p) {
        int tags[8] = {0, 1, 2, 3, 4, 5, 6, 7}, order[8], got = 0;
        for (int k = 0; k < 8; k++)
            CHECK_OK((k < 6 ? fa_compile_pool_submit : fa_compile_pool_submit_urgent)(
                         p, &vs[picked[k]], arch, &tags[k], &err),
                     &err);
        for (; got < 8; got++) {
            void *tag = NULL;
            CHECK_OK(fa_compile_pool_next(p, NULL, &tag, &out, &err), &err);
            fa_compile_output_release(&out);
            order[got] = tag ? *(int *)tag : -1;
        }
        const int first = order[0] == 6 ? 0 : 1; /* where the urgent ones start */
        CHECK_MSG(order[first] == 6 && order[first + 1] == 7, "order %d %d %d %d", order[0],
                  order[1], order[2], order[3]);
        for (int k = 0, want = 0; k < 8; k++) /* the plain ones in submission order */
            if (order[k] < 6)
                CHECK(order[k] == want++);
    }
    fa_compile_pool_free(p);
    fa_compiler_free(c1);

    /* Free with work queued and running: queued jobs are dropped, nothing hangs or leaks. */
    p = NULL;
    CHECK_OK(fa_compile_pool_new(c, 0, &p, &err), &err); /* 0: all cores */
    for (int i = 0; p && i < n; i++)
        CHECK_OK(fa_compile_pool_submit(p, &vs[i], arch, NULL, &err), &err);
    if (p) {
        CHECK_OK(fa_compile_pool_next(p, NULL, NULL, &out, &err), &err);
        fa_compile_output_release(&out);
    }
    fa_compile_pool_free(p);
    fa_compile_pool_free(NULL);

    free(vs);
    fa_compiler_free(c);
    shared_kernels(FA_TEST_DATA, tmp);
    fa_test_rmtree(tmp);
    return fa_test_done("test_pool");
}
