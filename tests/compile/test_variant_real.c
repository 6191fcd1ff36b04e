/* This file implements the test that compiles one real kernel variant through
 * fa_compile_variant with the templates embedded in this build. It exits 77 (skipped) when
 * the build has no templates/fa_fwd_sm80.cuh yet. */
#include "fa_compile.h"
#include "fa_templates.h"
#include "test_util.h"

int main(void)
{
    int have = 0;
    for (const fa_template_file *t = fa_template_files; t->name; t++)
        have |= strcmp(t->name, "fa_fwd_sm80.cuh") == 0;
    if (!have) {
        fprintf(stderr, "test_variant_real: skipped, templates/fa_fwd_sm80.cuh not embedded\n");
        return 77;
    }
    char tmp[512];
    fa_err err;
    fa_err_clear(&err);
    unsetenv("FA_TUNE_TEMPLATES");
    fa_test_tmpdir(tmp, sizeof tmp, "variant-real");
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {0};
    opts.cache_dir = tmp;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return fa_test_done("test_variant_real");

    fa_variant v;
    CHECK_OK(fa_variant_parse("fwd_sm80_hd128_bf16_causal_m64n64w4s2", &v, &err), &err);
    /* sm80 and Hopper: the sm80 family compiles for the generic sm_90 there (fa_family.h). */
    const fa_arch *archs[] = {fa_arch_find("sm80"), fa_arch_find("sm90")};
    for (int a = 0; a < 2; a++) {
        fa_compile_output out = {0};
        CHECK_OK(fa_compile_variant(c, &v, archs[a], &out, &err), &err);
        CHECK(out.status == FA_OK);
        if (out.status != FA_OK)
            fprintf(stderr, "%s log:\n%s\n", archs[a]->name, out.log ? out.log : "(none)");
        CHECK(out.cubin && out.cubin_size > 64 && memcmp(out.cubin, "\177ELF", 4) == 0);
        CHECK(strncmp(out.lowered_name, "_Z11fa_fwd_sm80", 15) == 0);
        CHECK(out.build.registers > 0 && out.build.registers <= 255);
        CHECK(out.build.smem_static >= 0 && out.build.stack_bytes >= 0);
        CHECK(out.build.spill_stores >= 0 && out.build.spill_loads >= 0);
        fprintf(stderr, "%s: %zu-byte cubin, %d registers, spills %d/%d, %.0f ms\n", archs[a]->name,
                out.cubin_size, out.build.registers, out.build.spill_stores, out.build.spill_loads,
                out.build.compile_ms);
        fa_compile_output_release(&out);
    }

    /* --arch sm90a selects only families that need sm_90a: the sm80 family is not one, so
     * its variant is unsupported there, with the reason, without NVRTC. */
    fa_compile_output spec = {0};
    CHECK_OK(fa_compile_variant(c, &v, fa_arch_find("sm90a"), &spec, &err), &err);
    CHECK(spec.status == FA_UNSUPPORTED && spec.log && strstr(spec.log, "does not run on sm90a"));
    fa_compile_output_release(&spec);

    /* An illegal variant: FA_UNSUPPORTED with the reason, without NVRTC. */
    fa_variant big;
    CHECK_OK(fa_variant_parse("fwd_sm80_hd256_bf16_m128n128w8s3", &big, &err), &err);
    fa_compile_output out = {0};
    double t0 = fa_test_now_ms();
    CHECK_OK(fa_compile_variant(c, &big, fa_arch_find("sm86"), &out, &err), &err);
    CHECK(out.status == FA_UNSUPPORTED && out.log && strstr(out.log, "shared memory"));
    CHECK(out.cubin == NULL && fa_test_now_ms() - t0 < 50);
    fa_compile_output_release(&out);

    fa_compiler_free(c);
    fa_test_rmtree(tmp);
    return fa_test_done("test_variant_real");
}
