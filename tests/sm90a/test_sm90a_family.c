/*
 * This file implements the CPU test of the sm90a family's host description
 * (tuner/families/fa_family_sm90a.c) through the seam (fa_family.h, fa_variant.h):
 *   - registry and archs: found by name; compiles for sm_90a under --arch sm90 and sm90a, not
 *     on sm80; the space of one mode is the 3168 axis combinations;
 *   - names: parse -> name round trip, the suffix's parameters, the NVRTC name expression;
 *     flags out of order or unknown are not names;
 *   - legality: the template's static_assert model at its boundaries (registers: 128 with 3
 *     consumer warpgroups, 216 with 2; shared memory 224 KB, counted over head dims 32 and 96
 *     padded to 64 and 128 columns), head dims (32, 96 and varlen legal; 80 not), not on sm80;
 *     and the template agrees: the first illegal neighbours of legal configurations fail
 *     NVRTC's static_asserts (they compile in well under a second);
 *   - the launch plan: 1-d grid of tiles, persistent capped at the multiprocessors, threads,
 *     dynamic shared memory with and without the staged O tile (padded at hd96), no cluster,
 *     varlen planned over the maximum lengths, mismatched shapes refused;
 *   - kernel arguments: fa_fwd_params at 0, zero padding, the three tensor maps the service
 *     encoded at 256/384/512 from descriptors with bench/sm90a_check.cu's parameters; packed
 *     QKV strides (row stride (hq + 2 hkv) D, K and V inside Q's rows) and hd96 (dim 0 = 96,
 *     64-column boxes) passed through; varlen's ragged maps (dims {D, L, H, 0x7fff0000},
 *     strides {row, head, row}, base L rows before the tensor, L = the maximum length) over
 *     packed QKV; varlen without cu_seqlens FA_INVALID; without an encoder, FA_UNSUPPORTED;
 *   - the prior: the measured winners come first;
 *   - two blocks a multiprocessor ("x2", the _x2 kernels): names, name expressions, legal
 *     within 113 KB, not persistent, with 2 consumer warpgroups (72 accumulators, BLOCK_N 96)
 *     or 1 (BLOCK_M 64: only x2, no pingpong, head dims up to 128), and the template's
 *     static_asserts say the same;
 *   - PackGQA ("pg", the kernel fa_fwd_sm90a_pack_gqa): names and name expression, legal only
 *     with 2 stages and without pingpong; the plan's grid is ceil(seqlen_q / (BLOCK_M / g))
 *     x heads_kv x batch (g = 3, 4, 5, 8, 32 and MQA; persistent capped), g > BLOCK_M is
 *     FA_INVALID in plan and args; the Q map is 5-d {D, g, rows, heads_kv, batch} with box
 *     {64, g, BLOCK_M / g, 1, 1} (BSHD, BHSD, varlen's ragged form), K and V maps unchanged;
 *     and, through the kernel's own row mapping (fa_plan_sm90a_pack_token/_head), every box
 *     element the map loads for tile row t * g + j is that row's Q element, every (batch,
 *     token, head) is stored by exactly one row of the plan's tiles, and no row is stored twice;
 *   - the tile order: a permutation of the tiles, causal row blocks longest first within each
 *     group of pairs, and the L2-sized causal groups (one for persistent and non-causal).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_compile.h"
#include "fa_family.h"
#include "fa_space.h"
#include "sm90a/fa_plan_sm90a.h"
#include "test_util.h"
#include "test_variant_names.h"

static const fa_family *fam;

/* ---- a recording tensor-map encoder ------------------------------------------------------ */
static fa_tma_desc seen[4];
static int nseen;

static fa_status fake_encode(void *ctx, const fa_tma_desc *d, void *map, fa_err *err)
{
    (void)err;
    CHECK(ctx == (void *)&nseen);
    CHECK_MSG(((uintptr_t)map & 63) == 0, "map %p not 64-byte aligned", map);
    seen[nseen % 4] = *d;
    memset(map, 0xa0 + nseen, FA_TENSOR_MAP_BYTES);
    nseen++;
    return FA_OK;
}

static void expect_desc(const fa_tma_desc *d, fa_dtype dt, uint64_t base, int hd, int rows,
                        int heads, int batch, int64_t rs, int64_t hs, int64_t bs, int box)
{
    CHECK(d->dtype == dt && d->rank == 4 && d->base == base);
    CHECK(d->dims[0] == (uint64_t)hd && d->dims[1] == (uint64_t)rows &&
          d->dims[2] == (uint64_t)heads && d->dims[3] == (uint64_t)batch);
    CHECK(d->strides[0] == (uint64_t)rs * 2 && d->strides[1] == (uint64_t)hs * 2 &&
          d->strides[2] == (uint64_t)bs * 2);
    CHECK_MSG(d->box[0] == 64 && d->box[1] == (uint32_t)box && d->box[2] == 1 && d->box[3] == 1,
              "box %u %u %u %u", d->box[0], d->box[1], d->box[2], d->box[3]);
    CHECK(d->swizzle == 128 && d->l2_promotion == 256 && d->oob_fill_nan == 0);
}

