/*
 * This file implements the CPU test of the sm90a family's host description
 * (tuner/families/fa_family_sm90a.c) through the seam (fa_family.h, fa_variant.h):
 *   - registry and archs: found by name; compiles for sm_90a under --arch sm90 and sm90a, not
 *     on sm80; the space of one mode is the 528 axis combinations;
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
 *   - the prior: the measured winners come first.
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
    CHECK(fa_space_tiles_per_mode(fam) == 528);

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

    static const char *const not_names[] = {
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
        "fwd_sm90a_hd32_fp16_m192n224s2", /* 112 + 16 = 128 of 128 */
        "fwd_sm90a_hd96_bf16_m128n192s2", /* padded: (128 + 4 * 192) * 128 * 2 = 224 KB */
        "fwd_sm90a_hd96_bf16_causal_varlen_m128n128s2ovpe", /* 64 + 48 + 32 of 216 */
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
        CHECK_MSG(n == 528 && !strcmp(name, cases[i].want),
                  "hd%d causal %d: %d variants, %d "
                  "legal, first %s, want %s",
                  cases[i].hd, cases[i].causal, n, legal_n, name, cases[i].want);
        fprintf(stderr, "hd%d causal %d: %d of %d legal, first %s\n", cases[i].hd, cases[i].causal,
                legal_n, n, name);
        free(vs);
    }
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
    fa_compiler_free(c);
    return fa_test_done("test_sm90a_family");
}
