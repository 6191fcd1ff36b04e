/* This file implements the compile-only sweep over a list of variants (see fa_sweep.h). */
#include "fa_sweep.h"
#include "fa_util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int fa_compile_spills(const fa_build_info *b)
{
    return b->spill_stores > 0 || b->spill_loads > 0;
}

fa_status fa_compile_stored_status(const fa_compile_output *out, char *why, size_t n)
{
    if (n)
        why[0] = '\0';
    if (out->status != FA_OK) {
        fa_compile_log_summary(out->log, why, n);
        return out->status;
    }
    if (fa_compile_spills(&out->build))
        snprintf(why, n, "spills %d bytes of stores, %d of loads", out->build.spill_stores,
                 out->build.spill_loads);
    return FA_COMPILED;
}

int fa_sweep_threads(int jobs, int n)
{
    if (jobs <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cores > 0 ? (int)cores : 1;
    }
    /* No more threads than variants: idle threads would only cost their stacks. */
    if (jobs > n)
        jobs = n > 0 ? n : 1;
    return jobs;
}

fa_status fa_compile_sweep(fa_compiler *c, const fa_arch *arch, const fa_variant *variants, int n,
                           int jobs, fa_sweep_fn fn, void *ctx, fa_sweep_summary *sum, fa_err *err)
{
    fa_status st = FA_OK;
    fa_compile_pool *pool = NULL;
    fa_sweep_summary s;
    memset(&s, 0, sizeof s);
    double t0 = fa_now_s();

    if (!c || !arch || n < 0 || (n > 0 && !variants)) {
        st = FA_ERR(err, FA_INVALID, "compile sweep needs a compiler, an arch and variants");
        goto cleanup;
    }
    jobs = fa_sweep_threads(jobs, n);
    if ((st = fa_compile_pool_new(c, jobs, &pool, err)) != FA_OK)
        goto cleanup;
    for (int i = 0; i < n; i++)
        if ((st = fa_compile_pool_submit(pool, &variants[i], arch, (void *)(intptr_t)i, err)) !=
            FA_OK)
            goto cleanup;

    while (fa_compile_pool_pending(pool) > 0) {
        fa_compile_output out;
        void *tag = NULL;
        fa_variant v;
        fa_err jerr;
        fa_err_clear(&jerr);
        fa_status js = fa_compile_pool_next(pool, &v, &tag, &out, &jerr);
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&v, name, sizeof name);
        if (js != FA_OK) {
            st = FA_ERR(err, js, "%s: %s", name, jerr.msg);
            goto cleanup;
        }
        fa_sweep_item item = {0};
        item.index = (int)(intptr_t)tag;
        item.variant = &variants[item.index];
        item.name = name;
        item.done = ++s.total;
        item.total = n;
        item.out = &out;
        if (out.status == FA_OK) {
            s.ok++;
            item.spills = fa_compile_spills(&out.build);
            s.spilled += item.spills;
        } else if (out.status == FA_COMPILE_ERROR) {
            s.compile_error++;
        } else {
            s.unsupported++;
        }
        if (out.status != FA_UNSUPPORTED)
            s.cache_hits += out.build.cache_hit;
        s.wall_s = fa_now_s() - t0;
        fa_status cs = fn ? fn(&item, ctx) : FA_OK;
        fa_compile_output_release(&out);
        if (cs != FA_OK) {
            st = FA_ERR(err, cs, "compile sweep stopped after %d of %d variants", s.total, n);
            goto cleanup;
        }
    }
cleanup:
    /* Frees the queue: on a stop, variants not yet started are dropped. */
    fa_compile_pool_free(pool);
    s.wall_s = fa_now_s() - t0;
    s.compiled_per_s = s.wall_s > 0 ? (s.ok + s.compile_error) / s.wall_s : 0;
    if (sum)
        *sum = s;
    return st;
}