static void test_names(void)
{
    const fa_arch *sm90 = fa_arch_find("sm90"), *sm90a = fa_arch_find("sm90a"),
                  *sm80 = fa_arch_find("sm80");
    CHECK(fam && fa_family_serves(fam, FA_OP_FWD) && !fa_family_serves(fam, FA_OP_DECODE));
    const char *a = fa_family_nvrtc_arch(fam, sm90), *b = fa_family_nvrtc_arch(fam, sm90a);
    CHECK_MSG(a && !strcmp(a, "sm_90a") && b && !strcmp(b, "sm_90a"), "%s %s", a ? a : "-",
              b ? b : "-");
    CHECK(fa_family_nvrtc_arch(fam, sm80) == NULL);
    CHECK(!strcmp(fam->template_file, "sm90a/fa_fwd_sm90a.cuh"));
    CHECK(fa_space_tiles_per_mode(fam) == 3168);

    const char *name = "fwd_sm90a_hd256_bf16_causal_m128n80s2ovpe";
    fa_variant v = fa_test_parse(name);
    CHECK(v.family == fam && v.op == FA_OP_FWD && v.head_dim == 256 && v.causal && !v.varlen &&
          v.dtype == FA_DTYPE_BF16);
    CHECK(fa_variant_param(&v, "block_m") == 128 && fa_variant_param(&v, "block_n") == 80 &&
          fa_variant_param(&v, "stages") == 2 && fa_variant_param(&v, "overlap") == 1 &&
          fa_variant_param(&v, "pingpong") == 0 && fa_variant_param(&v, "persistent") == 1);
    char buf[FA_VARIANT_NAME_MAX];
    fa_variant_name(&v, buf, sizeof buf);
    CHECK(!strcmp(buf, name));
    char expr[256];
    fa_variant_name_expr(&v, expr, sizeof expr);
    CHECK_MSG(
        !strcmp(expr, "fa_fwd_sm90a<__nv_bfloat16, 256, 80, 2, 2, true, true, false, true, false>"),
        "%s", expr);
    v = fa_test_parse("fwd_sm90a_hd64_fp16_m192n192s4pp");
    fa_variant_name_expr(&v, expr, sizeof expr);
    CHECK_MSG(
        !strcmp(expr, "fa_fwd_sm90a<__half, 64, 192, 3, 4, false, false, true, false, false>"),
        "%s", expr);
    v = fa_test_parse("fwd_sm90a_hd96_bf16_causal_varlen_m128n128s2ovpe");
    CHECK(v.varlen && v.causal && v.head_dim == 96);
    fa_variant_name_expr(&v, expr, sizeof expr);
    CHECK_MSG(
        !strcmp(expr, "fa_fwd_sm90a<__nv_bfloat16, 96, 128, 2, 2, true, true, false, true, true>"),
        "%s", expr);

    /* PackGQA: its own kernel, the same template arguments. */
    name = "fwd_sm90a_hd128_fp16_causal_varlen_m192n128s2pepg";
    v = fa_test_parse(name);
    CHECK(fa_variant_param(&v, "pack_gqa") == 1 && fa_variant_param(&v, "persistent") == 1 &&
          fa_variant_param(&v, "overlap") == 0 && v.varlen && v.causal);
    fa_variant_name(&v, buf, sizeof buf);
    CHECK(!strcmp(buf, name));
    fa_variant_name_expr(&v, expr, sizeof expr);
    CHECK_MSG(!strcmp(expr, "fa_fwd_sm90a_pack_gqa<__half, 128, 128, 3, 2, true, false, false, "
                            "true, true>"),
              "%s", expr);
    v = fa_test_parse("fwd_sm90a_hd128_fp16_m192n128s2pe");
    CHECK(fa_variant_param(&v, "pack_gqa") == 0 && fa_variant_param(&v, "ctas") == 1);

    /* Two blocks a multiprocessor: "x2" last, the _x2 kernels, the same template arguments. */
    static const struct {
        const char *name, *expr;
    } x2[] = {
        {"fwd_sm90a_hd64_bf16_causal_m128n64s2x2",
         "fa_fwd_sm90a_x2<__nv_bfloat16, 64, 64, 2, 2, true, false, false, false, false>"},
        {"fwd_sm90a_hd64_fp16_varlen_m128n80s2pgx2",
         "fa_fwd_sm90a_pack_gqa_x2<__half, 64, 80, 2, 2, false, false, false, false, true>"},
        {"fwd_sm90a_hd128_bf16_causal_m64n80s2ovx2",
         "fa_fwd_sm90a_x2<__nv_bfloat16, 128, 80, 1, 2, true, true, false, false, false>"},
    };
    for (size_t i = 0; i < sizeof x2 / sizeof *x2; i++) {
        v = fa_test_parse(x2[i].name);
        CHECK(fa_variant_param(&v, "ctas") == 2);
        fa_variant_name(&v, buf, sizeof buf);
        CHECK_MSG(!strcmp(buf, x2[i].name), "%s -> %s", x2[i].name, buf);
        fa_variant_name_expr(&v, expr, sizeof expr);
        CHECK_MSG(!strcmp(expr, x2[i].expr), "%s", expr);
    }

    static const char *const not_names[] = {
        "fwd_sm90a_hd128_bf16_m192n128s2pgpe", "fwd_sm90a_hd128_bf16_m192n128s2pgpg",
        "fwd_sm90a_hd128_bf16_m192n128s2peov", "fwd_sm90a_hd128_bf16_m192n128s2x",
        "fwd_sm90a_hd128_bf16_m192n128",       "fwd_sm90a_hd128_bf16_m192n128s2ovov",
        "fwd_sm90a_hd128_bf16_m128n64w4s2",    "fwd_sm90a_hd128_bf16_m0192n128s2",
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
        "fwd_sm90a_hd128_bf16_m192n128s2",     /* 64 + 64 = 128 of 128 */
        "fwd_sm90a_hd64_bf16_m192n128s2ov",    /* 64 + 32 + 32 = 128 of 128 */
        "fwd_sm90a_hd256_bf16_m128n80s2ov",    /* 40 + 128 + 20 = 188 of 216 */
        "fwd_sm90a_hd128_bf16_m128n192s2ovpp", /* 208 of 216, shared memory 224 KB exactly */
        "fwd_sm90a_hd64_fp16_causal_m128n192s4ovpppe",
        "fwd_sm90a_hd192_fp16_m128n112s2ov",
        "fwd_sm90a_hd128_bf16_varlen_m192n128s2",
        "fwd_sm90a_hd256_fp16_causal_varlen_m128n80s2ovpe",
        "fwd_sm90a_hd32_fp16_m192n192s2", /* 96 + 16 of 128; BLOCK_N at 3 warpgroups' most */
        "fwd_sm90a_hd96_bf16_m128n192s2", /* padded: (128 + 4 * 192) * 128 * 2 = 224 KB */
        "fwd_sm90a_hd96_bf16_causal_varlen_m128n128s2ovpe", /* 64 + 48 + 32 of 216 */
        "fwd_sm90a_hd128_bf16_m192n128s2pepg",
        "fwd_sm90a_hd64_fp16_causal_varlen_m128n128s2ovpg",
        /* two blocks a multiprocessor: at most 72 accumulators, BLOCK_N <= 96, 113 KB */
        "fwd_sm90a_hd64_bf16_causal_m128n80s4ppx2", /* 40 + 32 = 72; 99,584 bytes */
        "fwd_sm90a_hd32_fp16_m128n96s3x2",          /* 48 + 16 = 64 */
        "fwd_sm90a_hd32_bf16_causal_m128n64s2ovx2", /* 32 + 16 + 16 = 64 */
        "fwd_sm90a_hd64_bf16_varlen_m128n64s2pgx2",
        "fwd_sm90a_hd128_bf16_causal_m64n80s2ovx2", /* one consumer warpgroup, 232 registers */
        "fwd_sm90a_hd64_bf16_m64n192s2ovx2",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        CHECK_MSG(fa_test_legal(ok[i], "sm90a", why, sizeof why), "%s: %s", ok[i], why);
        CHECK_MSG(fa_test_legal(ok[i], "sm90", why, sizeof why), "%s on sm90: %s", ok[i], why);
    }
    /* {name, what the reason says, the template's static_assert text (NULL: not a template
       instance the test compiles)} */
    static const struct {
        const char *name, *why, *assert_text;
    } bad[] = {
        {"fwd_sm90a_hd128_bf16_m192n144s2", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd128_bf16_m192n128s2ov", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd256_bf16_m128n128s2ov", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd256_bf16_m192n64s2", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd256_bf16_m128n96s3", "224 KB", "exceeds 224 KB"},
        {"fwd_sm90a_hd64_bf16_m128n224s4", "224 KB", "exceeds 224 KB"},
        /* 96 columns would fit (180 KB); the 128 columns the slabs occupy do not */
        {"fwd_sm90a_hd96_bf16_m128n208s2", "224 KB", "exceeds 224 KB"},
        /* PackGQA's subspace: 2 stages, no pingpong (a family rule, not the template's) */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpppg", "without pingpong", NULL},
        {"fwd_sm90a_hd64_bf16_m128n128s3pg", "2 stages", NULL},
        /* two blocks a multiprocessor: 80 accumulators spill (ptxas), a wider S stops ptxas,
           persistent and 3 consumer warpgroups are not in the design, 113 KB each */
        {"fwd_sm90a_hd64_bf16_m128n64s2ovx2", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd64_bf16_m128n96s2x2", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd96_bf16_m128n64s2x2", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd128_bf16_m128n64s2x2", "registers", "accumulators exceed"},
        {"fwd_sm90a_hd32_bf16_m128n112s2x2", "BLOCK_N at most 96", "BLOCK_N <= 96"},
        {"fwd_sm90a_hd64_bf16_m128n64s2pex2", "not persistent", "one tile each"},
        {"fwd_sm90a_hd32_bf16_m192n64s2x2", "1 or 2 consumer warpgroups", "only with 1 or 2"},
        /* 3 consumer warpgroups: hd32's S + O pass the budget at BLOCK_N 208 and 224, but ptxas
           stops at their QK^T wgmma (C7602 at 128 registers) */
        {"fwd_sm90a_hd32_bf16_m192n208s2", "BLOCK_N at most 192", "BLOCK_N at most 192"},
        {"fwd_sm90a_hd32_bf16_m192n224s2pe", "BLOCK_N at most 192", "BLOCK_N at most 192"},
        /* BLOCK_M 64: one consumer warpgroup, only two a multiprocessor, no pingpong, head dims
           up to 128 (hd256's PV wgmma stops ptxas at 128 registers, C7602) */
        {"fwd_sm90a_hd128_bf16_m64n64s2", "BLOCK_M 64", "1 only with two blocks"},
        {"fwd_sm90a_hd128_bf16_m64n64s2ppx2", "without pingpong", "1 only with two blocks"},
        {"fwd_sm90a_hd256_bf16_m64n64s2x2", "head dims up to 128", "1 only with two blocks"},
        {"fwd_sm90a_hd128_bf16_m64n96s2x2", "113 KB", "at most 113 KB"},
        {"fwd_sm90a_hd32_bf16_m128n96s4x2", "113 KB", "at most 113 KB"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(!fa_test_legal(bad[i].name, "sm90a", why, sizeof why) && strstr(why, bad[i].why),
                  "%s: '%s', want '%s'", bad[i].name, why, bad[i].why);
        if (!bad[i].assert_text || !c)
            continue;
        /* The template says the same: NVRTC stops at its static_assert. */
        fa_variant v = fa_test_parse(bad[i].name);
        char expr[256];
        fa_variant_name_expr(&v, expr, sizeof expr);
        fa_compile_output out = {0};
        fa_err err;
        fa_err_clear(&err);
        CHECK_OK(fa_compile_source(c, "#include \"sm90a/fa_fwd_sm90a.cuh\"\n", expr, "sm_90a", NULL,
                                   0, &out, &err),
                 &err);
        CHECK_MSG(out.status == FA_COMPILE_ERROR && out.log && strstr(out.log, bad[i].assert_text),
                  "%s: the template does not refuse it (%s)", bad[i].name,
                  fa_status_str(out.status));
        fa_compile_output_release(&out);
    }
    CHECK_MSG(!fa_test_legal("fwd_sm90a_hd128_bf16_m192n128s2", "sm80", why, sizeof why),
              "legal on sm80");
    /* Names only carry the registry's head dims; the family refuses others by itself. */
    fa_variant v = fa_test_parse("fwd_sm90a_hd64_bf16_m128n64s2");
    v.head_dim = 80;
    fa_err err;
    fa_err_clear(&err);
    CHECK_MSG(fam->check(&v, NULL, &err) == FA_UNSUPPORTED && strstr(err.msg, "head dim 80"), "%s",
              err.msg);
}

static void test_plan(void)
{
    fa_err err;
    fa_plan pl;
    fa_shape s = {0};
    s.op = FA_OP_FWD;
    s.batch = 2, s.heads_q = 8, s.heads_kv = 2, s.seqlen_q = 1000, s.seqlen_k = 4097;
    s.head_dim = 128;
    s.multiprocessors = 132;
    fa_variant v = fa_test_parse("fwd_sm90a_hd128_bf16_m192n128s2");
    fa_err_clear(&err);
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.nlaunches == 1 && pl.scratch_bytes == 0 && pl.launch[0].kernel == 0);
    const fa_launch *l = &pl.launch[0];
    CHECK_MSG(l->grid[0] == 6 * 8 * 2 && l->grid[1] == 1 && l->grid[2] == 1, "grid %u %u %u",
              l->grid[0], l->grid[1], l->grid[2]);
    CHECK(l->block[0] == 512 && l->block[1] == 1 && l->block[2] == 1);
    CHECK(l->cluster[0] <= 1 && l->cluster[1] <= 1 && l->cluster[2] <= 1);
    CHECK_MSG(l->smem == 1024 + (192 * 128 + 2 * 2 * 128 * 128) * 2 + 256, "smem %u", l->smem);
    CHECK(fa_variant_threads(&v) == 512 && fa_variant_smem_bytes(&v) == (int)l->smem);

    /* Persistent: the grid is capped at the multiprocessors; O staged (2 tiles) when it fits. */
    v = fa_test_parse("fwd_sm90a_hd128_bf16_m192n128s2pe");
    s.seqlen_q = 16384;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK_MSG(pl.launch[0].grid[0] == 132, "persistent grid %u", pl.launch[0].grid[0]);
    CHECK(pl.launch[0].smem == 1024 + (2 * 192 * 128 + 2 * 2 * 128 * 128) * 2 + 256);
    s.seqlen_q = 100; /* fewer tiles than multiprocessors: one block per tile */
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.launch[0].grid[0] == 1 * 8 * 2);
    /* hd256 128x80 persistent: Q + ring + O do not fit 224 KB, so O is stored directly. */
    v = fa_test_parse("fwd_sm90a_hd256_bf16_m128n80s2ovpe");
    s.head_dim = 256;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.launch[0].block[0] == 384);
    CHECK(pl.launch[0].smem == 1024 + (128 * 256 + 2 * 2 * 80 * 256) * 2 + 256);
    /* hd256 128x64 persistent: no room for an O tile either, but for a 2 KB slice per
     * consumer warp (8), through which O is staged a warp at a time. */
    v = fa_test_parse("fwd_sm90a_hd256_bf16_m128n64s2pe");
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK_MSG(pl.launch[0].smem == 1024 + (128 * 256 + 2 * 2 * 64 * 256) * 2 + 8 * 2048 + 256,
              "slices: %u bytes", pl.launch[0].smem);
    /* not persistent: O goes through the Q tile, no staging bytes */
    v = fa_test_parse("fwd_sm90a_hd256_bf16_m128n64s2");
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.launch[0].smem == 1024 + (128 * 256 + 2 * 2 * 64 * 256) * 2 + 256);

    s.head_dim = 128; /* not the variant's */
    CHECK(fam->plan(&v, &s, &pl, &err) == FA_INVALID);

    /* Varlen: the same grid over the maximum lengths (tiles past a sequence's end exit). */
    v = fa_test_parse("fwd_sm90a_hd128_bf16_varlen_m192n128s2");
    s.seqlen_q = 1000;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK_MSG(pl.launch[0].grid[0] == 6 * 8 * 2, "varlen grid %u", pl.launch[0].grid[0]);
    CHECK(pl.launch[0].smem == 1024 + (192 * 128 + 2 * 2 * 128 * 128) * 2 + 256);
    /* hd96 is stored as 128 columns: shared memory of the padded tiles. */
    v = fa_test_parse("fwd_sm90a_hd96_bf16_m128n192s2pe");
    s.head_dim = 96;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK_MSG(pl.launch[0].smem == 1024 + (128 + 2 * 2 * 192) * 128 * 2 + 256, "hd96 smem %u",
              pl.launch[0].smem);
}

