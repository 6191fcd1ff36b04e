/* This file implements the variant space test: sizes of the default and widest spaces, a
 * stable order with no duplicates, the filters, and how the legality model splits the
 * default sm80 head-dim-128 space. CPU only; NVRTC is not involved. */
#include <string.h>

#include "fa_space.h"
#include "test_util.h"

int main(void)
{
    fa_err err;
    fa_err_clear(&err);
    const fa_arch *sm80 = fa_arch_find("sm80");
    fa_variant *vs = NULL;
    int n = 0;

    CHECK(fa_space_tiles_per_mode(fa_family_sm80()) == 2 * 7 * 2 * 3 * 2);
    /* --help's description, from the axes: four or more evenly spaced values as first..last
       [step s], a label cut before " = ", cut to fit a short buffer. */
    char d[256];
    fa_space_describe(fa_family_sm80(), d, sizeof d);
    CHECK_MSG(!strcmp(d, "sm80, 168 per mode: BLOCK_M 64,128 x BLOCK_N 32..128 step 16 x warps "
                         "4,8 x stages 1,2,3 x Q in registers 0,1"),
              "%s", d);
    const fa_family *s90 = fa_family_find("sm90a");
    CHECK(s90 != NULL);
    fa_space_describe(s90, d, sizeof d);
    CHECK_MSG(!strncmp(d, "sm90a, ", 7) && strstr(d, " per mode: BLOCK_M ") &&
                  strstr(d, " x BLOCK_N 64..224 step 16 x stages 2,3,4 x overlap 0,1"),
              "%s", d);
    char small[12];
    fa_space_describe(fa_family_sm80(), small, sizeof small);
    CHECK_MSG(!strcmp(small, "sm80, 168 p"), "cut: '%s'", small);
    CHECK_OK(fa_space_enumerate(sm80, 128, NULL, &vs, &n, &err), &err);
    CHECK(n == 2 * 168);
    int legal = 0;
    for (int i = 0; i < n; i++) {
        CHECK(vs[i].dtype == FA_DTYPE_BF16 && vs[i].varlen == 0 && vs[i].head_dim == 128);
        CHECK(vs[i].causal == (i >= 168));
        legal += fa_variant_check(&vs[i], sm80, NULL) == FA_OK;
        /* Names round-trip, and no two variants are equal. */
        char name[FA_VARIANT_NAME_MAX];
        fa_variant back;
        fa_variant_name(&vs[i], name, sizeof name);
        CHECK(fa_variant_parse(name, &back, &err) == FA_OK && fa_variant_equal(&back, &vs[i]));
        for (int j = 0; j < i; j++)
            CHECK(!fa_variant_equal(&vs[i], &vs[j]));
    }
    fprintf(stderr, "default sm80 hd128 space: %d variants, %d legal\n", n, legal);
    CHECK(legal > 0 && legal < n);
    char first[FA_VARIANT_NAME_MAX];
    fa_variant_name(&vs[0], first, sizeof first);
    CHECK(strcmp(first, "fwd_sm80_hd128_bf16_m64n32w4s1") == 0);
    free(vs);

    /* The model's two limits, each on a variant only it refuses. Shared memory is the arch's
       opt-in limit: head dim 256, 128 x 64 tiles, 2 stages need 192 KB, over sm80's 163 KB
       but within sm90's 227 KB. Registers: 128 x 128 tiles of head dim 256 on 4 warps need
       about 400 accumulator registers a thread (O 256 + S 128 + 16), past 255, while their
       192 KB fit sm90. */
    {
        const fa_arch *sm90 = fa_arch_find("sm90");
        fa_variant lim;
        CHECK_OK(fa_variant_parse("fwd_sm80_hd256_bf16_m128n64w8s2", &lim, &err), &err);
        CHECK(fa_variant_check(&lim, sm80, &err) == FA_UNSUPPORTED &&
              strstr(err.msg, "needs 196608 bytes of shared memory, sm80 allows"));
        fa_err_clear(&err);
        CHECK_OK(fa_variant_check(&lim, sm90, &err), &err);
        CHECK_OK(fa_variant_parse("fwd_sm80_hd256_bf16_m128n128w4s1", &lim, &err), &err);
        CHECK(fa_variant_check(&lim, sm90, &err) == FA_UNSUPPORTED &&
              strstr(err.msg, "needs about 400 registers per thread"));
        fa_err_clear(&err);
    }

    fa_space_filter all = {.dtypes = 3u, .causal = FA_SPACE_BOTH, .varlen = FA_SPACE_BOTH};
    CHECK_OK(fa_space_enumerate(sm80, 64, &all, &vs, &n, &err), &err);
    CHECK(n == 8 * 168);
    free(vs);

    fa_space_filter fp16_varlen = {
        .dtypes = 1u << FA_DTYPE_FP16, .causal = FA_SPACE_OFF, .varlen = FA_SPACE_ON};
    CHECK_OK(fa_space_enumerate(sm80, 256, &fp16_varlen, &vs, &n, &err), &err);
    CHECK(n == 168);
    for (int i = 0; i < n; i++)
        CHECK(vs[i].dtype == FA_DTYPE_FP16 && !vs[i].causal && vs[i].varlen);
    free(vs);

    fa_variant *untouched = (fa_variant *)&err;
    vs = untouched;
    fa_space_filter empty = {.dtypes = 0, .causal = FA_SPACE_BOTH, .varlen = FA_SPACE_BOTH};
    CHECK(fa_space_enumerate(sm80, 128, &empty, &vs, &n, &err) == FA_INVALID);
    CHECK(fa_space_enumerate(sm80, 100, NULL, &vs, &n, &err) == FA_INVALID);
    CHECK(strstr(err.msg, "100") && strstr(err.msg, fa_head_dim_list()));
    CHECK(fa_space_enumerate(NULL, 128, NULL, &vs, &n, &err) == FA_INVALID);
    CHECK(vs == untouched);
    return fa_test_done("test_space");
}
