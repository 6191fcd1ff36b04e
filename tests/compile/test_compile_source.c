/* This file implements the test that a template instance compiles to a cubin for sm_80 and
 * for sm_90a through fa_compile_source, with its lowered name and resource report, and that
 * the compiler finds its directories as documented (cache dir precedence, include dir). */
#include <sys/stat.h>

#include "fa_compile.h"
#include "test_kernel.h"
#include "test_util.h"

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void compile_for(fa_compiler *c, const char *arch)
{
    fa_compile_output out;
    fa_err err;
    fa_err_clear(&err);
    memset(&out, 0xab, sizeof out); /* every field must be written */
    CHECK_OK(
        fa_compile_source(c, fa_test_kernel_src, FA_TEST_KERNEL_EXPR, arch, NULL, 0, &out, &err),
        &err);
    if (err.status != FA_OK)
        return;
    CHECK(out.status == FA_OK);
    if (out.status != FA_OK)
        fprintf(stderr, "%s log:\n%s\n", arch, out.log ? out.log : "(none)");
    /* A cubin is an ELF file. */
    CHECK(out.cubin != NULL && out.cubin_size > 64);
    CHECK(out.cubin && memcmp(out.cubin, "\177ELF", 4) == 0);
    CHECK(strcmp(out.lowered_name, "_Z15fa_test_reverseI13__nv_bfloat16Li128EEv13fa_fwd_params") ==
          0);
    CHECK(out.log && strstr(out.log, arch) != NULL); /* "Compiling entry function ... for" */
    CHECK(out.build.registers > 0 && out.build.registers <= 255);
    CHECK(out.build.smem_static == FA_TEST_KERNEL_SMEM);
    CHECK(out.build.stack_bytes == 0);
    CHECK(out.build.spill_stores == 0 && out.build.spill_loads == 0);
    CHECK(out.build.cache_hit == 0);
    CHECK(out.build.compile_ms > 0 && out.nvrtc_ms > 0);
    CHECK(out.cache_rebuilt == 0);
    fprintf(stderr, "%s: %zu-byte cubin, %d registers, %.1f ms\n", arch, out.cubin_size,
            out.build.registers, out.build.compile_ms);
    fa_compile_output_release(&out);
    CHECK(out.cubin == NULL && out.log == NULL);
}

int main(void)
{
    char tmp[512], want[600];
    fa_err err;
    fa_err_clear(&err);
    unsetenv("FA_TUNE_TEMPLATES");
    fa_test_tmpdir(tmp, sizeof tmp, "compile-source");

    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    snprintf(want, sizeof want, "%s/explicit/nested", tmp);
    opts.cache_dir = want;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return fa_test_done("test_compile_source");
    CHECK(strcmp(fa_compiler_cache_dir(c), want) == 0 && is_dir(want)); /* mkdir -p */
    char hdr[4200];
    snprintf(hdr, sizeof hdr, "%s/cuda_fp16.h", fa_compiler_cuda_include(c));
    CHECK(access(hdr, R_OK) == 0);
    CHECK(strlen(fa_compiler_source_hash(c)) == 64);
    CHECK(strchr(fa_compiler_nvrtc_version(c), '.') != NULL);
    CHECK(fa_compiler_has_template(c, "fa_params.h"));
    CHECK(!fa_compiler_has_template(c, "no_such_template.cuh"));
    fprintf(stderr, "nvrtc %s, include %s, templates %s\n", fa_compiler_nvrtc_version(c),
            fa_compiler_cuda_include(c), fa_compiler_source_hash(c));

    compile_for(c, "sm_80");
    compile_for(c, "sm_90a");

    /* The engine's own errors are not compile errors: a virtual arch, a bad option. */
    fa_compile_output out = {0};
    CHECK(fa_compile_source(c, fa_test_kernel_src, FA_TEST_KERNEL_EXPR, "compute_80", NULL, 0, &out,
                            &err) == FA_INVALID);
    CHECK(strstr(err.msg, "compute_80") != NULL);
    const char *bad[] = {"--no-such-option"};
    CHECK(fa_compile_source(c, fa_test_kernel_src, FA_TEST_KERNEL_EXPR, "sm_80", bad, 1, &out,
                            &err) == FA_INVALID);
    CHECK(strstr(err.msg, "no-such-option") != NULL);
    CHECK(out.cubin == NULL && out.log == NULL); /* untouched on failure */
    fa_compiler_free(c);
    c = NULL;

    /* Cache directory precedence: option, $FA_TUNE_CACHE_DIR, $XDG_CACHE_HOME/fa-tune,
     * ~/.cache/fa-tune. */
    opts.cache_dir = NULL;
    snprintf(want, sizeof want, "%s/env", tmp);
    setenv("FA_TUNE_CACHE_DIR", want, 1);
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    CHECK(c && strcmp(fa_compiler_cache_dir(c), want) == 0 && is_dir(want));
    fa_compiler_free(c);
    c = NULL;
    unsetenv("FA_TUNE_CACHE_DIR");
    snprintf(want, sizeof want, "%s/xdg", tmp);
    setenv("XDG_CACHE_HOME", want, 1);
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    snprintf(want, sizeof want, "%s/xdg/fa-tune", tmp);
    CHECK(c && strcmp(fa_compiler_cache_dir(c), want) == 0 && is_dir(want));
    fa_compiler_free(c);
    c = NULL;
    unsetenv("XDG_CACHE_HOME");
    snprintf(want, sizeof want, "%s/home", tmp);
    setenv("HOME", want, 1);
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    snprintf(want, sizeof want, "%s/home/.cache/fa-tune", tmp);
    CHECK(c && strcmp(fa_compiler_cache_dir(c), want) == 0 && is_dir(want));
    fa_compiler_free(c);
    c = NULL;

    /* --no-cache: nothing is read or written. */
    opts.no_cache = 1;
    snprintf(want, sizeof want, "%s/never", tmp);
    opts.cache_dir = want;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (c) {
        CHECK(!is_dir(want) && strcmp(fa_compiler_cache_dir(c), "") == 0);
        compile_for(c, "sm_80");
        CHECK(!is_dir(want));
    }
    fa_compiler_free(c);

    /* An explicit include directory without the toolkit headers is refused by name. */
    fa_compiler_opts bad_inc = {0};
    bad_inc.cuda_include = tmp;
    bad_inc.no_cache = 1;
    c = NULL;
    CHECK(fa_compiler_new(&bad_inc, &c, &err) == FA_NOT_FOUND && c == NULL);
    CHECK(strstr(err.msg, tmp) != NULL);

    fa_test_rmtree(tmp);
    return fa_test_done("test_compile_source");
}
