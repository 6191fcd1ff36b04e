/*
 * This file compiles the fixed C code of an emitted header from its source files
 * (reports/emit_src/, the text fa-tune emit copies into every header) on their own, as C99
 * with -Wall -Wextra -pedantic -Werror (tests/emit/CMakeLists.txt), with a stub table in the
 * place of the per-database tables that fa_emit_render.c writes. It then runs the lookup on
 * that table: one answer per step of the fallback chain, so a change to the source files
 * that breaks the lookup fails here before any golden file is looked at. The launcher
 * (fa_dispatch_launch.h) is compiled against cuda.h but not run: emit.example_embedded.fake_*
 * runs it through a fake driver.
 */
#include <stdio.h>
#include <string.h>

/* As the emitted header does: fa_params.h's _Static_assert is C11. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include "fa_params.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "fa_dispatch_types.h"

/* ---- the stub tables: what fa_emit_render.c writes per database ---- */

#define FA_DISPATCH_MAX_KERNELS 2

/* Designated initializers: a column added to the tables (a family, a launch plan) leaves the
 * stub valid. */
static inline const fa_dispatch_arch *fa_dispatch_archs(int *n)
{
    static const fa_dispatch_arch archs[] = {
        {.name = "sm80",
         .cc = 80,
         .first_entry = 0,
         .num_entries = 2,
         .first_kernel = 0,
         .num_kernels = 2,
         .defaults = {{32, 128, 128, 4, 2, 0},
                      {64, 128, 128, 4, 2, 0},
                      {96, 128, 64, 4, 2, 0},
                      {128, 128, 64, 4, 2, 0},
                      {192, 128, 64, 8, 2, 0},
                      {256, 64, 64, 4, 2, 0}}},
    };
    if (n)
        *n = (int)(sizeof archs / sizeof archs[0]);
    return archs;
}

static inline const fa_dispatch_entry *fa_dispatch_entries(int *n)
{
    static const fa_dispatch_entry entries[] = {
        {.arch = 0,
         .dtype = FA_DISPATCH_FP16,
         .head_dim = 64,
         .gqa = 1,
         .bucket = 2048,
         .block_m = 128,
         .block_n = 128,
         .warps = 4,
         .stages = 2,
         .threads = 128,
         .kernel = 0,
         .tflops = 100.0,
         .name = "e_fp16"},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .gqa = 1,
         .bucket = 1024,
         .block_m = 64,
         .block_n = 64,
         .warps = 4,
         .stages = 2,
         .threads = 128,
         .kernel = 1,
         .tflops = 90.0,
         .name = "e_bf16"},
    };
    if (n)
        *n = (int)(sizeof entries / sizeof entries[0]);
    return entries;
}

static inline const fa_dispatch_kernel *fa_dispatch_kernels(int *n)
{
    static const fa_dispatch_kernel kernels[] = {
        {.arch = 0,
         .dtype = FA_DISPATCH_FP16,
         .head_dim = 64,
         .block_m = 128,
         .block_n = 128,
         .warps = 4,
         .stages = 2,
         .threads = 128,
         .name = "k_fp16",
         .symbol = ""},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .block_m = 64,
         .block_n = 64,
         .warps = 4,
         .stages = 2,
         .threads = 128,
         .name = "k_bf16",
         .symbol = ""},
    };
    if (n)
        *n = (int)(sizeof kernels / sizeof kernels[0]);
    return kernels;
}

#include "fa_dispatch_lookup.h"

#include "fa_dispatch_launch.h"

static int failures;

static void expect(int line, int dtype, int hd, int causal, int gqa, int seqlen, int source,
                   int block_m, int kernel)
{
    fa_dispatch_choice c = fa_dispatch_lookup(86, dtype, hd, causal, 0, gqa, seqlen);
    if (c.source != source || c.block_m != block_m || c.kernel != kernel ||
        (source >= 0 && (c.arch != 0 || c.cc != 80 || c.threads != c.warps * 32 ||
                         c.smem_bytes != FA_SM80_SMEM_BYTES(hd, c.block_m, c.block_n, c.stages)))) {
        failures++;
        fprintf(stderr, "line %d: got %s block_m %d kernel %d; expected %s block_m %d kernel %d\n",
                line, fa_dispatch_source_name(c.source), c.block_m, c.kernel,
                fa_dispatch_source_name(source), block_m, kernel);
    }
}

int main(void)
{
    fa_fwd_params p;
    expect(__LINE__, FA_DISPATCH_FP16, 64, 0, 1, 2048, FA_DISPATCH_EXACT, 128, 0);
    expect(__LINE__, FA_DISPATCH_FP16, 64, 0, 1, 100, FA_DISPATCH_NEAREST_BUCKET, 128, 0);
    expect(__LINE__, FA_DISPATCH_BF16, 128, 0, 4, 1024, FA_DISPATCH_NEAREST_GQA, 64, 1);
    expect(__LINE__, FA_DISPATCH_FP16, 128, 0, 1, 1024, FA_DISPATCH_SAME_HEAD_DIM, 64, -1);
    expect(__LINE__, FA_DISPATCH_BF16, 256, 0, 1, 1024, FA_DISPATCH_DEFAULT, 64, -1);
    expect(__LINE__, FA_DISPATCH_BF16, 80, 0, 1, 1024, FA_DISPATCH_UNSUPPORTED, 0, -1);
    expect(__LINE__, 7, 64, 0, 1, 1024, FA_DISPATCH_UNSUPPORTED, 0, -1);
    /* No arch of the same major: the highest below, else the lowest. */
    if (fa_dispatch_select_arch(90) != 0 || fa_dispatch_select_arch(75) != 0 ||
        fa_dispatch_select_cubin_arch(90) != -1 || fa_dispatch_select_cubin_arch(86) != 0) {
        failures++;
        fprintf(stderr, "arch selection\n");
    }
    fa_dispatch_params_bshd(&p, 1, 2, 3, 4, 5, 2, 8, 2, 100, 300, 64, 0.125f);
    if (p.q_row_stride != 8 * 64 || p.k_batch_stride != 300 * 2 * 64 || p.lse_head_stride != 100 ||
        p.softmax_scale_log2 != 0.125f * 1.44269504088896340736f) {
        failures++;
        fprintf(stderr, "params_bshd strides\n");
    }
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("emit_src: the header's source files compile as C99 and look up as documented\n");
    return failures != 0;
}
