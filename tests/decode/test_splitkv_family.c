/*
 * This file implements the CPU test of the splitkv decode family's host description
 * (tuner/families/fa_family_splitkv.c) through the seam (fa_family.h, fa_variant.h) and of
 * its plan header (templates/decode/fa_plan_splitkv.h):
 *   - registry and archs: found by name, serves decode only, portable (sm_80 on sm80, sm_90 on
 *     sm90, not selected by --arch sm90a), two kernels with the 248-byte fa_decode_args;
 *   - names: parse -> name round trip, the suffix's parameters (the fused combine's "f"), both
 *     NVRTC name expressions (fused or not: the same kernels); non-canonical suffixes are not
 *     names;
 *   - legality at its boundaries (accumulators 192, BLOCK_N / warps, shared memory on sm86),
 *     forward variants refused, and the template agreeing (NVRTC stops at its static_assert);
 *   - the auto split rule (FlashAttention-3's) on hand-worked cases, and the plan: grid, block,
 *     shared memory, one launch and no scratch for one split, two launches and the scratch
 *     formula otherwise, explicit splits clamped to the KV blocks, bad shapes refused; a fused
 *     variant: one launch with the same scratch (counters in its header), the combine kernel
 *     again past FA_DECODE_FUSED_GROUPS CTAs; every split plan keeps its scratch (zeroed once);
 *   - args: fa_fwd_params, the scratch address and the fused flag, for both kernels;
 *   - NVRTC compiles a few variants (both kernels in one cubin, sm_90 and sm_80) with no
 *     spills and no stack;
 *   - the prior puts a measured tile with auto splits first;
 *   - the blocks of each split (fa_plan_splitkv_blocks): ranges and block-cyclic both give
 *     every block of every length to exactly one split, ranges as one run of ceil(nb / S),
 *     cyclic as s, s + S, ...; which caches are cyclic (fa_plan_splitkv_cyclic).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/fa_plan_splitkv.h"
#include "fa_compile.h"
#include "fa_family.h"
#include "fa_space.h"
#include "test_util.h"
#include "test_variant_names.h"

static const fa_family *fam;

static void test_names(void)
{
    CHECK(fam && fa_family_serves(fam, FA_OP_DECODE) && !fa_family_serves(fam, FA_OP_FWD));
    const char *a80 = fa_family_nvrtc_arch(fam, fa_arch_find("sm80"));
    const char *a90 = fa_family_nvrtc_arch(fam, fa_arch_find("sm90"));
    const char *a90a = fa_family_nvrtc_arch(fam, fa_arch_find("sm90a"));
    /* --arch sm90a selects only the arch-specific families (fa_family.h) */
    CHECK_MSG(a80 && !strcmp(a80, "sm_80") && a90 && !strcmp(a90, "sm_90") && !a90a, "%s %s %s",
              a80 ? a80 : "-", a90 ? a90 : "-", a90a ? a90a : "-");
    CHECK(!strcmp(fam->template_file, "decode/fa_decode_splitkv.cuh"));
    CHECK(fam->nkernels == 2 && fam->kernels[0].param_bytes == FA_DECODE_ARGS_BYTES &&
          fam->kernels[1].param_bytes == FA_DECODE_ARGS_BYTES && FA_DECODE_ARGS_BYTES == 248);
    CHECK(fa_space_tiles_per_mode(fam) == 3 * 4 * 3 * 3 * 13 * 2);

    const char *name = "decode_splitkv_hd128_bf16_causal_m32n128w8s3k16";
    fa_variant v = fa_test_parse(name);
    CHECK(v.family == fam && v.op == FA_OP_DECODE && v.head_dim == 128 && v.causal && !v.varlen &&
          v.dtype == FA_DTYPE_BF16);
    CHECK(fa_variant_param(&v, "block_m") == 32 && fa_variant_param(&v, "block_n") == 128 &&
          fa_variant_param(&v, "warps") == 8 && fa_variant_param(&v, "stages") == 3 &&
          fa_variant_param(&v, "splits") == 16);
    char buf[FA_VARIANT_NAME_MAX];
    fa_variant_name(&v, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, name), "%s", buf);
    char expr[256];
    fa_variant_kernel_expr(&v, 0, expr, sizeof expr);
    CHECK_MSG(!strcmp(expr, "fa_decode_splitkv<__nv_bfloat16, 128, 32, 128, 8, 3, true>"), "%s",
              expr);
    fa_variant_kernel_expr(&v, 1, expr, sizeof expr);
    CHECK_MSG(!strcmp(expr, "fa_decode_combine<__nv_bfloat16, 128>"), "%s", expr);
    v = fa_test_parse("decode_splitkv_hd64_fp16_m16n64w4s2k0");
    CHECK(fa_variant_param(&v, "splits") == 0 && !v.causal && v.dtype == FA_DTYPE_FP16);
    fa_variant_kernel_expr(&v, 0, expr, sizeof expr);
    CHECK_MSG(!strcmp(expr, "fa_decode_splitkv<__half, 64, 16, 64, 4, 2, false>"), "%s", expr);
    fa_variant_kernel_expr(&v, 1, expr, sizeof expr);
    CHECK_MSG(!strcmp(expr, "fa_decode_combine<__half, 64>"), "%s", expr);
    CHECK(fa_variant_param(&v, "fuse") == 0);
    /* Fused: "f" after the splits; the same kernels (the flag is an argument). */
    v = fa_test_parse("decode_splitkv_hd64_fp16_m16n64w4s2k8f");
    CHECK(fa_variant_param(&v, "fuse") == 1 && fa_variant_param(&v, "splits") == 8);
    fa_variant_name(&v, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, "decode_splitkv_hd64_fp16_m16n64w4s2k8f"), "%s", buf);
    fa_variant_kernel_expr(&v, 0, expr, sizeof expr);
    CHECK_MSG(!strcmp(expr, "fa_decode_splitkv<__half, 64, 16, 64, 4, 2, false>"), "%s", expr);

    static const char *const not_names[] = {
        "decode_splitkv_hd128_bf16_m16n64w4s3k0ff", /* fused twice */
        "decode_splitkv_hd128_bf16_m16n64w4s3kf",   /* fused without splits */
        "decode_splitkv_hd128_bf16_m16n64w4s3k0F",
        "decode_splitkv_hd128_bf16_m16n64w4s3",         /* no splits */
        "decode_splitkv_hd128_bf16_m16n64w4s3k",        /* splits without a value */
        "decode_splitkv_hd128_bf16_m16n64w4s3k08",      /* not canonical */
        "decode_splitkv_hd128_bf16_m16n64w4s3k0x",      /* trailing junk */
        "fwd_splitkv_hd128_bf16_m16n64w4s3k0",          /* the family serves decode only */
        "decode_sm80_hd128_bf16_m128n64w4s2",           /* and sm80 forward only */
        "decode_splitkv_hd128_bf16_varlenm16n64w4s3k0", /* mode then '_' */
    };
    for (size_t i = 0; i < sizeof not_names / sizeof *not_names; i++) {
        fa_variant x;
        fa_err err;
        fa_err_clear(&err);
        CHECK_MSG(fa_variant_parse(not_names[i], &x, &err) == FA_INVALID, "%s parsed",
                  not_names[i]);
    }
}

