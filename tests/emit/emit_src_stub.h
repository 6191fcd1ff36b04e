/*
 * emit_src_stub.h -- the fixed C code of an emitted header (reports/emit_src/) around stub tables,
 * with a recording driver, for the programs that run it on the CPU: test_emit_src.c (the
 * documented answers) and tests/fuzz/fuzz_header.c (any input). Include it once, first:
 *   - the stub tables stand where fa_emit_render.c writes a database's: arch 0 ("sm80", cc 80)
 *     with 8 kernels -- sm80 (0, 1), sm90a persistent (2), two blocks a multiprocessor (7) and
 *     PackGQA ones -- and 4 entries; a decode table of one kernel and 3 entries;
 *   - the lookup, the decode lookup and both launchers are the emit_src files themselves;
 *   - cuTensorMapEncodeTiled and cuLaunchKernel record their arguments (enc[], launched,
 *     launches[]; a launch copies args_bytes of its argument, so set args_bytes to the size
 *     of the smallest argument a call may pass before launching kernels of several families).
 */
#ifndef FA_EMIT_SRC_STUB_H
#define FA_EMIT_SRC_STUB_H

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

#define FA_DISPATCH_MAX_KERNELS 8

/* Designated initializers: a column added to the tables (a family, a launch plan) leaves the
 * stub valid. */
static inline const fa_dispatch_arch *fa_dispatch_archs(int *n)
{
    static const fa_dispatch_arch archs[] = {
        {.name = "sm80",
         .cc = 80,
         .first_entry = 0,
         .num_entries = 4,
         .first_kernel = 0,
         .num_kernels = 8,
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
         .smem_bytes = 81920,
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
         .smem_bytes = 81920,
         .kernel = 1,
         .tflops = 90.0,
         .name = "e_bf16"},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .causal = 1,
         .gqa = 1,
         .bucket = 4096,
         .block_m = 192,
         .block_n = 128,
         .warps = 16,
         .stages = 2,
         .threads = 512,
         .smem_bytes = 230656,
         .kernel = 2,
         .tflops = 500.0,
         .name = "e_sm90a",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .persistent = 1},
        /* two blocks a multiprocessor: kernel 7, not kernel 6 (the same tiles with one) */
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 64,
         .causal = 1,
         .gqa = 1,
         .bucket = 512,
         .block_m = 128,
         .block_n = 64,
         .warps = 12,
         .stages = 2,
         .threads = 384,
         .smem_bytes = 50432,
         .kernel = 7,
         .tflops = 250.0,
         .name = "e_sm90a_x2",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .ctas = 2},
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
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .causal = 1,
         .block_m = 192,
         .block_n = 128,
         .warps = 16,
         .stages = 2,
         .threads = 512,
         .smem_bytes = 230656,
         .name = "k_sm90a",
         .symbol = "",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .persistent = 1},
        /* PackGQA 128 x 128 and its fallback (the same tiles without PackGQA); a PackGQA
           kernel without one */
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .block_m = 128,
         .block_n = 128,
         .warps = 12,
         .stages = 2,
         .threads = 384,
         .smem_bytes = 165120,
         .name = "k_sm90a_pg",
         .symbol = "",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .pack_gqa = 1,
         .fallback = 4},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .block_m = 128,
         .block_n = 128,
         .warps = 12,
         .stages = 2,
         .threads = 384,
         .smem_bytes = 165120,
         .name = "k_sm90a_twin",
         .symbol = "",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .fallback = -1},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .block_m = 128,
         .block_n = 128,
         .warps = 12,
         .stages = 2,
         .threads = 384,
         .smem_bytes = 165120,
         .name = "k_sm90a_pg_alone",
         .symbol = "",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .pack_gqa = 1,
         .fallback = -1},
        /* 128 x 64 at hd64 causal, one block a multiprocessor and two (ctas 2) */
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 64,
         .causal = 1,
         .block_m = 128,
         .block_n = 64,
         .warps = 12,
         .stages = 2,
         .threads = 384,
         .smem_bytes = 50432,
         .name = "k_sm90a_x1",
         .symbol = "",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .ctas = 1,
         .fallback = -1},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 64,
         .causal = 1,
         .block_m = 128,
         .block_n = 64,
         .warps = 12,
         .stages = 2,
         .threads = 384,
         .smem_bytes = 50432,
         .name = "k_sm90a_x2",
         .symbol = "",
         .family = FA_DISPATCH_FAMILY_SM90A,
         .ctas = 2,
         .fallback = -1},
    };
    if (n)
        *n = (int)(sizeof kernels / sizeof kernels[0]);
    return kernels;
}

