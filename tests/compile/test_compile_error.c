/* This file implements the test that a source NVRTC rejects is a result, not a failure:
 * FA_COMPILE_ERROR with the compiler's log, no cubin, the engine still usable after it, and
 * the rejection cached like a cubin. */
#include "fa_compile.h"
#include "test_kernel.h"
#include "test_util.h"

int main(void)
{
    char tmp[512];
    fa_err err;
    fa_err_clear(&err);
    unsetenv("FA_TUNE_TEMPLATES");
    fa_test_tmpdir(tmp, sizeof tmp, "compile-error");
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.cache_dir = tmp;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return fa_test_done("test_compile_error");

    for (int round = 0; round < 2; round++) {
        fa_compile_output out = {0};
        CHECK_OK(fa_compile_source(c, fa_test_broken_src, FA_TEST_BROKEN_EXPR, "sm_80", NULL, 0,
                                   &out, &err),
                 &err);
        CHECK(out.status == FA_COMPILE_ERROR);
        CHECK(out.cubin == NULL && out.cubin_size == 0);
        CHECK(out.log != NULL && strstr(out.log, "undefined_thing") != NULL);
        CHECK(out.log != NULL && strstr(out.log, "error") != NULL);
        CHECK(out.build.registers == -1);    /* nothing was built */
        CHECK(out.build.cache_hit == round); /* the second time it comes from the cache */
        if (round == 0 && out.log)
            fprintf(stderr, "log of the broken source:\n%s", out.log);
        fa_compile_output_release(&out);
    }

    /* A name expression that names nothing is the variant's fault too. */
    fa_compile_output out = {0};
    CHECK_OK(
        fa_compile_source(c, fa_test_kernel_src, "no_such_kernel<1>", "sm_80", NULL, 0, &out, &err),
        &err);
    CHECK(out.status == FA_COMPILE_ERROR && out.log && strstr(out.log, "no_such_kernel"));
    fa_compile_output_release(&out);

    /* And the engine goes on compiling good sources afterwards. */
    CHECK_OK(
        fa_compile_source(c, fa_test_kernel_src, FA_TEST_KERNEL_EXPR, "sm_80", NULL, 0, &out, &err),
        &err);
    CHECK(out.status == FA_OK && out.cubin != NULL);
    fa_compile_output_release(&out);

    fa_compiler_free(c);
    fa_test_rmtree(tmp);
    return fa_test_done("test_compile_error");
}