static void test_legality(fa_compiler *c)
{
    char why[2048];
    static const char *const ok[] = {
        "decode_splitkv_hd128_bf16_m16n64w4s3k0",
        "decode_splitkv_hd128_bf16_m32n128w8s3k8",        /* 2 x (16 + 2) x 4 = 144 */
        "decode_splitkv_hd64_bf16_m64n128w8s3k0",         /* 4 x (8 + 2) x 4 = 160 */
        "decode_splitkv_hd64_bf16_m64n64w2s2k0",          /* 4 x (8 + 4) x 4 = 192 exactly */
        "decode_splitkv_hd256_fp16_causal_m16n64w4s3k64", /* 205440 B */
        "decode_splitkv_hd96_bf16_m16n32w2s4k1",
        "decode_splitkv_hd128_bf16_m16n64w4s3k0f",
        "decode_splitkv_hd128_bf16_causal_m32n64w4s3k4f",
        "decode_splitkv_hd128_bf16_m16n64w4s3k2f",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        CHECK_MSG(fa_test_legal(ok[i], "sm90", why, sizeof why), "%s: %s", ok[i], why);
        CHECK_MSG(fa_test_legal(ok[i], NULL, why, sizeof why), "%s (no arch): %s", ok[i], why);
    }
    /* {name, arch, what the reason says, the template's static_assert text (NULL: none)} */
    static const struct {
        const char *name, *arch, *why, *assert_text;
    } bad[] = {
        {"decode_splitkv_hd128_bf16_m64n64w4s2k0", "sm90", "192 registers", "exceed 192"},
        {"decode_splitkv_hd256_bf16_m32n64w4s2k0", "sm90", "192 registers", "exceed 192"},
        {"decode_splitkv_hd64_bf16_m64n128w2s2k0", "sm90", "192 registers", "exceed 192"},
        {"decode_splitkv_hd128_bf16_m16n64w8s2k0", "sm90", "multiple of 16", "multiple of 16"},
        {"decode_splitkv_hd256_bf16_m16n128w4s2k0", "sm90", "227 KB", "exceeds 227 KB"},
        {"decode_splitkv_hd128_bf16_m16n64w4s3k0", "sm86", "sm86 allows", NULL}, /* 103040 B */
        {"decode_splitkv_hd128_bf16_m16n64w4s3k1f", "sm90", "splits other than 1", NULL},
        {"decode_splitkv_hd128_bf16_m16n64w4s3k6f", "sm90", "at most 4", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(!fa_test_legal(bad[i].name, bad[i].arch, why, sizeof why) &&
                      strstr(why, bad[i].why),
                  "%s: '%s', want '%s'", bad[i].name, why, bad[i].why);
        if (!bad[i].assert_text || !c)
            continue;
        fa_variant v = fa_test_parse(bad[i].name);
        char expr[256];
        fa_variant_kernel_expr(&v, 0, expr, sizeof expr);
        fa_compile_output out = {0};
        fa_err err;
        fa_err_clear(&err);
        CHECK_OK(fa_compile_source(c, "#include \"decode/fa_decode_splitkv.cuh\"\n", expr, "sm_90",
                                   NULL, 0, &out, &err),
                 &err);
        CHECK_MSG(out.status == FA_COMPILE_ERROR && out.log && strstr(out.log, bad[i].assert_text),
                  "%s: the template does not refuse it (%s)", bad[i].name,
                  fa_status_str(out.status));
        fa_compile_output_release(&out);
    }
    CHECK(fa_test_legal("decode_splitkv_hd128_bf16_m16n64w4s3k0", "sm80", why, sizeof why));
    /* A forward variant of this family cannot be named; a hand-built one is refused. */
    fa_variant f = fa_test_parse("decode_splitkv_hd128_bf16_m16n64w4s3k0");
    f.op = FA_OP_FWD;
    fa_err err;
    fa_err_clear(&err);
    CHECK(fa_variant_check(&f, NULL, &err) == FA_UNSUPPORTED && strstr(err.msg, "decode op"));
}

static void test_auto_splits(void)
{
    /* Enough CTAs (>= 80% of 132): one split. 64 x 8 kv heads = 512 CTAs. */
    CHECK(fa_plan_splitkv_auto(512, 132, 64) == 1);
    CHECK(fa_plan_splitkv_auto(106, 132, 1000) == 1); /* 106 >= 105.6 */
    /* ... and just under it, splits: 105 CTAs fill 79.5% of a wave for s = 1..4 and 525/528
     * at s = 5, the first s within 0.95 of the best. */
    CHECK_MSG(fa_plan_splitkv_auto(105, 132, 1000) == 5, "%d",
              fa_plan_splitkv_auto(105, 132, 1000));
    /* Few KV blocks: one split. */
    CHECK(fa_plan_splitkv_auto(8, 132, 4) == 1);
    /* 8 CTAs, 2048 blocks: efficiency 8s/132 / ceil; best 1.0 at s = 33; the first s with
     * efficiency >= 0.95 is 16 (128/132 = 0.970; 15 gives 120/132 = 0.909, FlashAttention-3's
     * pick at 0.85). */
    CHECK_MSG(fa_plan_splitkv_auto(8, 132, 2048) == 16, "%d", fa_plan_splitkv_auto(8, 132, 2048));
    /* 64 CTAs (8 x 8k, 64/8 heads): 2 splits fill 128 of 132. */
    CHECK(fa_plan_splitkv_auto(64, 132, 128) == 2);
    /* max_splits caps at the KV blocks: 8 CTAs, 6 blocks: s <= 6, best 48/132; 0.95 of it
     * is first reached at s = 6 (40/132 < 0.95 * 48/132). */
    CHECK(fa_plan_splitkv_auto(8, 132, 6) == 6);
    /* Unknown device: one split. */
    CHECK(fa_plan_splitkv_auto(8, 0, 2048) == 1);
}

static void test_plan(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_plan pl;
    fa_shape s = {0};
    s.op = FA_OP_DECODE;
    s.batch = 1, s.heads_q = 32, s.heads_kv = 8, s.seqlen_q = 1, s.seqlen_k = 131072;
    s.head_dim = 128;
    s.multiprocessors = 132;

    /* auto: 8 CTAs of 4 packed rows, 2048 blocks of 64 -> 16 splits (no empty split: 128
     * blocks each). */
    fa_variant v = fa_test_parse("decode_splitkv_hd128_bf16_m16n64w4s3k0");
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.nlaunches == 2 && pl.launch[0].kernel == 0 && pl.launch[1].kernel == 1);
    const fa_launch *l = &pl.launch[0];
    CHECK_MSG(l->grid[0] == 8 && l->grid[1] == 16 && l->grid[2] == 1, "grid %u %u %u", l->grid[0],
              l->grid[1], l->grid[2]);
    CHECK(l->block[0] == 128 && l->block[1] == 1 && l->block[2] == 1);
    CHECK(l->cluster[0] <= 1 && l->cluster[1] <= 1 && l->cluster[2] <= 1);
    CHECK_MSG(l->smem == 16 * 128 * 2 + 3 * 64 * 128 * 4 + (2 * 4 + 2) * 16 * 4, "smem %u",
              l->smem);
    CHECK(fa_variant_smem_bytes(&v) == (int)l->smem && fa_variant_threads(&v) == 128);
    const fa_launch *c = &pl.launch[1];
    CHECK_MSG(c->grid[0] == 8 && c->block[0] == 128 && c->smem == 0, "combine %u x %u", c->grid[0],
              c->block[0]); /* 32 rows, 4 per block */
    /* the combine is a programmatic dependent of the split kernel, which itself is not */
    CHECK(c->pdl == 1 && l->pdl == 0);
    CHECK_MSG(pl.scratch_bytes == 4352 + 16ull * 32 * (128 + 1) * 4, "scratch %llu",
              (unsigned long long)pl.scratch_bytes);
    CHECK(pl.scratch_keep == 1 && FA_DECODE_SCRATCH_HEADER == 4352);
    /* Fused: the split kernel alone, the same grid and scratch (counters in the header). */
    fa_variant vf = fa_test_parse("decode_splitkv_hd128_bf16_m16n64w4s3k0f");
    fa_plan pf;
    CHECK_OK(fam->plan(&vf, &s, &pf, &err), &err);
    CHECK(pf.launch[0].pdl == 0);
    CHECK_MSG(pf.nlaunches == 1 && pf.launch[0].kernel == 0 && pf.launch[0].grid[0] == 8 &&
                  pf.launch[0].grid[1] == 16 && pf.scratch_bytes == pl.scratch_bytes &&
                  pf.scratch_keep == 1,
              "fused: %d launches, grid %u x %u", pf.nlaunches, pf.launch[0].grid[0],
              pf.launch[0].grid[1]);
    /* More CTAs per split than the header's counters: the combine kernel runs after all.
     * 128 sequences x 16 kv heads = 2048 CTAs, 2 splits. */
    vf = fa_test_parse("decode_splitkv_hd128_bf16_m16n64w4s3k2f");
    s.batch = 128, s.heads_q = 16, s.heads_kv = 16, s.seqlen_k = 4096;
    CHECK_OK(fam->plan(&vf, &s, &pf, &err), &err);
    CHECK(pf.nlaunches == 2 && pf.launch[0].grid[0] == 2048 && pf.launch[0].grid[1] == 2 &&
          pf.launch[1].kernel == 1);
    s.batch = 64, s.heads_kv = 8, s.heads_q = 32; /* 1024 CTAs: fused */
    CHECK_OK(fam->plan(&vf, &s, &pf, &err), &err);
    CHECK(pf.nlaunches == 1 && pf.launch[0].grid[0] == 512 && pf.launch[0].grid[1] == 2);
    s.batch = 1, s.seqlen_k = 131072;

    /* Batch 64 x 4k: 512 CTAs fill the device: one launch, no scratch. */
    s.batch = 64, s.seqlen_k = 4096;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.nlaunches == 1 && pl.scratch_bytes == 0 && pl.launch[0].grid[0] == 512 &&
          pl.launch[0].grid[1] == 1);

    /* GQA packing over M tiles: 64/8 heads x seqlen_q 4 = 32 rows -> 2 tiles of 16; explicit
     * 24 splits of 1000 keys (16 blocks of 64) clamp to 16; 4 of them -> 4. */
    v = fa_test_parse("decode_splitkv_hd128_bf16_causal_m16n64w4s3k24");
    s.batch = 3, s.heads_q = 64, s.heads_kv = 8, s.seqlen_q = 4, s.seqlen_k = 1000;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK_MSG(pl.launch[0].grid[0] == 2 * 3 * 8 && pl.launch[0].grid[1] == 16, "grid %u %u",
              pl.launch[0].grid[0], pl.launch[0].grid[1]);
    CHECK(pl.nlaunches == 2 && pl.launch[1].grid[0] == (3 * 64 * 4 + 3) / 4);
    CHECK(pl.scratch_bytes == 4352 + 16ull * 3 * 64 * 4 * 129 * 4);
    /* 12 splits of 16 blocks: ceil(16/12) = 2 blocks each, so 8 splits cover them all and
     * the plan runs 8 (no split of the longest cache is empty). */
    v = fa_test_parse("decode_splitkv_hd128_bf16_causal_m16n64w4s3k12");
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK_MSG(pl.launch[0].grid[1] == 8, "12 splits of 16 blocks -> %u", pl.launch[0].grid[1]);
    /* splits 1: one launch even for a long cache. */
    v = fa_test_parse("decode_splitkv_hd128_bf16_m16n64w4s3k1");
    s.seqlen_k = 131072, s.batch = 1;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.nlaunches == 1 && pl.scratch_bytes == 0 && pl.scratch_keep == 0);
    /* MQA: 32 query heads on one kv head, 32 rows in one m32 tile. */
    v = fa_test_parse("decode_splitkv_hd128_bf16_m32n64w4s3k8");
    s.heads_q = 32, s.heads_kv = 1, s.seqlen_q = 1, s.batch = 5;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.launch[0].grid[0] == 5 && pl.launch[0].grid[1] == 8);
    /* A cache of length 0 everywhere: one split. */
    s.seqlen_k = 0;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.nlaunches == 1 && pl.launch[0].grid[1] == 1);

    /* Refused: forward problems, other head dims, heads not a multiple. */
    s.seqlen_k = 100;
    s.op = FA_OP_FWD;
    CHECK(fam->plan(&v, &s, &pl, &err) == FA_INVALID);
    s.op = FA_OP_DECODE;
    s.head_dim = 64;
    CHECK(fam->plan(&v, &s, &pl, &err) == FA_INVALID);
    s.head_dim = 128, s.heads_kv = 3;
    CHECK(fam->plan(&v, &s, &pl, &err) == FA_INVALID);
}

