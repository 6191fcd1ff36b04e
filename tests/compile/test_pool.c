/* This file implements the compile pool test: many variants compiled concurrently on
 * several threads all come back (each exactly once, with its tag), compile errors and
 * unsupported variants included; urgent jobs pass the plain ones queued before them, in their
 * own order; and a pool freed with work still queued shuts down cleanly. Uses the stub
 * template of tests/compile/data. */
#include "fa_compile.h"
#include "fa_space.h"
#include "test_util.h"
#include "fa_test_variant.h"

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
    fa_test_rmtree(tmp);
    return fa_test_done("test_pool");
}
