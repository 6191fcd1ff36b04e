/*
 * This file implements the GPU correctness test of the sm80 kernel family (issue #4, label
 * gpu): every head dim x dtype x causal x varlen x GQA ratio g in {1, 4, hq}, on two tile
 * configurations, against the fp32 reference with FlashAttention's criterion (LSE checked,
 * outputs poisoned, fresh random inputs), through the harness worker exactly as the tuner
 * runs it. Lengths cycle through odd values (1, 17, 333, 1000, 4097) with seqlen_q != seqlen_k
 * in both directions, so causal rows with no visible key, ragged tiles and empty varlen
 * sequences all occur; fixed-length problems alternate BSHD and BHSD.
 * Exit 77 (skipped) without a GPU; 1 with the failing cases listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_check.h"
#include "fa_compile.h"
#include "fa_worker.h"
#include "fa_test_variant.h"

/* Tile A: 64x64, 4 warps, 2 stages, Q in registers (Q in shared memory at hd256, where the
 * Q fragments would spill). Tile B: 128x80 (BLOCK_N not a power of two), 8 warps, 1 stage. */
static void tiles(int hd, fa_variant *a, fa_variant *b)
{
    *a = fa_test_sm80(FA_DTYPE_FP16, hd, 64, 64, 4, 2, hd < 256, 0, 0);
    *b = fa_test_sm80(FA_DTYPE_FP16, hd, 128, 80, 8, 1, 0, 0, 0);
}

int main(int argc, char **argv)
{
    int rc = fa_worker_main_hook(argc, argv);
    if (rc >= 0)
        return rc;
    static const int hds[] = {32, 64, 96, 128, 192, 256};
    static const int lens[][2] = {{17, 17},     {1000, 1000}, {1, 4097}, {1000, 4097},
                                  {4097, 1000}, {333, 257},   {257, 333}};
    enum { NV = 6 * 2 * 4 * 2 };
    fa_variant vs[NV];
    int n = 0;
    for (int h = 0; h < 6; h++)
        for (int t = 0; t < 2; t++)
            for (int mode = 0; mode < 4; mode++) {
                fa_variant a, b;
                tiles(hds[h], &a, &b);
                fa_variant *pair[2] = {&a, &b};
                for (int k = 0; k < 2; k++) {
                    pair[k]->dtype = t ? FA_DTYPE_BF16 : FA_DTYPE_FP16;
                    pair[k]->causal = mode & 1;
                    pair[k]->varlen = mode >> 1;
                    vs[n++] = *pair[k];
                }
            }

    fa_err err = {0};
    fa_compiler *c = NULL;
    CHECK(fa_compiler_new(NULL, &c, &err) == FA_OK);
    fa_worker_opts wo;
    fa_worker_opts_default(&wo);
    wo.compiler = c;
    fa_worker *w = NULL;
    fa_status st = fa_worker_start(0, &wo, &w, &err);
    if (st == FA_NO_DEVICE) {
        printf("skipped: %s\n", err.msg);
        fa_compiler_free(c);
        return 77;
    }
    CHECK(st == FA_OK);
    const char *arch = fa_worker_nvrtc_arch(w);
    const fa_arch *fa = fa_arch_find(!strcmp(arch, "sm_90") ? "sm90" : "sm80");
    printf("device: %s (%s), %d variants x 3 gqa ratios\n", fa_worker_device(w)->name, arch, NV);

    /* compile all variants in parallel (cache), then check each on three GQA ratios */
    fa_compile_pool *pool = NULL;
    CHECK(fa_compile_pool_new(c, 0, &pool, &err) == FA_OK);
    for (int i = 0; i < NV; i++)
        CHECK(fa_compile_pool_submit(pool, &vs[i], fa, (void *)(intptr_t)i, &err) == FA_OK);
    static fa_compile_output outs[NV];
    while (fa_compile_pool_pending(pool) > 0) {
        fa_variant v;
        void *tag = NULL;
        fa_compile_output o;
        memset(&o, 0, sizeof o);
        CHECK(fa_compile_pool_next(pool, &v, &tag, &o, &err) == FA_OK);
        outs[(intptr_t)tag] = o;
    }
    fa_compile_pool_free(pool);

    int failures = 0, checks = 0, shape = 0;
    for (int i = 0; i < NV; i++) {
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&vs[i], name, sizeof name);
        if (outs[i].status != FA_OK) {
            printf("FAIL %s: does not compile: %s\n", name, fa_status_str(outs[i].status));
            failures++;
            continue;
        }
        static const int hkv[] = {8, 2, 1}; /* heads_q = 8: g = 1, 4, hq (MQA) */
        for (int g = 0; g < 3; g++, shape++) {
            fa_job job;
            memset(&job, 0, sizeof job);
            fa_problem *p = &job.problem;
            p->dtype = vs[i].dtype;
            p->head_dim = vs[i].head_dim;
            p->causal = vs[i].causal;
            p->varlen = vs[i].varlen;
            p->batch = vs[i].varlen ? 3 : 2;
            p->heads_q = 8;
            p->heads_kv = hkv[g];
            p->seqlen_q = lens[shape % 7][0];
            p->seqlen_k = lens[shape % 7][1];
            p->layout = !vs[i].varlen && (shape & 1) ? FA_LAYOUT_BHSD : FA_LAYOUT_BSHD;
            p->seed = 1000 + (uint64_t)shape;
            job.variant = vs[i];
            job.cubin = outs[i].cubin;
            job.cubin_size = outs[i].cubin_size;
            job.symbol = outs[i].lowered_name;
            job.build = outs[i].build;
            job.what = FA_JOB_CHECK;
            fa_measurement m;
            fa_measurement_init(&m);
            CHECK(fa_worker_check_and_time(w, &job, &m, NULL, &err) == FA_OK);
            checks++;
            char pname[FA_PROBLEM_NAME_MAX];
            fa_problem_name(p, pname, sizeof pname);
            if (m.status != FA_OK) {
                printf("FAIL %s on %s: %s: %s (seed %llu)\n", name, pname, fa_status_str(m.status),
                       m.message, (unsigned long long)m.check_seed);
                failures++;
            }
        }
    }
    printf("kernel family: %d checks, %d failures\n", checks, failures);
    for (int i = 0; i < NV; i++)
        fa_compile_output_release(&outs[i]);
    fa_worker_stop(w);
    fa_compiler_free(c);
    return failures ? 1 : 0;
}