static void test_args(void)
{
    fa_variant v = fa_test_parse("decode_splitkv_hd128_fp16_m16n64w4s3k0");
    fa_fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = 0x7f0000000000ull, p.k = 0x7f1000000000ull, p.v = 0x7f2000000000ull;
    p.o = 0x7f3000000000ull, p.lse = 0x7f4000000000ull;
    p.batch = 3, p.heads_q = 8, p.heads_kv = 2, p.seqlen_q = 4, p.seqlen_k = 1000;
    p.head_dim = 128, p.seqused_k = 0x7f5000000000ull, p.block_table = 0x7f6000000000ull;
    p.block_table_stride = 63, p.page_size = 16;
    fa_args_in in = {&p, 0x7f7000000000ull, NULL};
    static _Alignas(64) unsigned char buf[FA_MAX_ARG_BYTES];
    for (int k = 0; k < 2; k++) {
        memset(buf, 0xee, sizeof buf);
        fa_err err;
        fa_err_clear(&err);
        CHECK_OK(fam->args(&v, k, &in, buf, &err), &err);
        CHECK(memcmp(buf, &p, sizeof p) == 0);
        uint64_t scratch;
        memcpy(&scratch, buf + sizeof p, 8);
        uint32_t fused[2];
        memcpy(fused, buf + sizeof p + 8, 8);
        CHECK(scratch == 0x7f7000000000ull && sizeof p + 16 == FA_DECODE_ARGS_BYTES);
        CHECK(fused[0] == 0 && fused[1] == 0);
        CHECK(buf[FA_DECODE_ARGS_BYTES] == 0xee); /* nothing written past the struct */
    }
    /* The fused flag: set for a fused variant, unless its CTAs outnumber the counters
     * (3 x 2 CTAs here; 1025 x 1 then). */
    static const struct {
        const char *name;
        int batch;
        uint32_t fused;
    } fc[] = {{"decode_splitkv_hd128_fp16_m16n64w4s3k0f", 3, 1},
              {"decode_splitkv_hd128_fp16_m16n64w4s3k8f", 3, 1},
              {"decode_splitkv_hd128_fp16_m16n64w4s3k8", 3, 0},
              {"decode_splitkv_hd128_fp16_m16n64w4s3k8f", 512, 1},
              {"decode_splitkv_hd128_fp16_m16n64w4s3k8f", 513, 0}};
    for (size_t i = 0; i < sizeof fc / sizeof *fc; i++) {
        fa_fwd_params q = p;
        q.batch = fc[i].batch;
        v = fa_test_parse(fc[i].name);
        fa_err err;
        fa_err_clear(&err);
        in.base = &q;
        CHECK_OK(fam->args(&v, 0, &in, buf, &err), &err);
        in.base = &p;
        fa_decode_args a;
        memcpy(&a, buf, sizeof a);
        CHECK_MSG(a.fused == fc[i].fused && a.p.batch == fc[i].batch, "%s batch %d: fused %u",
                  fc[i].name, fc[i].batch, a.fused);
    }
}