static void test_args(void)
{
    fa_variant v = fa_test_parse("fwd_sm90a_hd128_fp16_causal_m192n96s2pe");
    fa_fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = 0x7f0000000000ull, p.k = 0x7f1000000000ull, p.v = 0x7f2000000000ull;
    p.o = 0x7f3000000000ull, p.lse = 0x7f4000000000ull;
    p.batch = 3, p.heads_q = 8, p.heads_kv = 2, p.seqlen_q = 1000, p.seqlen_k = 17;
    p.head_dim = 128;
    p.q_row_stride = 8 * 128, p.q_head_stride = 128, p.q_batch_stride = 1000 * 8 * 128;
    p.k_row_stride = 128, p.k_head_stride = 17 * 128, p.k_batch_stride = 2 * 17 * 128; /* BHSD */
    p.v_row_stride = 2 * 128, p.v_head_stride = 128, p.v_batch_stride = 17 * 2 * 128;
    p.softmax_scale = 0.088f;
    fa_arg_services svc = {(void *)&nseen, fake_encode};
    fa_args_in in = {&p, 0, &svc};
    CHECK(fam->nkernels == 1 && fam->kernels[0].param_bytes == FA_SM90A_ARGS_BYTES &&
          FA_SM90A_ARGS_BYTES == 640);
    static _Alignas(64) unsigned char buf[FA_MAX_ARG_BYTES];
    memset(buf, 0xee, sizeof buf);
    fa_err err;
    fa_err_clear(&err);
    nseen = 0;
    CHECK_OK(fam->args(&v, 0, &in, buf, &err), &err);
    CHECK(nseen == 3);
    CHECK(memcmp(buf, &p, sizeof p) == 0);
    for (size_t i = sizeof p; i < 256; i++)
        CHECK_MSG(buf[i] == 0, "padding byte %zu is %#x", i, buf[i]);
    for (int m = 0; m < 3; m++)
        CHECK_MSG(buf[256 + 128 * m] == 0xa0 + m && buf[256 + 128 * m + 127] == 0xa0 + m,
                  "map %d not at %d", m, 256 + 128 * m);
    expect_desc(&seen[0], FA_DTYPE_FP16, p.q, 128, 1000, 8, 3, 8 * 128, 128, 1000 * 8 * 128, 192);
    expect_desc(&seen[1], FA_DTYPE_FP16, p.k, 128, 17, 2, 3, 128, 17 * 128, 2 * 17 * 128, 96);
    expect_desc(&seen[2], FA_DTYPE_FP16, p.v, 128, 17, 2, 3, 2 * 128, 128, 17 * 2 * 128, 96);

    fa_arg_services none = {NULL, NULL};
    in.svc = &none;
    CHECK(fam->args(&v, 0, &in, buf, &err) == FA_UNSUPPORTED);
    in.svc = NULL;
    CHECK(fam->args(&v, 0, &in, buf, &err) == FA_UNSUPPORTED);
}