#include "fa_dispatch_lookup.h"

/* A header with decode winners: the splitkv plan, the decode types, a stub decode table (two
 * rows of one kernel, auto and 8 splits; a causal row without a kernel; two gqa-32 rows of the
 * same kernel two cache buckets apart, 2 and 3 splits, so the bucket between them is a tie)
 * and the decode lookup. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include "decode/fa_plan_splitkv.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#include "fa_dispatch_decode_types.h"

#define FA_DISPATCH_MAX_DECODE_KERNELS 1

static inline const fa_dispatch_decode_arch *fa_dispatch_decode_archs(int *n)
{
    static const fa_dispatch_decode_arch archs[] = {
        {.first_entry = 0,
         .num_entries = 5,
         .first_kernel = 0,
         .num_kernels = 1,
         .defaults = {{32, 16, 64, 4, 3, 0},
                      {64, 16, 128, 4, 3, 0},
                      {96, 16, 64, 4, 3, 0},
                      {128, 16, 64, 4, 3, 0},
                      {192, 16, 64, 4, 3, 0},
                      {0}}}, /* hd 256: no default fits (the lookup says unsupported) */
    };
    if (n)
        *n = (int)(sizeof archs / sizeof archs[0]);
    return archs;
}

static inline const fa_dispatch_decode_entry *fa_dispatch_decode_entries(int *n)
{
    static const fa_dispatch_decode_entry entries[] = {
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .gqa = 4,
         .q_bucket = 1,
         .bucket = 4096,
         .block_m = 16,
         .block_n = 64,
         .warps = 4,
         .stages = 3,
         .splits = 0,
         .threads = 128,
         .smem_bytes = 103040,
         .kernel = 0,
         .name = "d_auto"},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .gqa = 4,
         .q_bucket = 1,
         .bucket = 131072,
         .block_m = 16,
         .block_n = 64,
         .warps = 4,
         .stages = 3,
         .splits = 8,
         .threads = 128,
         .smem_bytes = 103040,
         .kernel = 0,
         .name = "d_k8"},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .causal = 1,
         .gqa = 4,
         .q_bucket = 1,
         .bucket = 1024,
         .block_m = 32,
         .block_n = 64,
         .warps = 4,
         .stages = 2,
         .splits = 2,
         .threads = 128,
         .smem_bytes = 0,
         .kernel = -1,
         .name = "d_causal"},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .gqa = 32,
         .q_bucket = 1,
         .bucket = 4096,
         .block_m = 16,
         .block_n = 64,
         .warps = 4,
         .stages = 3,
         .splits = 2,
         .threads = 128,
         .smem_bytes = 103040,
         .kernel = 0,
         .name = "d_g32_4k"},
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .gqa = 32,
         .q_bucket = 1,
         .bucket = 16384,
         .block_m = 16,
         .block_n = 64,
         .warps = 4,
         .stages = 3,
         .splits = 3,
         .threads = 128,
         .smem_bytes = 103040,
         .kernel = 0,
         .name = "d_g32_16k"},
    };
    if (n)
        *n = (int)(sizeof entries / sizeof entries[0]);
    return entries;
}

static inline const fa_dispatch_decode_kernel *fa_dispatch_decode_kernels(int *n)
{
    static const fa_dispatch_decode_kernel kernels[] = {
        {.arch = 0,
         .dtype = FA_DISPATCH_BF16,
         .head_dim = 128,
         .block_m = 16,
         .block_n = 64,
         .warps = 4,
         .stages = 3,
         .threads = 128,
         .smem_bytes = 103040,
         .name = "dk",
         .symbol = "",
         .combine_symbol = ""},
    };
    if (n)
        *n = (int)(sizeof kernels / sizeof kernels[0]);
    return kernels;
}

