/*
 * This file tests the family seam's library side with a second, test-only family (testtwo,
 * registered through the registry line under FA_FAMILY_TESTTWO): the registry finds both
 * families; names round-trip through the family found by their second token and stay
 * byte-identical for sm80; the space crosses each family's own axes; legality is each
 * family's; a launch plan of two launches with scratch; the compile engine is asked for both
 * kernels of a variant; parameters as text; the arch rule (sm90 selects both, sm90a neither).
 */
#include <stdlib.h>
#include <string.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_family.h"
#include "fa_space.h"

int main(void)
{
    fa_err err;
    const fa_family *sm80 = fa_family_find("sm80"), *two = fa_family_find("testtwo");
    CHECK(sm80 && two && sm80 == fa_family_sm80());
    /* Registry order: the installed families (sm80, sm90a, splitkv), then the test's. */
    const fa_family *s90a = fa_family_find("sm90a"), *skv = fa_family_find("splitkv");
    CHECK(fa_families()[0] == sm80 && fa_families()[1] == s90a && fa_families()[2] == skv &&
          fa_families()[3] == two && fa_families()[4] == NULL);
    CHECK(fa_family_index(two) == 3 && fa_family_at(3) == two && fa_family_at(4) == NULL);

    /* Names: the family by the second token, its suffix, canonical only. */
    fa_variant v;
    const char *name = "fwd_testtwo_hd64_bf16_causal_t64k2l64";
    CHECK_OK(fa_variant_parse(name, &v, &err), &err);
    CHECK(v.family == two && v.op == FA_OP_FWD && v.head_dim == 64 && v.causal && !v.varlen);
    CHECK(v.params[0] == 64 && v.params[1] == 2 && v.params[2] == 64);
    char buf[FA_VARIANT_NAME_MAX];
    fa_variant_name(&v, buf, sizeof buf);
    CHECK(strcmp(buf, name) == 0);
    CHECK(fa_variant_parse("fwd_testtwo_hd64_bf16_t64k02l128", &v, &err) == FA_INVALID &&
          strstr(err.msg, "did you mean 'fwd_testtwo_hd64_bf16_t64k2l128'"));
    CHECK(fa_variant_parse("fwd_testtwo_hd64_bf16_m128n64w4s2", &v, &err) == FA_INVALID &&
          strstr(err.msg, "'_t64k1l64'"));
    CHECK(fa_variant_parse("fwd_nosuch_hd64_bf16_t64k2l128", &v, &err) == FA_INVALID &&
          strstr(err.msg, "no kernel family 'nosuch'"));
    CHECK(fa_variant_parse("decode_sm80_hd64_bf16_m128n64w4s2", &v, &err) == FA_INVALID &&
          strstr(err.msg, "does not serve decode"));
    fa_variant s80;
    CHECK_OK(fa_variant_parse("fwd_sm80_hd128_bf16_causal_varlen_m128n80w4s2q", &s80, &err), &err);
    fa_variant_name(&s80, buf, sizeof buf);
    CHECK(strcmp(buf, "fwd_sm80_hd128_bf16_causal_varlen_m128n80w4s2q") == 0);
    fa_variant_params_text(&s80, buf, sizeof buf);
    CHECK(strcmp(buf, "block_m=128 block_n=80 warps=4 stages=2 q_in_regs=1") == 0);
    fa_variant_params_short(&s80, buf, sizeof buf);
    CHECK(strcmp(buf, "w4s2q") == 0);

    /* Both kernels' name expressions. */
    CHECK_OK(fa_variant_parse(name, &v, &err), &err);
    CHECK(two->nkernels == 2);
    fa_variant_kernel_expr(&v, 0, buf, sizeof buf);
    CHECK(strcmp(buf, "fa_testtwo_split<__nv_bfloat16, 64, 64, 2, 64, true, false>") == 0);
    fa_variant_kernel_expr(&v, 1, buf, sizeof buf);
    CHECK(strcmp(buf, "fa_testtwo_combine<__nv_bfloat16, 64, 2, true, false>") == 0);
    fa_variant_params_text(&v, buf, sizeof buf);
    CHECK(strcmp(buf, "tile=64 splits=2 lanes=64") == 0);

    /* Legality: the family's own rules, prefixed with the name. */
    const fa_arch *a90 = fa_arch_find("sm90");
    CHECK_OK(fa_variant_check(&v, a90, &err), &err);
    CHECK_OK(fa_variant_parse("fwd_testtwo_hd64_bf16_t128k4l256", &v, &err), &err);
    CHECK(fa_variant_check(&v, a90, &err) == FA_UNSUPPORTED &&
          strstr(err.msg, "fwd_testtwo_hd64_bf16_t128k4l256: testtwo: tile 128 x 4 splits"));
    CHECK_OK(fa_variant_parse("fwd_testtwo_hd64_bf16_t128k1l64", &v, &err), &err);
    CHECK(fa_variant_check(&v, a90, &err) == FA_UNSUPPORTED &&
          strstr(err.msg, "64 lanes cannot cover a 128-row tile"));
    CHECK_OK(fa_variant_parse("fwd_testtwo_hd64_bf16_t128k2l256", &v, &err), &err);
    CHECK_OK(fa_variant_check(&v, a90, &err), &err);

    /* The plan: split then combine, scratch for every split's partial rows. */
    CHECK_OK(fa_variant_parse(name, &v, &err), &err);
    fa_shape sh = {.op = FA_OP_FWD,
                   .batch = 2,
                   .heads_q = 8,
                   .heads_kv = 8,
                   .seqlen_q = 1000,
                   .seqlen_k = 1000,
                   .head_dim = 64};
    fa_plan pl;
    CHECK_OK(two->plan(&v, &sh, &pl, &err), &err);
    CHECK(pl.nlaunches == 2 && pl.launch[0].kernel == 0 && pl.launch[1].kernel == 1);
    CHECK(pl.launch[0].grid[0] == 16 && pl.launch[0].grid[1] == 8 && pl.launch[0].grid[2] == 4);
    CHECK(pl.launch[0].block[0] == 64 && pl.launch[1].grid[0] == 8 && pl.launch[1].block[0] == 128);
    CHECK(pl.scratch_bytes == 2ull * 2 * 8 * 1000 * 4);
    CHECK_OK(sm80->plan(&s80, &sh, &pl, &err), &err);
    CHECK(pl.nlaunches == 1 && pl.launch[0].grid[0] == 8 && pl.launch[0].grid[2] == 2 &&
          pl.launch[0].block[0] == 128 && pl.scratch_bytes == 0 &&
          pl.launch[0].smem == (unsigned)fa_variant_smem_bytes(&s80));

    /* The space: each family's axes; the filter may pick one family. */
    fa_variant *vs = NULL;
    int n = 0;
    CHECK_OK(fa_space_enumerate(a90, 64, NULL, &vs, &n, &err), &err);
    CHECK(n == 2 * (168 + 3168 + 12)); /* sm80, sm90a (sm_90a runs on every cc 90), testtwo */
    CHECK(vs[0].family == sm80 && vs[2 * 168].family == s90a &&
          vs[2 * (168 + 3168)].family == two && vs[n - 1].family == two);
    fa_variant_name(&vs[2 * (168 + 3168)], buf, sizeof buf);
    CHECK(strcmp(buf, "fwd_testtwo_hd64_bf16_t64k1l64") == 0);
    free(vs);
    fa_space_filter f = {.dtypes = 1u << FA_DTYPE_FP16,
                         .causal = FA_SPACE_OFF,
                         .varlen = FA_SPACE_OFF,
                         .family = two};
    CHECK_OK(fa_space_enumerate(a90, 64, &f, &vs, &n, &err), &err);
    CHECK(n == 12 && fa_space_tiles_per_mode(two) == 12);
    free(vs);

    /* Arch rule: both run on sm90 (generic target), neither needs sm_90a. */
    CHECK(strcmp(fa_family_nvrtc_arch(two, a90), "sm_90") == 0);
    CHECK(fa_family_nvrtc_arch(two, fa_arch_find("sm90a")) == NULL);
    CHECK(fa_family_nvrtc_arch(sm80, fa_arch_find("sm90a")) == NULL);
    CHECK(strcmp(fa_family_nvrtc_arch(sm80, fa_arch_find("sm86")), "sm_86") == 0);
    CHECK(fa_space_enumerate(fa_arch_find("sm90a"), 64, &f, &vs, &n, &err) == FA_UNSUPPORTED);

    if (fa_check_failures)
        return 1;
    printf("test_family_unit: ok\n");
    return 0;
}
