/* This file implements the tests of compile batches (fa_compile_variants: several variants
 * in one NVRTC program, FA_COMPILE_BATCH):
 *  1. a synthetic two-kernel ptxas log is cut per kernel (front-end lines kept for both);
 *  2. real sm80 kernels: each batched variant's status, lowered names and resources
 *     (registers, smem, stack, spills) equal the one-variant path's, its log holds only its
 *     own kernel's report, and its cubin holds its kernel;
 *  3. a batch with one bad variant (a template whose static_assert rejects BLOCK_N 48):
 *     only that variant is a compile error, the others compile, through fa_compile_variants
 *     and through the pool (fa_compile_sweep);
 *  4. the cache: batch entries have keys of their own (the one-variant path misses them and
 *     gets a cubin with only its kernel), a second batch is all hits, the pool finds a batch
 *     entry when it takes a job alone, and FA_COMPILE_BATCH is read (1 = one program per
 *     variant) and a bad value refused. */
/* memmem: _GNU_SOURCE comes from the build */
#include <errno.h>
#include <sys/stat.h>

#include "fa_compile.h"
#include "fa_sweep.h"
#include "test_util.h"

static int has_bytes(const void *hay, size_t n, const char *needle)
{
    return hay && memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void test_log_split(void)
{
    const char *log = "warning: something in the front end\n"
                      "ptxas info    : 110 bytes gmem\n"
                      "ptxas info    : Compiling entry function '_Z1aIiEvv' for 'sm_80'\n"
                      "ptxas info    : Function properties for _Z1aIiEvv\n"
                      "ptxas         .     8 bytes stack frame, 4 bytes spill stores, 4 bytes "
                      "spill loads\n"
                      "ptxas info    : Used 255 registers, used 1 barriers, 584 bytes cmem[0]\n"
                      "ptxas info    : Compiling entry function '_Z1aIlEvv' for 'sm_80'\n"
                      "ptxas info    : Function properties for _Z1aIlEvv\n"
                      "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes "
                      "spill loads\n"
                      "ptxas info    : Used 80 registers, used 1 barriers, 584 bytes cmem[0]\n";
    char *b = fa_compile_log_for_kernels(log, "_Z1aIlEvv");
    CHECK(b && strstr(b, "front end") && strstr(b, "110 bytes gmem"));
    CHECK(b && strstr(b, "_Z1aIlEvv") && !strstr(b, "_Z1aIiEvv"));
    fa_build_info bi;
    fa_compile_parse_resources(b, &bi);
    /* Unsplit, the maximum over both kernels would give 255 registers and spills. */
    CHECK(bi.registers == 80 && bi.spill_stores == 0 && bi.stack_bytes == 0);
    free(b);
    b = fa_compile_log_for_kernels(log, "_Z1aIlEvv\n_Z1aIiEvv"); /* both: the whole log */
    CHECK(b && strcmp(b, log) == 0);
    free(b);
    b = fa_compile_log_for_kernels("error: no ptxas here\n", "_Z1aIlEvv");
    CHECK(b && strcmp(b, "error: no ptxas here\n") == 0);
    free(b);
}

static fa_compiler *new_compiler(const char *cache, const char *templates, int batch, int no_cache)
{
    fa_err err;
    fa_err_clear(&err);
    fa_compiler *c = NULL;
    fa_compiler_opts opts = {
        .cache_dir = cache, .templates_dir = templates, .batch = batch, .no_cache = no_cache};
    CHECK_OK(fa_compiler_new(&opts, &c, &err), &err);
    return c;
}

static void parse_all(const char *const *names, int n, fa_variant *vs)
{
    fa_err err;
    fa_err_clear(&err);
    for (int i = 0; i < n; i++)
        CHECK_OK(fa_variant_parse(names[i], &vs[i], &err), &err);
}

/* 2: the same results as one program per variant. */
static void test_real_kernels(void)
{
    static const char *const names[] = {
        "fwd_sm80_hd64_bf16_m64n32w4s1",          "fwd_sm80_hd64_bf16_m64n32w8s1",    /* illegal */
        "fwd_sm80_hd64_bf16_causal_m64n128w4s2q", "fwd_sm80_hd64_bf16_m128n128w4s1q", /* spills */
        "fwd_sm80_hd64_bf16_m128n64w8s3",
    };
    enum { N = sizeof names / sizeof names[0] };
    fa_variant vs[N];
    fa_compile_output one[N], many[N];
    fa_err err;
    fa_err_clear(&err);
    parse_all(names, N, vs);
    const fa_arch *arch = fa_arch_find("sm80");
    fa_compiler *c = new_compiler(NULL, NULL, 8, 1);
    if (!c)
        return;
    for (int i = 0; i < N; i++)
        CHECK_OK(fa_compile_variant(c, &vs[i], arch, &one[i], &err), &err);
    CHECK_OK(fa_compile_variants(c, vs, N, arch, many, &err), &err);
    for (int i = 0; i < N; i++) {
        const fa_build_info *a = &one[i].build, *b = &many[i].build;
        CHECK(one[i].status == many[i].status);
        CHECK(strcmp(one[i].lowered_name, many[i].lowered_name) == 0);
        CHECK(a->registers == b->registers && a->smem_static == b->smem_static);
        CHECK(a->stack_bytes == b->stack_bytes && a->spill_stores == b->spill_stores &&
              a->spill_loads == b->spill_loads);
        if (a->registers != b->registers || a->spill_stores != b->spill_stores)
            fprintf(stderr, "%s: %d regs %d spills alone, %d regs %d spills batched\n", names[i],
                    a->registers, a->spill_stores, b->registers, b->spill_stores);
        if (many[i].status != FA_OK)
            continue;
        CHECK(has_bytes(many[i].cubin, many[i].cubin_size, many[i].lowered_name));
        for (int k = 0; k < N; k++)
            if (k != i && many[k].status == FA_OK)
                CHECK(!strstr(many[i].log, many[k].lowered_name)); /* only its own report */
    }
    CHECK(one[1].status == FA_UNSUPPORTED && many[1].status == FA_UNSUPPORTED);
    CHECK(many[3].status == FA_OK && fa_compile_spills(&many[3].build));
    CHECK(many[0].status == FA_OK && !fa_compile_spills(&many[0].build));
    /* The batch really was one program: a variant's cubin holds another's kernel. */
    CHECK(has_bytes(many[0].cubin, many[0].cubin_size, many[2].lowered_name));
    CHECK(!has_bytes(one[0].cubin, one[0].cubin_size, one[2].lowered_name));
    for (int i = 0; i < N; i++) {
        fa_compile_output_release(&one[i]);
        fa_compile_output_release(&many[i]);
    }
    fa_compiler_free(c);
}

/* A templates folder whose fa_fwd_sm80.cuh is a small kernel that static_asserts on
 * BLOCK_N 48: the sm80 family's variants compile in a fraction of a second. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static void copy_file(const char *from, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", from, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    write_file(dir, name, buf);
}

static const char bad_template[] =
    "#include <cuda_bf16.h>\n"
    "#include \"fa_params.h\"\n"
    "template <typename Element, int HEAD_DIM, int BLOCK_M, int BLOCK_N, int WARPS, int STAGES,\n"
    "          bool Q_IN_REGS, bool IS_CAUSAL, bool IS_VARLEN>\n"
    "__global__ void fa_fwd_sm80(const __grid_constant__ fa_fwd_params p)\n"
    "{\n"
    "    static_assert(BLOCK_N != 48, \"test: BLOCK_N 48 is the bad variant\");\n"
    "    if (threadIdx.x == 0)\n"
    "        ((float *)p.o)[blockIdx.x] = (float)(HEAD_DIM * BLOCK_M + BLOCK_N + WARPS + STAGES);\n"
    "}\n";

static const char *const small_names[] = {
    "fwd_sm80_hd64_bf16_m64n32w4s1",
    "fwd_sm80_hd64_bf16_m64n48w4s1", /* the bad one */
    "fwd_sm80_hd64_bf16_m64n64w4s1",
    "fwd_sm80_hd64_bf16_m64n80w4s1",
};
enum { NSMALL = sizeof small_names / sizeof small_names[0] };