/* Packed QKV (FlashAttention's qkvpacked with GQA: one (rows, hq + 2 hkv, D) buffer), fixed
   length at hd96 and varlen at hd128: the descriptors the kernel's coordinates rely on. */
static void test_args_packed(void)
{
    const int64_t D = 96, hq = 8, hkv = 2, rs = (hq + 2 * hkv) * D;
    const uint64_t qkv = 0x7f0000000000ull;
    fa_fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = qkv, p.k = qkv + hq * D * 2, p.v = qkv + (hq + hkv) * D * 2;
    p.o = 0x7f3000000000ull, p.lse = 0x7f4000000000ull;
    p.batch = 2, p.heads_q = hq, p.heads_kv = hkv, p.seqlen_q = p.seqlen_k = 333;
    p.head_dim = (int)D;
    p.q_row_stride = p.k_row_stride = p.v_row_stride = rs;
    p.q_head_stride = p.k_head_stride = p.v_head_stride = D;
    p.q_batch_stride = p.k_batch_stride = p.v_batch_stride = 333 * rs;
    fa_arg_services svc = {(void *)&nseen, fake_encode};
    fa_args_in in = {&p, 0, &svc};
    static _Alignas(64) unsigned char buf[FA_MAX_ARG_BYTES];
    fa_err err;
    fa_err_clear(&err);
    fa_variant v = fa_test_parse("fwd_sm90a_hd96_bf16_m128n112s2ov");
    nseen = 0;
    CHECK_OK(fam->args(&v, 0, &in, buf, &err), &err);
    CHECK(nseen == 3);
    expect_desc(&seen[0], FA_DTYPE_BF16, p.q, 96, 333, 8, 2, rs, D, 333 * rs, 128);
    expect_desc(&seen[1], FA_DTYPE_BF16, p.k, 96, 333, 2, 2, rs, D, 333 * rs, 112);
    expect_desc(&seen[2], FA_DTYPE_BF16, p.v, 96, 333, 2, 2, rs, D, 333 * rs, 112);
    for (int i = 0; i < 3; i++)
        CHECK_MSG(seen[i].strides[0] % 16 == 0 && seen[i].base % 16 == 0,
                  "map %d: stride %llu base %#llx", i, (unsigned long long)seen[i].strides[0],
                  (unsigned long long)seen[i].base);

    /* Varlen over the same packed buffer at hd128: the ragged maps. Maximum lengths 1000 (q)
       and 17 (k); batch and batch strides are not used. */
    const int64_t D2 = 128, rs2 = (hq + 2 * hkv) * D2;
    p.k = qkv + hq * D2 * 2, p.v = qkv + (hq + hkv) * D2 * 2;
    p.head_dim = (int)D2;
    p.seqlen_q = 1000, p.seqlen_k = 17;
    p.q_row_stride = p.k_row_stride = p.v_row_stride = rs2;
    p.q_head_stride = p.k_head_stride = p.v_head_stride = D2;
    p.q_batch_stride = p.k_batch_stride = p.v_batch_stride = 0;
    v = fa_test_parse("fwd_sm90a_hd128_fp16_causal_varlen_m192n128s2pe");
    CHECK(fam->args(&v, 0, &in, buf, &err) == FA_INVALID); /* no cu_seqlens */
    p.cu_seqlens_q = 0x7f5000000000ull, p.cu_seqlens_k = 0x7f5000001000ull;
    nseen = 0;
    CHECK_OK(fam->args(&v, 0, &in, buf, &err), &err);
    CHECK(nseen == 3);
    CHECK(memcmp(buf, &p, sizeof p) == 0);
    const uint64_t R = FA_SM90A_RAGGED_ROWS;
    CHECK(R == 0x7fff0000u);
    expect_desc(&seen[0], FA_DTYPE_FP16, qkv - 1000 * rs2 * 2, 128, 1000, 8, (int)R, rs2, D2, rs2,
                192);
    expect_desc(&seen[1], FA_DTYPE_FP16, p.k - 17 * rs2 * 2, 128, 17, 2, (int)R, rs2, D2, rs2, 128);
    expect_desc(&seen[2], FA_DTYPE_FP16, p.v - 17 * rs2 * 2, 128, 17, 2, (int)R, rs2, D2, rs2, 128);
    /* Row r of the sequence [start, end) is coordinate (L - (end - start) + r, end): its
       address is the packed row start + r, whatever L is. */
    const int64_t start = 4000, end = 4017, r = 5, L = 1000;
    const uint64_t addr = seen[0].base + (uint64_t)(L - (end - start) + r) * seen[0].strides[0] +
                          (uint64_t)end * seen[0].strides[2];
    CHECK(addr == p.q + (uint64_t)(start + r) * rs2 * 2);
}

