/* This file implements the test that the sm90a family's kernel compiles through the engine
 * (fa_compile_source, NVRTC, sm_90a) from the embedded templates, whose names are relative to
 * templates/ ("sm90a/fa_fwd_sm90a.cuh" includes "fa_params.h" and "sm90a/fa_wgmma.cuh"),
 * and that each instance's ptxas report shows no spills, no stack and the entry register cap
 * of its launch bounds (65536 / threads: 168 with 2 consumer warpgroups, 128 with 3;
 * setmaxnreg moves registers at run time), PackGQA instances (fa_fwd_sm90a_pack_gqa, the same
 * template arguments) included. It also checks that the same templates read from
 * disk (FA_TUNE_TEMPLATES, family folders included) hash like the embedded set. */
#include "fa_compile.h"
#include "fa_templates.h"
#include "test_util.h"

typedef struct instance {
    const char *expr; /* fa_fwd_sm90a<Element, HEAD_DIM, BLOCK_N, CWG, STAGES, IS_CAUSAL,
                         OVERLAP, PINGPONG, PERSISTENT, IS_VARLEN> */
    int registers;    /* the entry cap ptxas reports */
} instance;

/* The measured hd128 winner (3 warpgroups, no overlap), an hd256 causal persistent overlap
 * tile with direct O stores, an fp16 hd64 4-stage pingpong persistent tile (staged O); varlen:
 * the hd128 winner's causal persistent tile (S + O = 128 of 128 registers with the sequence
 * bookkeeping) and an hd96 overlap persistent tile (96 columns in 128-column slabs). */
static const instance instances[] = {
    {"fa_fwd_sm90a<__nv_bfloat16, 128, 128, 3, 2, false, false, false, false, false>", 128},
    {"fa_fwd_sm90a<__nv_bfloat16, 256, 80, 2, 2, true, true, false, true, false>", 168},
    {"fa_fwd_sm90a<__half, 64, 192, 2, 4, false, true, true, true, false>", 168},
    {"fa_fwd_sm90a<__nv_bfloat16, 128, 128, 3, 2, true, false, false, true, true>", 128},
    {"fa_fwd_sm90a<__half, 96, 128, 2, 2, true, true, false, true, true>", 168},
    /* PackGQA: the hd128 3-warpgroup tile at the register edge (causal, varlen, persistent),
       hd256 with direct O stores, hd64 with overlap, hd32 and hd192 */
    {"fa_fwd_sm90a_pack_gqa<__nv_bfloat16, 128, 128, 3, 2, true, false, false, true, true>", 128},
    {"fa_fwd_sm90a_pack_gqa<__half, 256, 80, 2, 2, true, true, false, true, false>", 168},
    {"fa_fwd_sm90a_pack_gqa<__nv_bfloat16, 64, 128, 2, 2, false, true, false, false, false>", 168},
    {"fa_fwd_sm90a_pack_gqa<__half, 32, 128, 3, 2, true, true, false, true, true>", 128},
    {"fa_fwd_sm90a_pack_gqa<__nv_bfloat16, 192, 96, 2, 2, true, true, false, true, false>", 168},
};

int main(void)
{
    char tmp[512];
    fa_err err;
    fa_err_clear(&err);
    unsetenv("FA_TUNE_TEMPLATES");
    fa_test_tmpdir(tmp, sizeof tmp, "sm90a-compile");

    int embedded = 0;
    for (const fa_template_file *t = fa_template_files; t->name; t++)
        embedded += strncmp(t->name, "sm90a/", 6) == 0;
    CHECK_MSG(embedded == 4, "%d embedded sm90a/ templates, want 4 (gen_wgmma.py is not one)",
              embedded);

    fa_compiler *c = NULL, *disk = NULL;
    fa_compiler_opts opts = {0};
    opts.no_cache = 1;
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    if (!c)
        return fa_test_done("test_sm90a_compile");
    CHECK(fa_compiler_has_template(c, "sm90a/fa_fwd_sm90a.cuh"));
    CHECK(fa_compiler_has_template(c, "sm90a/fa_wgmma.cuh"));
    CHECK(!fa_compiler_has_template(c, "fa_fwd_sm90a.cuh"));

    /* templates/ from disk, subfolders included, is the embedded set: same names, bytes, hash. */
    opts.templates_dir = FA_TEMPLATES_SRC_DIR;
    CHECK_OK(fa_compiler_new(&opts, &disk, &err), &err);
    if (disk) {
        CHECK(fa_compiler_has_template(disk, "sm90a/fa_fwd_sm90a.cuh"));
        CHECK_MSG(strcmp(fa_compiler_source_hash(c), fa_compiler_source_hash(disk)) == 0,
                  "embedded %s, from disk %s", fa_compiler_source_hash(c),
                  fa_compiler_source_hash(disk));
        fa_compiler_free(disk);
    }

    const char *src = "#include \"sm90a/fa_fwd_sm90a.cuh\"\n";
    for (size_t i = 0; i < sizeof instances / sizeof *instances; i++) {
        const instance *in = &instances[i];
        fa_compile_output out = {0};
        CHECK_OK(fa_compile_source(c, src, in->expr, "sm_90a", NULL, 0, &out, &err), &err);
        if (err.status != FA_OK)
            break;
        CHECK_MSG(out.status == FA_OK, "%s: %s", in->expr, out.log ? out.log : "(no log)");
        CHECK(out.cubin && out.cubin_size > 64 && memcmp(out.cubin, "\177ELF", 4) == 0);
        /* One argument, fa::sm90a_args (the family seam passes one struct per kernel). */
        size_t len = strlen(out.lowered_name);
        const int pack = strncmp(in->expr, "fa_fwd_sm90a_pack_gqa<", 22) == 0;
        CHECK_MSG(strncmp(out.lowered_name,
                          pack ? "_Z21fa_fwd_sm90a_pack_gqa" : "_Z12fa_fwd_sm90aI",
                          pack ? 25 : 17) == 0 &&
                      len > 19 && strcmp(out.lowered_name + len - 19, "EvN2fa10sm90a_argsE") == 0,
                  "lowered name '%s'", out.lowered_name);
        CHECK_MSG(out.build.registers == in->registers, "%s: %d registers, want %d", in->expr,
                  out.build.registers, in->registers);
        CHECK_MSG(out.build.spill_stores == 0 && out.build.spill_loads == 0,
                  "%s: spills %d stores %d loads", in->expr, out.build.spill_stores,
                  out.build.spill_loads);
        CHECK_MSG(out.build.stack_bytes == 0, "%s: %d bytes of stack", in->expr,
                  out.build.stack_bytes);
        fprintf(stderr, "%s: %zu-byte cubin, %d registers, %.0f ms\n", in->expr, out.cubin_size,
                out.build.registers, out.build.compile_ms);
        fa_compile_output_release(&out);
    }
    fa_compiler_free(c);
    fa_test_rmtree(tmp);
    return fa_test_done("test_sm90a_compile");
}