#include "fa_dispatch_decode.h"

/* What the renderer puts before the sm90a launch: cuda.h (as the launcher includes it) and
 * templates/sm90a/fa_plan_sm90a.h. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include <cuda.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#include "sm90a/fa_plan_sm90a.h"

#include "fa_dispatch_plan_sm90a.h"

#include "fa_dispatch_launch.h"

#include "fa_dispatch_launch_decode.h"

/* ---- a recording driver: the two entry points the sm90a launch calls ---- */

typedef struct encoded {
    CUtensorMapDataType type;
    cuuint32_t rank;
    uint64_t base;
    cuuint64_t dims[5], strides[4];
    cuuint32_t box[5], elem[5];
    CUtensorMapInterleave interleave;
    CUtensorMapSwizzle swizzle;
    CUtensorMapL2promotion l2;
    CUtensorMapFloatOOBfill oob;
} encoded;
static encoded enc[3];
static int nenc;

CUresult cuTensorMapEncodeTiled(CUtensorMap *map, CUtensorMapDataType type, cuuint32_t rank,
                                void *base, const cuuint64_t *dims, const cuuint64_t *strides,
                                const cuuint32_t *box, const cuuint32_t *elem,
                                CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob)
{
    encoded *e = &enc[nenc % 3];
    cuuint32_t i;
    if (rank != 4 && rank != 5)
        return CUDA_ERROR_INVALID_VALUE;
    memset(e, 0, sizeof *e);
    e->type = type;
    e->rank = rank;
    e->base = (uint64_t)(uintptr_t)base;
    for (i = 0; i < rank; i++) {
        e->dims[i] = dims[i];
        e->box[i] = box[i];
        e->elem[i] = elem[i];
        if (i < rank - 1)
            e->strides[i] = strides[i];
    }
    e->interleave = interleave;
    e->swizzle = swizzle;
    e->l2 = l2;
    e->oob = oob;
    memset(map, 0xa0 + nenc, sizeof *map); /* which map landed where */
    nenc++;
    return CUDA_SUCCESS;
}

typedef struct launch_rec {
    CUfunction f;
    unsigned grid[3], block[3], smem;
    int pdl; /* through cuLaunchKernelEx with programmatic stream serialization */
    unsigned char args[FA_SM90A_ARGS_BYTES];
} launch_rec;
static launch_rec launched;    /* the last launch */
static launch_rec launches[4]; /* the launches since nlaunches was reset */
static int nlaunches;
static size_t args_bytes = FA_SM90A_ARGS_BYTES; /* the size of the launches' argument */

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned smem, CUstream stream, void **params,
                        void **extra)
{
    (void)stream;
    (void)extra;
    launched.f = f;
    launched.grid[0] = gx;
    launched.grid[1] = gy;
    launched.grid[2] = gz;
    launched.block[0] = bx;
    launched.block[1] = by;
    launched.block[2] = bz;
    launched.smem = smem;
    launched.pdl = 0;
    memcpy(launched.args, params[0], args_bytes);
    if (nlaunches < 4)
        launches[nlaunches] = launched;
    nlaunches++;
    return CUDA_SUCCESS;
}

/* Records as cuLaunchKernel does, with pdl set; any attribute but one programmatic stream
   serialization (value 1) is refused. */
CUresult cuLaunchKernelEx(const CUlaunchConfig *c, CUfunction f, void **params, void **extra)
{
    CUresult r;
    if (c->numAttrs != 1 ||
        c->attrs[0].id != CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION ||
        c->attrs[0].value.programmaticStreamSerializationAllowed != 1)
        return CUDA_ERROR_INVALID_VALUE;
    r = cuLaunchKernel(f, c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY,
                       c->blockDimZ, c->sharedMemBytes, c->hStream, params, extra);
    launched.pdl = 1;
    if (nlaunches <= 4)
        launches[nlaunches - 1].pdl = 1;
    return r;
}

#endif /* FA_EMIT_SRC_STUB_H */