/* ---- PackGQA ----------------------------------------------------------------------------- */

static fa_shape pack_shape(int batch, int hq, int hkv, int sq, int hd)
{
    fa_shape s = {0};
    s.op = FA_OP_FWD;
    s.batch = batch, s.heads_q = hq, s.heads_kv = hkv, s.seqlen_q = sq, s.seqlen_k = 8191;
    s.head_dim = hd;
    s.multiprocessors = 132;
    return s;
}

static void test_pack_plan(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_plan pl;
    /* {variant, batch, hq, hkv, seqlen_q, grid}: ceil(seqlen_q / (BLOCK_M / g)) x hkv x batch */
    static const struct {
        const char *name;
        int batch, hq, hkv, sq;
        unsigned grid;
    } cases[] = {
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpg", 8, 32, 8, 64, 2 * 8 * 8},       /* 32 tokens */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpg", 8, 32, 8, 128, 4 * 8 * 8},      /* g 4 */
        {"fwd_sm90a_hd128_bf16_m192n128s2pg", 2, 8, 2, 1000, 21 * 2 * 2},       /* 48 tokens */
        {"fwd_sm90a_hd128_bf16_m192n128s2pg", 2, 64, 8, 7, 1 * 8 * 2},          /* g 8: 24 */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpg", 3, 40, 8, 1000, 40 * 8 * 3},    /* g 5: 25 */
        {"fwd_sm90a_hd128_bf16_m192n128s2pg", 1, 12, 4, 1000, 16 * 4 * 1},      /* g 3: 64 */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpg", 4, 32, 1, 7, 2 * 1 * 4},        /* MQA: 4 */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpg", 2, 8, 8, 1000, 8 * 8 * 2},      /* g 1: plain */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpepg", 8, 32, 8, 1000, 132},         /* persistent */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpepg", 8, 32, 8, 64, 128},           /* < SMs */
        {"fwd_sm90a_hd128_bf16_m128n128s2ovpe", 8, 32, 8, 64, 132},             /* unpacked */
        {"fwd_sm90a_hd128_bf16_varlen_m192n128s2pg", 5, 16, 2, 100, 5 * 2 * 5}, /* maxima */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fa_variant v = fa_test_parse(cases[i].name);
        fa_shape s = pack_shape(cases[i].batch, cases[i].hq, cases[i].hkv, cases[i].sq, 128);
        CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
        CHECK_MSG(pl.nlaunches == 1 && pl.launch[0].grid[0] == cases[i].grid &&
                      pl.launch[0].grid[1] == 1 && pl.launch[0].grid[2] == 1,
                  "%s b%d h%d/%d q%d: grid %u, want %u", cases[i].name, cases[i].batch, cases[i].hq,
                  cases[i].hkv, cases[i].sq, pl.launch[0].grid[0], cases[i].grid);
        /* Same threads and shared memory as the unpacked tile. */
        CHECK(pl.launch[0].block[0] == (unsigned)fa_variant_threads(&v) &&
              pl.launch[0].smem == (unsigned)fa_variant_smem_bytes(&v));
    }
    /* More query heads per KV head than tile rows: refused, by plan and by args. */
    fa_variant v = fa_test_parse("fwd_sm90a_hd128_bf16_m128n128s2ovpg");
    fa_shape s = pack_shape(1, 256, 1, 7, 128);
    fa_err_clear(&err);
    CHECK_MSG(fam->plan(&v, &s, &pl, &err) == FA_INVALID && strstr(err.msg, "pack_gqa") &&
                  strstr(err.msg, "256 query heads per kv head"),
              "%s", err.msg);
    s.heads_q = 128; /* 128 heads fit 128 rows: one token per tile */
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    CHECK(pl.launch[0].grid[0] == 7);
    fa_fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = 0x7f0000000000ull, p.k = 0x7f1000000000ull, p.v = 0x7f2000000000ull;
    p.batch = 1, p.heads_q = 256, p.heads_kv = 1, p.seqlen_q = 7, p.seqlen_k = 9, p.head_dim = 128;
    p.q_row_stride = 256 * 128, p.q_head_stride = 128, p.q_batch_stride = 7 * 256 * 128;
    p.k_row_stride = p.v_row_stride = 128, p.k_head_stride = p.v_head_stride = 128;
    p.k_batch_stride = p.v_batch_stride = 9 * 128;
    fa_arg_services svc = {(void *)&nseen, fake_encode};
    fa_args_in in = {&p, 0, &svc};
    static _Alignas(64) unsigned char buf[FA_MAX_ARG_BYTES];
    nseen = 0;
    fa_err_clear(&err);
    CHECK_MSG(fam->args(&v, 0, &in, buf, &err) == FA_INVALID && nseen == 0, "%s", err.msg);
}

/* The address of element (coordinates c, rank d->rank) of map d; 0 if out of bounds. */
static uint64_t map_addr(const fa_tma_desc *d, const int64_t *c)
{
    uint64_t a = d->base + (uint64_t)c[0] * 2;
    for (int i = 0; i < d->rank; i++) {
        if (c[i] < 0 || (uint64_t)c[i] >= d->dims[i])
            return 0;
        if (i > 0)
            a += (uint64_t)c[i] * d->strides[i - 1];
    }
    return a;
}