static void test_compile(fa_compiler *c)
{
    static const struct {
        const char *name, *arch;
    } cases[] = {
        {"decode_splitkv_hd128_bf16_m16n64w4s3k0", "sm90"},
        {"decode_splitkv_hd128_bf16_causal_m32n128w8s3k0", "sm90"},
        {"decode_splitkv_hd64_fp16_m64n128w8s3k0", "sm80"},
        {"decode_splitkv_hd256_bf16_m16n64w4s2k0", "sm90"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases && c; i++) {
        fa_variant v = fa_test_parse(cases[i].name);
        fa_compile_output out = {0};
        fa_err err;
        fa_err_clear(&err);
        CHECK_OK(fa_compile_variant(c, &v, fa_arch_find(cases[i].arch), &out, &err), &err);
        CHECK_MSG(out.status == FA_OK, "%s: %s", cases[i].name, out.log ? out.log : "(no log)");
        if (out.status != FA_OK) {
            fa_compile_output_release(&out);
            continue;
        }
        CHECK(out.cubin && out.cubin_size > 64 && memcmp(out.cubin, "\177ELF", 4) == 0);
        /* Both kernels, in the family's order, each taking fa_decode_args. */
        const char *nl = strchr(out.lowered_name, '\n');
        CHECK_MSG(nl && strncmp(out.lowered_name, "_Z17fa_decode_splitkv", 21) == 0 &&
                      strncmp(nl + 1, "_Z17fa_decode_combine", 21) == 0 &&
                      strstr(nl + 1, "14fa_decode_args") &&
                      strstr(out.lowered_name, "14fa_decode_args"),
                  "lowered names '%s'", out.lowered_name);
        CHECK_MSG(out.build.spill_stores == 0 && out.build.spill_loads == 0 &&
                      out.build.stack_bytes == 0,
                  "%s: spills %d/%d stack %d", cases[i].name, out.build.spill_stores,
                  out.build.spill_loads, out.build.stack_bytes);
        fprintf(stderr, "%s (%s): %zu-byte cubin, %d registers, %.0f ms\n", cases[i].name,
                cases[i].arch, out.cubin_size, out.build.registers, out.build.compile_ms);
        fa_compile_output_release(&out);
    }
}

/* Eight two-kernel variants in one compile batch: sixteen symbols are more than one batch
 * entry's lowered names hold, so the batch splits (the H200 tune of 2026-12-03 failed with
 * "lowered names ... are longer than 1023 bytes" before) and each variant keeps its two. */
static void test_batch(void)
{
    static const char *names[] = {
        "decode_splitkv_hd128_bf16_m16n64w4s3k0",  "decode_splitkv_hd128_bf16_m16n64w4s2k0",
        "decode_splitkv_hd128_bf16_m16n128w4s3k0", "decode_splitkv_hd128_bf16_m16n64w2s3k0",
        "decode_splitkv_hd128_bf16_m32n64w4s3k0",  "decode_splitkv_hd128_bf16_m16n64w4s4k0",
        "decode_splitkv_hd128_bf16_m32n128w4s3k0", "decode_splitkv_hd128_bf16_m16n128w4s2k0"};
    enum { N = sizeof names / sizeof *names };
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.no_cache = 1;
    opts.batch = N;
    fa_err err;
    fa_err_clear(&err);
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return;
    fa_variant vs[N];
    fa_compile_output outs[N];
    for (int i = 0; i < N; i++)
        vs[i] = fa_test_parse(names[i]);
    CHECK_OK(fa_compile_variants(c, vs, N, fa_arch_find("sm90"), outs, &err), &err);
    for (int i = 0; i < N; i++) {
        const char *nl = strchr(outs[i].lowered_name, '\n');
        CHECK_MSG(outs[i].status == FA_OK && nl &&
                      strncmp(outs[i].lowered_name, "_Z17fa_decode_splitkv", 21) == 0 &&
                      strncmp(nl + 1, "_Z17fa_decode_combine", 21) == 0 && !strchr(nl + 1, '\n'),
                  "%s in a batch: lowered names '%s'", names[i], outs[i].lowered_name);
        fa_compile_output_release(&outs[i]);
    }
    fa_compiler_free(c);
}

static void test_prior(void)
{
    fa_space_filter f;
    fa_space_filter_default(&f);
    f.family = fam;
    f.op = FA_OP_DECODE;
    f.causal = FA_SPACE_OFF;
    fa_variant *vs = NULL;
    int n = 0;
    fa_err err;
    fa_err_clear(&err);
    CHECK_OK(fa_space_enumerate(fa_arch_find("sm90"), 128, &f, &vs, &n, &err), &err);
    int best = -1, legal_n = 0;
    for (int k = 0; k < n; k++) {
        if (fa_variant_check(&vs[k], fa_arch_find("sm90"), NULL) != FA_OK)
            continue;
        legal_n++;
        if (best < 0 || fam->prior(&vs[k]) < fam->prior(&vs[best]))
            best = k;
    }
    char name[FA_VARIANT_NAME_MAX] = "";
    if (best >= 0)
        fa_variant_name(&vs[best], name, sizeof name);
    CHECK_MSG(n == 2808 && !strcmp(name, "decode_splitkv_hd128_bf16_m16n64w4s3k0"),
              "%d variants, %d legal, first %s", n, legal_n, name);
    fprintf(stderr, "hd128: %d of %d legal, first %s\n", legal_n, n, name);
    free(vs);
}

/* Every block of [0, nb) read by exactly one split, for every length and split count, in both
 * orders; the shapes of each (one run / stride S from s); the order chosen by the strides. */
static void test_split_blocks(void)
{
    static unsigned char seen[600];
    for (int cyclic = 0; cyclic <= 1; cyclic++)
        for (int nb = 0; nb <= 520; nb += nb < 70 ? 1 : 37)
            for (int ns = 1; ns <= 70; ns++) {
                memset(seen, 0, sizeof seen);
                const int per = (nb + ns - 1) / ns;
                int total = 0, bad = 0;
                for (int s = 0; s < ns; s++) {
                    fa_splitkv_blocks b = fa_plan_splitkv_blocks(nb, s, ns, cyclic);
                    bad += b.count < 0 || b.first < 0 || b.first > nb;
                    bad += cyclic ? b.step != ns || (b.count > 0 && b.first != s)
                                  : b.step != 1 || b.count > per ||
                                        (b.count > 0 && b.first != s * per);
                    for (int i = 0; i < b.count && !bad; i++) {
                        const int blk = b.first + i * b.step;
                        bad += blk < 0 || blk >= nb || seen[blk]++;
                    }
                    total += b.count > 0 ? b.count : 0;
                }
                CHECK_MSG(!bad && total == nb, "%s nb %d splits %d: %d blocks read, %d faults",
                          cyclic ? "cyclic" : "ranges", nb, ns, total, bad);
                if (bad || total != nb)
                    return;
            }
    /* cyclic: 10 blocks over 4 splits are {0,4,8} {1,5,9} {2,6} {3,7}; ranges {0,1,2} ...
     * {9}; a split past the blocks reads none */
    fa_splitkv_blocks b = fa_plan_splitkv_blocks(10, 2, 4, 1);
    CHECK(b.first == 2 && b.step == 4 && b.count == 2);
    b = fa_plan_splitkv_blocks(10, 3, 4, 0);
    CHECK(b.first == 9 && b.step == 1 && b.count == 1);
    b = fa_plan_splitkv_blocks(1, 5, 8, 1);
    CHECK(b.count == 0);
    b = fa_plan_splitkv_blocks(0, 0, 1, 0);
    CHECK(b.count == 0);
    /* bhsd (row stride = head dim) and one KV head are cyclic; bshd with 8 KV heads is not,
     * nor a K/V pair whose strides differ */
    CHECK(fa_plan_splitkv_cyclic(128, 128, 128));
    CHECK(!fa_plan_splitkv_cyclic(8 * 128, 8 * 128, 128));
    CHECK(!fa_plan_splitkv_cyclic(128, 8 * 128, 128));
    CHECK(fa_plan_splitkv_cyclic(64, 64, 64) && !fa_plan_splitkv_cyclic(128, 128, 64));
}

int main(void)
{
    fam = fa_family_find("splitkv");
    CHECK(fam != NULL);
    if (!fam)
        return fa_test_done("test_splitkv_family");
    unsetenv("FA_TUNE_TEMPLATES");
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.no_cache = 1;
    fa_err err;
    fa_err_clear(&err);
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    test_names();
    test_legality(c);
    test_auto_splits();
    test_plan();
    test_args();
    test_compile(c);
    test_batch();
    test_prior();
    test_split_blocks();
    fa_compiler_free(c);
    return fa_test_done("test_splitkv_family");
}
