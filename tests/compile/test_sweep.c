/* This file implements the compile sweep test with the stub template: one callback per
 * variant with consistent counts, a summary that adds up, a warm rerun served from the
 * cache, and a callback that stops the sweep early. */
#include "fa_space.h"
#include "fa_sweep.h"
#include "test_util.h"

typedef struct counts {
    int calls, ok, compile_error, unsupported, hits, stop_after;
    int seen[512];
} counts;

static fa_status on_item(const fa_sweep_item *it, void *vctx)
{
    counts *k = vctx;
    k->calls++;
    CHECK(it->done == k->calls && it->total > 0 && it->index >= 0 && it->index < it->total);
    CHECK(it->name && strncmp(it->name, "fwd_sm80_hd", 11) == 0);
    if (it->index >= 0 && it->index < 512)
        k->seen[it->index]++;
    if (it->out->status == FA_OK)
        k->ok++;
    else if (it->out->status == FA_COMPILE_ERROR)
        k->compile_error++;
    else
        k->unsupported++;
    k->hits += it->out->status != FA_UNSUPPORTED && it->out->build.cache_hit;
    /* Taking the cubin out is allowed: the sweep must not free it then. */
    if (it->out->cubin) {
        free(it->out->cubin);
        it->out->cubin = NULL;
    }
    return k->stop_after && k->calls >= k->stop_after ? FA_INTERRUPTED : FA_OK;
}

int main(void)
{
    char tmp[512];
    fa_err err;
    fa_err_clear(&err);
    fa_test_tmpdir(tmp, sizeof tmp, "sweep");
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.cache_dir = tmp;
    opts.templates_dir = FA_TEST_DATA;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return fa_test_done("test_sweep");
    const fa_arch *arch = fa_arch_find("sm80");

    /* The first 30 variants of the default hd64 space: m64 tiles, BLOCK_N 32..64. */
    fa_variant *vs = NULL;
    int n = 0;
    CHECK_OK(fa_space_enumerate(arch, 64, NULL, &vs, &n, &err), &err);
    n = n > 30 ? 30 : n;
    int illegal = 0;
    for (int i = 0; i < n; i++)
        illegal += fa_variant_check(&vs[i], arch, NULL) != FA_OK;

    for (int round = 0; round < 2; round++) {
        counts k = {0};
        fa_sweep_summary s;
        CHECK_OK(fa_compile_sweep(c, arch, vs, n, 2, on_item, &k, &s, &err), &err);
        CHECK(k.calls == n && s.total == n);
        for (int i = 0; i < n; i++)
            CHECK(k.seen[i] == 1);
        CHECK(s.ok == k.ok && s.compile_error == k.compile_error && s.unsupported == k.unsupported);
        CHECK(s.ok + s.compile_error + s.unsupported == n);
        CHECK(k.compile_error == 1);                      /* the stub's m64n48w4s2q */
        CHECK(k.unsupported == illegal && illegal == 12); /* m64 on 8 warps: 8 rows a warp */
        CHECK(s.cache_hits == k.hits);
        CHECK(s.cache_hits == (round ? s.ok + s.compile_error : 0));
        CHECK(s.spilled == 0 && s.wall_s > 0);
        fprintf(stderr, "round %d: %d ok, %d compile_error, %d unsupported, %d hits, %.2f s\n",
                round, s.ok, s.compile_error, s.unsupported, s.cache_hits, s.wall_s);
    }

    /* A callback that says stop: the sweep returns its status and drops the rest. */
    counts k = {0};
    k.stop_after = 3;
    fa_sweep_summary s;
    CHECK(fa_compile_sweep(c, arch, vs, n, 2, on_item, &k, &s, &err) == FA_INTERRUPTED);
    CHECK(k.calls == 3 && s.total == 3);

    /* An empty list is a sweep too. */
    CHECK_OK(fa_compile_sweep(c, arch, vs, 0, 0, NULL, NULL, &s, &err), &err);
    CHECK(s.total == 0);

    free(vs);
    fa_compiler_free(c);
    fa_test_rmtree(tmp);
    return fa_test_done("test_sweep");
}