/*
 * One packed problem (BSHD, BHSD or varlen over sequences of the given lengths) through the
 * family: args' Q map, the plan's grid, and the kernel's row mapping. For every tile (m, kv
 * head, b) and row r of it: the Q element TMA puts in row r (box element (e, r % g, r / g) at
 * coordinates (e, 0, qy + m T, kvh, qz), the kernel's) is Q[b, token(r), head(r), e] where the
 * row is stored, out of bounds (zero) where its token is past the sequence; and stored rows
 * cover every (b, token, head) exactly once.
 */
static void pack_cover(const char *name, int layout, int hq, int hkv, int nseq, const int *lens)
{
    fa_variant v = fa_test_parse(name);
    const int bm = fa_variant_param(&v, "block_m"), d = v.head_dim, g = hq / hkv;
    const int varlen = layout == 2;
    int maxlen = 0, total = 0, starts[16];
    for (int b = 0; b < nseq; b++) {
        starts[b] = total;
        total += lens[b];
        maxlen = lens[b] > maxlen ? lens[b] : maxlen;
    }
    fa_fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = 0x100000000000ull, p.k = 0x200000000000ull, p.v = 0x300000000000ull;
    p.batch = nseq, p.heads_q = hq, p.heads_kv = hkv, p.seqlen_q = maxlen, p.seqlen_k = 4097;
    p.head_dim = d;
    if (layout == 1) { /* BHSD */
        p.q_row_stride = d, p.q_head_stride = (int64_t)maxlen * d;
        p.q_batch_stride = (int64_t)hq * maxlen * d;
    } else { /* BSHD, or varlen's packed (total, hq, d) */
        p.q_row_stride = (int64_t)hq * d, p.q_head_stride = d;
        p.q_batch_stride = varlen ? 0 : (int64_t)maxlen * hq * d;
    }
    p.k_row_stride = p.v_row_stride = (int64_t)hkv * d, p.k_head_stride = p.v_head_stride = d;
    p.k_batch_stride = p.v_batch_stride = varlen ? 0 : 4097LL * hkv * d;
    if (varlen)
        p.cu_seqlens_q = 0x7f5000000000ull, p.cu_seqlens_k = 0x7f5000001000ull;
    fa_arg_services svc = {(void *)&nseen, fake_encode};
    fa_args_in in = {&p, 0, &svc};
    static _Alignas(64) unsigned char buf[FA_MAX_ARG_BYTES];
    fa_err err;
    fa_err_clear(&err);
    nseen = 0;
    CHECK_OK(fam->args(&v, 0, &in, buf, &err), &err);
    const fa_tma_desc q = seen[0];
    const int T = bm / g; /* tokens per tile */
    CHECK_MSG(q.rank == 5 && q.box[0] == 64 && q.box[1] == (uint32_t)g && q.box[2] == (uint32_t)T &&
                  q.box[3] == 1 && q.box[4] == 1 && q.dims[1] == (uint64_t)g &&
                  q.dims[3] == (uint64_t)hkv,
              "%s: rank %d box %u %u %u", name, q.rank, q.box[0], q.box[1], q.box[2]);
    CHECK(seen[1].rank == 4 && seen[2].rank == 4 && seen[1].box[1] == seen[2].box[1]);
    fa_shape s = pack_shape(nseq, hq, hkv, maxlen, d);
    fa_plan pl;
    CHECK_OK(fam->plan(&v, &s, &pl, &err), &err);
    const int m_blocks = (maxlen + T - 1) / T;
    const int tiles = m_blocks * hkv * nseq;
    CHECK(pl.launch[0].grid[0] ==
          (unsigned)(fa_variant_param(&v, "persistent") && tiles > 132 ? 132 : tiles));

    unsigned char *hit = calloc((size_t)(total > 0 ? total : 1) * (size_t)hq, 1);
    int stored = 0, bad = 0;
    for (int b = 0; b < nseq; b++)
        for (int m = 0; m < m_blocks; m++)
            for (int kvh = 0; kvh < hkv; kvh++) {
                const int len = lens[b];
                if (varlen && m * T >= len)
                    continue; /* the kernel skips tiles past a sequence's end */
                /* the kernel's TMA coordinates of the tile's box (seq_of: qy, qz) */
                const int64_t qy = varlen ? FA_SM90A_RAGGED_L(maxlen) - len : 0;
                const int64_t qz = varlen ? starts[b] + len : b;
                for (int r = 0; r < bm; r++) {
                    const int tok = fa_plan_sm90a_pack_token(m, T, g, r);
                    const int h = fa_plan_sm90a_pack_head(kvh, g, r);
                    const int store = tok >= 0 && tok < len;
                    if (r < T * g)
                        for (int e = 0; e < d; e += d - 1) {
                            const int64_t c[5] = {e, r % g, qy + m * T + r / g, kvh, qz};
                            const uint64_t got = map_addr(&q, c);
                            const uint64_t want =
                                store ? p.q + 2 * (uint64_t)((varlen ? (int64_t)(starts[b] + tok) *
                                                                           p.q_row_stride
                                                                     : b * p.q_batch_stride +
                                                                           tok * p.q_row_stride) +
                                                             h * p.q_head_stride + e)
                                      : 0;
                            if (got != want && bad++ < 5)
                                fprintf(stderr,
                                        "%s: b %d m %d kvh %d row %d col %d: map %#llx, want "
                                        "%#llx\n",
                                        name, b, m, kvh, r, e, (unsigned long long)got,
                                        (unsigned long long)want);
                        }
                    else
                        CHECK(tok == -1);
                    if (store) {
                        const int64_t at = (int64_t)(starts[b] + tok) * hq + h;
                        if (hit[at]++ && bad++ < 5)
                            fprintf(stderr, "%s: b %d token %d head %d stored twice\n", name, b,
                                    tok, h);
                        stored++;
                    }
                }
            }
    CHECK_MSG(bad == 0 && stored == total * hq, "%s h%d/%d: %d mismatches, %d of %d rows stored",
              name, hq, hkv, bad, stored, total * hq);
    free(hit);
}

static void test_pack_cover(void)
{
    static const int sqs[] = {1, 7, 64, 128, 1000};
    static const struct {
        int hq, hkv;
    } heads[] = {{8, 2}, {32, 8}, {64, 8}, {32, 1}, {12, 4}, {40, 8}, {8, 8}};
    static const char *const names[] = {"fwd_sm90a_hd128_bf16_m128n128s2ovpg",
                                        "fwd_sm90a_hd64_fp16_causal_m192n128s2ovpepg",
                                        "fwd_sm90a_hd96_bf16_m128n128s2ovpg"};
    int n = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        for (size_t h = 0; h < sizeof heads / sizeof *heads; h++)
            for (size_t q = 0; q < sizeof sqs / sizeof *sqs; q++) {
                const int lens[2] = {sqs[q], sqs[q]};
                pack_cover(names[i], (int)(n++ % 2), heads[h].hq, heads[h].hkv, 2, lens);
            }
    /* Varlen: empty, 1-token and odd sequences in one packed tensor. */
    static const int lens[] = {0, 1, 77, 1000, 64, 7};
    for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
        pack_cover("fwd_sm90a_hd128_bf16_causal_varlen_m192n128s2pepg", 2, heads[h].hq,
                   heads[h].hkv, 6, lens);
        pack_cover("fwd_sm90a_hd256_fp16_varlen_m128n80s2ovpepg", 2, heads[h].hq, heads[h].hkv, 6,
                   lens);
    }
}