typedef struct seen {
    int status[NSMALL];
    int n;
} seen;

static fa_status on_item(const fa_sweep_item *item, void *ctx)
{
    seen *s = ctx;
    s->status[item->index] = item->out->status;
    s->n++;
    return FA_OK;
}

/* 3 and 4. */
static void test_bad_variant_and_cache(const char *tmp)
{
    char tpl[600], cache[600];
    snprintf(tpl, sizeof tpl, "%s/templates", tmp);
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    CHECK(mkdir(tpl, 0777) == 0);
    copy_file(FA_TEMPLATES_SRC_DIR, tpl, "fa_params.h");
    write_file(tpl, "fa_fwd_sm80.cuh", bad_template);

    fa_variant vs[NSMALL];
    fa_compile_output outs[NSMALL];
    fa_err err;
    fa_err_clear(&err);
    parse_all(small_names, NSMALL, vs);
    const fa_arch *arch = fa_arch_find("sm80");
    fa_compiler *c = new_compiler(cache, tpl, 8, 0);
    if (!c)
        return;
    for (int round = 0; round < 2; round++) {
        CHECK_OK(fa_compile_variants(c, vs, NSMALL, arch, outs, &err), &err);
        for (int i = 0; i < NSMALL; i++) {
            CHECK(outs[i].status == (i == 1 ? FA_COMPILE_ERROR : FA_OK));
            CHECK(outs[i].log && (strstr(outs[i].log, "BLOCK_N 48") != NULL) == (i == 1));
            CHECK(outs[i].build.cache_hit == round); /* the second time, all from the cache */
            fa_compile_output_release(&outs[i]);
        }
    }

    /* The pool batches too, with the same attribution. */
    seen s = {{0}, 0};
    fa_sweep_summary sum;
    char nocache[600];
    snprintf(nocache, sizeof nocache, "%s/cache2", tmp);
    fa_compiler *c2 = new_compiler(nocache, tpl, 8, 0);
    if (c2) {
        CHECK_OK(fa_compile_sweep(c2, arch, vs, NSMALL, 1, on_item, &s, &sum, &err), &err);
        CHECK(s.n == NSMALL && sum.ok == 3 && sum.compile_error == 1);
        for (int i = 0; i < NSMALL; i++)
            CHECK(s.status[i] == (i == 1 ? FA_COMPILE_ERROR : FA_OK));
        fa_compiler_free(c2);
    }

    /* Batch entries are not the one-variant path's: it compiles its own cubin. (The batch
     * above failed and compiled its variants alone: these come from a batch that did not.) */
    fa_compiler_free(c);
    char cache3[600];
    snprintf(cache3, sizeof cache3, "%s/cache3", tmp);
    c = new_compiler(cache3, tpl, 8, 0);
    if (!c)
        return;
    fa_variant good[2] = {vs[0], vs[2]};
    CHECK_OK(fa_compile_variants(c, good, 2, arch, outs, &err), &err);
    CHECK(outs[0].status == FA_OK && outs[1].status == FA_OK && !outs[0].build.cache_hit);
    CHECK(has_bytes(outs[0].cubin, outs[0].cubin_size, outs[1].lowered_name));
    fa_compile_output_release(&outs[0]);
    fa_compile_output_release(&outs[1]);
    /* The pool finds a batch entry even when it takes one job alone. */
    fa_sweep_summary one_sum;
    CHECK_OK(fa_compile_sweep(c, arch, good, 1, 1, NULL, NULL, &one_sum, &err), &err);
    CHECK(one_sum.ok == 1 && one_sum.cache_hits == 1);
    fa_compile_output alone = {0};
    CHECK_OK(fa_compile_variant(c, &vs[0], arch, &alone, &err), &err);
    CHECK(alone.status == FA_OK && alone.build.cache_hit == 0);
    CHECK(has_bytes(alone.cubin, alone.cubin_size, alone.lowered_name));
    fa_compile_output other = {0};
    CHECK_OK(fa_compile_variant(c, &vs[2], arch, &other, &err), &err);
    CHECK(!has_bytes(alone.cubin, alone.cubin_size, other.lowered_name));
    fa_compile_output_release(&alone);
    fa_compile_output_release(&other);
    fa_compiler_free(c);

    /* FA_COMPILE_BATCH: read when the options leave it open, refused when not a count. */
    setenv("FA_COMPILE_BATCH", "1", 1);
    c = new_compiler(cache, tpl, 0, 0);
    CHECK(c && fa_compiler_batch(c) == 1);
    fa_compiler_free(c);
    unsetenv("FA_COMPILE_BATCH");
    c = new_compiler(cache, tpl, 0, 0);
    CHECK(c && fa_compiler_batch(c) == 8);
    fa_compiler_free(c);
    setenv("FA_COMPILE_BATCH", "many", 1);
    fa_compiler_opts opts = {.cache_dir = cache, .templates_dir = tpl};
    c = NULL;
    CHECK(fa_compiler_new(&opts, &c, &err) == FA_INVALID && c == NULL);
    CHECK(strstr(err.msg, "FA_COMPILE_BATCH") != NULL);
    unsetenv("FA_COMPILE_BATCH");
    opts.batch = FA_COMPILE_BATCH_MAX + 1; /* the pool's arrays hold FA_COMPILE_BATCH_MAX */
    CHECK(fa_compiler_new(&opts, &c, &err) == FA_INVALID && c == NULL);
}

int main(void)
{
    char tmp[512];
    unsetenv("FA_TUNE_TEMPLATES");
    unsetenv("FA_COMPILE_BATCH");
    test_log_split();
    fa_test_tmpdir(tmp, sizeof tmp, "batch");
    test_real_kernels();
    test_bad_variant_and_cache(tmp);
    fa_test_rmtree(tmp);
    return fa_test_done("test_batch");
}