static void test_prior(void)
{
    /* Over the whole legal space of a mode, the first in prior order is the measured winner. */
    static const struct {
        int hd, causal;
        const char *want;
    } cases[] = {
        {128, 0, "fwd_sm90a_hd128_bf16_m192n128s2pe"},
        {128, 1, "fwd_sm90a_hd128_bf16_causal_m192n96s2pe"},
        {256, 0, "fwd_sm90a_hd256_bf16_m128n80s2ov"},
        {64, 0, "fwd_sm90a_hd64_bf16_m192n128s2ovpe"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fa_space_filter f;
        fa_space_filter_default(&f);
        f.family = fam;
        f.causal = cases[i].causal ? FA_SPACE_ON : FA_SPACE_OFF;
        fa_variant *vs = NULL;
        int n = 0;
        fa_err err;
        fa_err_clear(&err);
        CHECK_OK(fa_space_enumerate(fa_arch_find("sm90a"), cases[i].hd, &f, &vs, &n, &err), &err);
        int best = -1, legal_n = 0;
        for (int k = 0; k < n; k++) {
            if (fa_variant_check(&vs[k], fa_arch_find("sm90a"), NULL) != FA_OK)
                continue;
            legal_n++;
            if (best < 0 || fam->prior(&vs[k]) < fam->prior(&vs[best]))
                best = k;
        }
        char name[FA_VARIANT_NAME_MAX] = "";
        if (best >= 0)
            fa_variant_name(&vs[best], name, sizeof name);
        CHECK_MSG(n == 3168 && !strcmp(name, cases[i].want),
                  "hd%d causal %d: %d variants, %d "
                  "legal, first %s, want %s",
                  cases[i].hd, cases[i].causal, n, legal_n, name, cases[i].want);
        fprintf(stderr, "hd%d causal %d: %d of %d legal, first %s\n", cases[i].hd, cases[i].causal,
                legal_n, n, name);
        free(vs);
    }
    /* hd128 varlen: exhaustive's short-sequence winners (192x80 with overlap and pingpong, or
     * PackGQA for causal GQA) lie within the first quarter of the legal space in prior order:
     * what halving compiles first at the default --explore 0.25 (a stable sort by prior). They
     * were past it (session 5: 2-3.3% lost on 5 varlen problems). */
    static const char *vl_want[] = {"fwd_sm90a_hd128_bf16_varlen_m192n80s2ovpp",
                                    "fwd_sm90a_hd128_bf16_causal_varlen_m192n80s2ovpp",
                                    "fwd_sm90a_hd128_bf16_causal_varlen_m192n80s2ovpg",
                                    "fwd_sm90a_hd128_fp16_varlen_m192n80s3ovpp",
                                    /* the H100's causal varlen GQA-4 winner (session 28) */
                                    "fwd_sm90a_hd128_bf16_causal_varlen_m128n192s2ovpepg"};
    for (size_t i = 0; i < sizeof vl_want / sizeof *vl_want; i++) {
        fa_variant want;
        fa_err err;
        fa_err_clear(&err);
        CHECK_OK(fa_variant_parse(vl_want[i], &want, &err), &err);
        fa_space_filter f;
        fa_space_filter_default(&f);
        f.family = fam;
        f.dtypes = 1u << want.dtype;
        f.causal = want.causal ? FA_SPACE_ON : FA_SPACE_OFF;
        f.varlen = FA_SPACE_ON;
        fa_variant *vs = NULL;
        int n = 0, legal_n = 0, before = 0, found = 0;
        CHECK_OK(fa_space_enumerate(fa_arch_find("sm90a"), 128, &f, &vs, &n, &err), &err);
        const int pw = fam->prior(&want);
        for (int k = 0; k < n; k++) {
            if (fa_variant_check(&vs[k], fa_arch_find("sm90a"), NULL) != FA_OK)
                continue;
            legal_n++;
            const int same = !memcmp(vs[k].params, want.params, sizeof want.params);
            found += same;
            if (!found && !same && fam->prior(&vs[k]) <= pw)
                before++;
            else if (found && !same && fam->prior(&vs[k]) < pw)
                before++;
        }
        CHECK_MSG(found == 1 && before < (legal_n + 3) / 4,
                  "%s: %d of %d legal variants come first in prior order (want < %d)", vl_want[i],
                  before, legal_n, (legal_n + 3) / 4);
        free(vs);
    }
}

/* The kernel's tile order (fa_plan_sm90a_tile) is a permutation of (row block, pair); causal
 * row blocks never rise within a group of `group` pairs, and each group's pairs are
 * consecutive; the group sizes of fa_plan_sm90a_causal_group. */
static void test_tile_order(void)
{
    /* group sizes: hd256, 512 keys: a pair's K/V is 512 KB, 64 fit 32 MB; 256 pairs -> 4
       groups of 64. 4097 keys: 4 MB, 7 fit; 16 pairs -> 3 groups of 6 (6, 6, 4). GQA 4: a
       pair is a quarter. Persistent, non-causal or everything fitting: one group. */
    CHECK(fa_plan_sm90a_causal_group(1, 0, 4, 512, 256, 1, 256) == 64);
    CHECK(fa_plan_sm90a_causal_group(1, 0, 4, 4097, 256, 1, 16) == 6);
    CHECK(fa_plan_sm90a_causal_group(1, 0, 4, 4097, 256, 4, 16) == 16);
    CHECK(fa_plan_sm90a_causal_group(1, 0, 4, 4097, 256, 4, 40) == 20);
    /* persistent: one group, but head-major (group 1) with at most 16 row blocks a pair */
    CHECK(fa_plan_sm90a_causal_group(1, 1, 17, 2176, 256, 1, 256) == 256);
    CHECK(fa_plan_sm90a_causal_group(1, 1, 16, 2048, 256, 1, 64) == 1);
    CHECK(fa_plan_sm90a_causal_group(1, 1, 4, 512, 128, 4, 512) == 1);
    CHECK(fa_plan_sm90a_causal_group(0, 1, 4, 512, 128, 1, 512) == 512);
    CHECK(fa_plan_sm90a_causal_group(1, 1, 4, 512, 128, 1, 1) == 1);
    { /* hd128 causal N = 512, 512 pairs of 4 row blocks on 132 SMs: a persistent round's 132
         tiles are 33 whole pairs, each pair's K/V read by its 4 row blocks in the same round
         (one group: 132 pairs' longest row block) */
        const int g = fa_plan_sm90a_causal_group(1, 1, 4, 512, 128, 1, 512);
        int whole[512] = {0}, touched = 0, m = -1, pr = -1;
        for (int t = 0; t < 132; t++) {
            fa_plan_sm90a_tile(t, 1, 4, 512, g, &m, &pr);
            touched += whole[pr]++ == 0;
        }
        int full = 0;
        for (int i = 0; i < 512; i++)
            full += whole[i] == 4;
        CHECK_MSG(touched == 33 && full == 33, "a round touched %d pairs, %d whole", touched, full);
    }
    CHECK(fa_plan_sm90a_causal_group(0, 0, 4, 512, 256, 1, 256) == 256);
    CHECK(fa_plan_sm90a_causal_group(1, 0, 4, 1 << 20, 256, 1, 5) == 1); /* 1 GB a pair */
    CHECK(fa_plan_sm90a_causal_group(1, 0, 4, 0, 128, 1, 3) == 3);
    const int shapes[][3] = {{4, 256, 64}, {4, 16, 6}, {7, 5, 2}, {1, 9, 4}, {33, 3, 1}, {5, 1, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const int mb = shapes[i][0], pairs = shapes[i][1], group = shapes[i][2];
        for (int causal = 0; causal < 2; causal++) {
            int *seen = calloc((size_t)(mb * pairs), sizeof(int));
            int bad = 0, prev_m = -1, prev_first = -1;
            for (int t = 0; t < mb * pairs && seen; t++) {
                int m = -1, pr = -1;
                fa_plan_sm90a_tile(t, causal, mb, pairs, group, &m, &pr);
                if (m < 0 || m >= mb || pr < 0 || pr >= pairs) {
                    bad++;
                    continue;
                }
                seen[pr * mb + m]++;
                if (causal) {
                    const int first = pr / group * group; /* pairs of one group: consecutive */
                    if (first == prev_first && m > prev_m)
                        bad++; /* a row block rose within the group */
                    if (first < prev_first)
                        bad++; /* groups run in order */
                    prev_first = first, prev_m = m;
                }
            }
            for (int j = 0; seen && j < mb * pairs; j++)
                bad += seen[j] != 1;
            CHECK_MSG(seen && bad == 0, "tile order mb %d pairs %d group %d causal %d: %d errors",
                      mb, pairs, group, causal, bad);
            free(seen);
        }
    }
    /* longest first inside a group: group 6 of 16 pairs x 4 row blocks starts with row block
       3 of pairs 0..5, then row block 2 of pair 0; the last group (pairs 12..15) ends with row
       block 0 of pair 15 */
    int m = -1, pr = -1;
    fa_plan_sm90a_tile(5, 1, 4, 16, 6, &m, &pr);
    CHECK(m == 3 && pr == 5);
    fa_plan_sm90a_tile(6, 1, 4, 16, 6, &m, &pr);
    CHECK(m == 2 && pr == 0);
    fa_plan_sm90a_tile(48, 1, 4, 16, 6, &m, &pr);
    CHECK(m == 3 && pr == 12);
    fa_plan_sm90a_tile(63, 1, 4, 16, 6, &m, &pr);
    CHECK(m == 0 && pr == 15);
}

/* The half-width first block (fa_plan_sm90a_half_first, the kernel's HALF_FIRST test) against
 * the causal mask itself: for 128-row tiles, each consumer warpgroup, plain and PackGQA row
 * mappings and lengths that are and are not multiples of the tiles, it says yes exactly when no
 * row of the warpgroup sees a key in the second half of its first block (the last block its
 * rows see, as the kernel counts them after SKIP_MASKED). */
static void test_half_first(void)
{
    static const int lens[] = {1, 17, 64, 100, 127, 128, 129, 300, 512, 1000, 1001, 1024, 4097};
    static const int bns[] = {96, 128, 192, 256};
    static const int gs[] = {1, 4, 12};
    const int nl = (int)(sizeof lens / sizeof lens[0]);
    int cases = 0, halves = 0, bad = 0;
    for (int bi = 0; bi < 4; bi++)
        for (int gi = 0; gi < 3; gi++)
            for (int qi = 0; qi < nl; qi++)
                for (int ki = 0; ki < nl; ki++) {
                    const int bn = bns[bi], g = gs[gi], sq = lens[qi], sk = lens[ki];
                    const int tpb = 128 / g, diag = sk - sq;
                    for (int m = 0; m * tpb < sq; m++)
                        for (int cw = 0; cw < 2; cw++) {
                            /* token of row r (0..63) of warpgroup cw, as the kernel's mask */
                            int tok[64];
                            for (int r = 0; r < 64; r++)
                                tok[r] =
                                    g == 1 ? m * 128 + cw * 64 + r : m * tpb + (cw * 64 + r) / g;
                            const int row_end = tok[63] + 1;
                            const int lim = row_end + diag < sk ? row_end + diag : sk;
                            const int n = lim > 0 ? (lim + bn - 1) / bn : 0;
                            int second = 0; /* some row sees a key of the second half */
                            for (int r = 0; r < 64 && n > 0; r++)
                                for (int j = (n - 1) * bn + bn / 2; j < n * bn; j++)
                                    second |= j < sk && j <= tok[r] + diag;
                            const int want = n > 0 && !second;
                            const int got = fa_plan_sm90a_half_first(n, bn, row_end, sq, sk);
                            cases++;
                            halves += got;
                            if (got != want && bad++ < 5)
                                CHECK_MSG(0,
                                          "half_first(n %d, bn %d, g %d, sq %d, sk %d, m %d, "
                                          "cw %d) = %d, mask says %d",
                                          n, bn, g, sq, sk, m, cw, got, want);
                        }
                }
    CHECK_MSG(bad == 0, "%d of %d cases wrong", bad, cases);
    /* both answers occur (128-key blocks over 1024 equal lengths: warpgroup 0 of every tile) */
    CHECK_MSG(halves > 0 && halves < cases, "%d of %d cases half", halves, cases);
    /* equal lengths, row block 3: warpgroup 0 (tokens 384..447) sees 448 keys, 4 blocks; 1
       (448..511) sees 512 */
    CHECK(fa_plan_sm90a_half_first(4, 128, 448, 1024, 1024) == 1);
    CHECK(fa_plan_sm90a_half_first(4, 128, 512, 1024, 1024) == 0);
    CHECK(fa_plan_sm90a_half_first(0, 128, 64, 1024, 1024) == 0);
}

int main(void)
{
    fam = fa_family_find("sm90a");
    CHECK(fam != NULL);
    if (!fam)
        return fa_test_done("test_sm90a_family");
    unsetenv("FA_TUNE_TEMPLATES");
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.no_cache = 1;
    fa_err err;
    fa_err_clear(&err);
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    test_names();
    test_legality(c);
    test_plan();
    test_args();
    test_args_packed();
    test_prior();
    test_pack_plan();
    test_pack_cover();
    test_tile_order();
    test_half_first();
    fa_compiler_free(c);
    return fa_test_done("test_sm90a_family");
}
